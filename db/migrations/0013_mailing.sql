-- Mailing (issue 14): what the tables of 0001 lacked for templates that are checked when saved, campaigns
-- with an audience, and a queue that survives a worker killed at any moment.

-- Templates: the HTML part and the call to action's label, and the fields the template uses without a
-- default (found when it is saved, tui/mailing/render.py), so that enqueueing skips a client who lacks
-- one in the same INSERT ... SELECT instead of rendering a million templates.
ALTER TABLE public.template
    ADD COLUMN html_body text NOT NULL DEFAULT '',
    ADD COLUMN cta_label text NOT NULL DEFAULT '',
    ADD COLUMN required_fields text[] NOT NULL DEFAULT '{}';
GRANT INSERT (html_body, cta_label, required_fields), UPDATE (html_body, cta_label, required_fields)
    ON public.template TO clientbase_admin;

-- Campaigns: the issue names the running state "sending"; the audience is the saved filter copied when
-- the campaign is made (NULL: every client), so editing the segment later does not move a running
-- campaign's audience; a campaign that paused itself says why.
ALTER TABLE public.campaign DROP CONSTRAINT campaign_status_check;
UPDATE public.campaign SET status = 'sending' WHERE status = 'running';
ALTER TABLE public.campaign
    ADD CONSTRAINT campaign_status_check
        CHECK (status IN ('draft', 'scheduled', 'sending', 'paused', 'cancelled', 'done')),
    ADD COLUMN audience jsonb,
    ADD COLUMN paused_reason text NOT NULL DEFAULT '';
GRANT INSERT (audience, paused_reason), UPDATE (audience, paused_reason) ON public.campaign TO clientbase_admin;

-- The queue: a lease carries a random token, so a worker whose lease expired and was taken over cannot
-- mark a message it no longer owns; the server's last reply is kept for "did this client get it?".
ALTER TABLE public.message
    ADD COLUMN lease_token uuid,
    ADD COLUMN last_reply text;
GRANT UPDATE (lease_token, last_reply) ON public.message TO clientbase_mailer;
-- Counting a campaign's progress reads only its own rows.
CREATE INDEX message_campaign_status ON public.message (campaign_id, status);
-- The frequency cap and bounce counts look messages up by address.
CREATE INDEX message_address ON public.message (channel, address);

-- The lease and the last reply are delivery state like the rest (0010); the three tables gained columns,
-- so their audit and bookkeeping triggers are attached again over the new column lists.
CREATE OR REPLACE FUNCTION public.cb_unaudited_columns(table_name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN table_name = 'message'
            THEN ARRAY['status', 'skip_reason', 'attempts', 'not_before', 'lease_until', 'leased_by', 'sent_at',
                       'error', 'created_at', 'lease_token', 'last_reply']
            ELSE ARRAY[]::text[] END;
SELECT public.cb_audit_table('public.template');
SELECT public.cb_audit_table('public.campaign');
SELECT public.cb_audit_table('public.message', 1000);

-- What the definer functions below touch, and no more.
GRANT SELECT ON public.message, public.campaign, public.purchase_line, public.product TO clientbase_owner;
GRANT INSERT ON public.suppression TO clientbase_owner;
GRANT UPDATE (status, paused_reason) ON public.campaign TO clientbase_owner;
DO $$
BEGIN
    GRANT EXECUTE ON FUNCTION pg_catalog.pg_advisory_xact_lock(bigint) TO clientbase_owner;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;  -- a database initialised without a superuser left advisory locks open to everyone (0008)
END $$;

-- The client's most bought product, for templates. The mailer may not read purchases; this gives it the
-- one name rendering needs.
CREATE FUNCTION public.mailing_favourite_product(client bigint) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT pr.name
      FROM public.purchase p
      JOIN public.purchase_line l ON l.purchase_id = p.id
      JOIN public.product pr ON pr.id = l.product_id
     WHERE p.client_id = client
     GROUP BY pr.id, pr.name
     ORDER BY sum(l.quantity) DESC, max(p.purchased_at) DESC, pr.id
     LIMIT 1
$$;

-- Claims take turns: the frequency cap counts other campaigns' messages being sent, which a concurrent
-- claim could not see before its commit. A claim lasts milliseconds, so the turn costs little.
CREATE FUNCTION public.mailing_claim_turn() RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT pg_catalog.pg_advisory_xact_lock(7301401300)
$$;

-- An address that hard-bounced `threshold` times is suppressed. The mailer may not write the suppression
-- list; it may ask, and the function checks the bounces itself.
CREATE FUNCTION public.mailing_suppress_bounced(bounced_channel text, bounced_address text, threshold integer)
    RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF (SELECT count(*) FROM public.message
         WHERE channel = bounced_channel AND address = bounced_address AND status = 'failed'
           AND last_reply ~ '^5') < greatest(threshold, 1) THEN
        RETURN false;
    END IF;
    INSERT INTO public.suppression (channel, address, reason)
    VALUES (bounced_channel, bounced_address, 'bounced') ON CONFLICT (channel, address) DO NOTHING;
    RETURN true;
END $$;

-- An unsubscribe (the CLI, the one-click service running as the mailer) suppresses at once.
CREATE FUNCTION public.mailing_unsubscribe(unsubscribed_channel text, unsubscribed_address text)
    RETURNS boolean LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    INSERT INTO public.suppression (channel, address, reason)
    VALUES (unsubscribed_channel, lower(btrim(unsubscribed_address)), 'unsubscribed')
    ON CONFLICT (channel, address) DO NOTHING
    RETURNING true
$$;

-- A campaign whose failures pass `threshold` (a share of what was attempted, after at least `minimum`
-- attempts) pauses itself and says why; the function computes the rate, the caller cannot pause at will.
CREATE FUNCTION public.mailing_pause_on_errors(checked bigint, threshold numeric, minimum integer)
    RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    failed bigint;
    attempted bigint;
BEGIN
    SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status IN ('failed', 'sent'))
      INTO failed, attempted
      FROM public.message WHERE campaign_id = checked;
    IF attempted < greatest(minimum, 1) OR failed::numeric / attempted < threshold THEN
        RETURN false;
    END IF;
    UPDATE public.campaign
       SET status = 'paused',
           paused_reason = format('%s of %s messages failed (%s%%)', failed, attempted,
                                  round(100.0 * failed / attempted))
     WHERE id = checked AND status IN ('sending', 'scheduled');
    RETURN FOUND;
END $$;

-- A scheduled campaign whose time has come is sending; a sending one with nothing left to send is done.
CREATE FUNCTION public.mailing_settle(checked bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE public.campaign SET status = 'sending'
     WHERE id = checked AND status = 'scheduled' AND scheduled_at <= now();
    UPDATE public.campaign c SET status = 'done'
     WHERE c.id = checked AND c.status IN ('sending', 'scheduled')
       AND NOT EXISTS (SELECT 1 FROM public.message m
                        WHERE m.campaign_id = c.id AND m.status IN ('queued', 'sending'))
$$;

-- A campaign's progress, counted: salespeople read campaigns but not the queue (who got what), so they get
-- the counts through this and nothing else.
CREATE FUNCTION public.mailing_progress(counted bigint)
    RETURNS TABLE (status text, skip_reason text, messages bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT m.status, m.skip_reason, count(*) FROM public.message m WHERE m.campaign_id = counted
     GROUP BY m.status, m.skip_reason
$$;
REVOKE ALL ON FUNCTION public.mailing_progress(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.mailing_progress(bigint)
    TO clientbase_admin, clientbase_manager, clientbase_sales, clientbase_mailer;

DO $$
DECLARE
    granted regprocedure;
BEGIN
    FOREACH granted IN ARRAY ARRAY['public.mailing_favourite_product(bigint)', 'public.mailing_claim_turn()',
            'public.mailing_suppress_bounced(text, text, integer)', 'public.mailing_unsubscribe(text, text)',
            'public.mailing_pause_on_errors(bigint, numeric, integer)',
            'public.mailing_settle(bigint)']::regprocedure[] LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', granted);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO clientbase_admin, clientbase_mailer', granted);
    END LOOP;
END $$;

SELECT public.cb_secure();
