-- What the second psql probe found open (tests/test_security_probe_2.py; each test was a strict xfail before this).

-- 1. The mailer paused any campaign by calling the pause with a threshold of its own (0, or NULL): a threshold
-- must now make sense, and a campaign with no failure is never paused.
CREATE OR REPLACE FUNCTION public.mailing_pause_on_errors(checked bigint, threshold numeric, minimum integer)
    RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    failed bigint;
    attempted bigint;
BEGIN
    -- A threshold outside (0, 1] or a missing one pauses nothing.
    IF threshold IS NULL OR minimum IS NULL OR threshold <= 0 OR threshold > 1 THEN
        RETURN false;
    END IF;
    SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status IN ('failed', 'sent'))
      INTO failed, attempted
      FROM public.message WHERE campaign_id = checked;
    IF failed = 0 OR attempted < minimum OR failed::numeric / attempted < threshold THEN
        RETURN false;
    END IF;
    UPDATE public.campaign
       SET status = 'paused',
           paused_reason = format('%s of %s messages failed (%s%%)', failed, attempted,
                                  round(100.0 * failed / attempted))
     WHERE id = checked AND status IN ('sending', 'scheduled');
    RETURN FOUND;
END $$;

DO $$
BEGIN
    GRANT EXECUTE ON FUNCTION pg_catalog.pg_try_advisory_xact_lock(bigint) TO clientbase_owner;
EXCEPTION WHEN insufficient_privilege THEN
    NULL;  -- a database initialised without a superuser left advisory locks open to everyone (0008)
END $$;

-- 2. A reader who refreshed a campaign's results inside an open transaction held its result rows until the
-- idle timeout, and every other refresh of that campaign waited. A refresh that finds another one running
-- skips: the stored figures stay as they are, and the next refresh computes them.
CREATE OR REPLACE FUNCTION public.campaign_results_refresh(campaign bigint) RETURNS void LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    first_sent timestamptz;
    last_sent timestamptz;
    computed timestamptz;
BEGIN
    IF NOT (pg_catalog.pg_has_role(session_user, 'clientbase_admin', 'MEMBER')
            OR pg_catalog.pg_has_role(session_user, 'clientbase_manager', 'MEMBER')
            OR pg_catalog.pg_has_role(session_user, 'clientbase_sales', 'MEMBER')) THEN
        RAISE EXCEPTION 'only a login that reads campaigns may refresh their results'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- 7301402000: this refresh's own lock space (the app's other advisory locks are 73014013xx).
    IF campaign IS NULL OR NOT pg_catalog.pg_try_advisory_xact_lock(7301402000 # (campaign % 1000000007)) THEN
        RETURN;
    END IF;
    PERFORM 1 FROM public.campaign_result r WHERE r.campaign_id = campaign FOR UPDATE SKIP LOCKED;
    SELECT min(m.sent_at), max(m.sent_at) INTO first_sent, last_sent
      FROM public.message m WHERE m.campaign_id = campaign AND m.status = 'sent';
    computed := pg_catalog.clock_timestamp();
    INSERT INTO public.campaign_result (campaign_id, arm, days, recipients, sent, failed, unsubscribed, buyers,
                                        revenue, first_sent_at, last_sent_at, computed_at)
    SELECT campaign, c.arm, c.days, c.recipients, c.sent, c.failed, c.unsubscribed, c.buyers, c.revenue,
           first_sent, last_sent, computed
      FROM public.campaign_results_compute(campaign) c
    ON CONFLICT (campaign_id, arm, days) DO UPDATE
       SET recipients = excluded.recipients, sent = excluded.sent, failed = excluded.failed,
           unsubscribed = excluded.unsubscribed, buyers = excluded.buyers, revenue = excluded.revenue,
           first_sent_at = excluded.first_sent_at, last_sent_at = excluded.last_sent_at,
           computed_at = excluded.computed_at;
    DELETE FROM public.campaign_result r WHERE r.campaign_id = campaign AND r.computed_at < computed;
END $$;

-- 3. A message's end is final. The mailer's UPDATE (status) took any state to any other: a sent message queued
-- again went out twice, and a held-back client of a split test was mailed. Sent, failed, skipped and cancelled
-- now stay as they are; only a queued or sending message moves (a claim, a mark, a 4xx retry, a released
-- lease). The WHEN clause holds the rule, so a lawful update (every mark of the sender) calls no function.
CREATE FUNCTION public.message_status_refused() RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'check_violation',
        MESSAGE = format('a message that is %s cannot become %s', OLD.status, NEW.status);
END $$;
REVOKE ALL ON FUNCTION public.message_status_refused() FROM PUBLIC;
CREATE TRIGGER message_status_final BEFORE UPDATE OF status ON public.message
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND OLD.status NOT IN ('queued', 'sending'))
    EXECUTE FUNCTION public.message_status_refused();

-- 4. A message could name another campaign's arm, which 0019's clean-up on the arm's deletion did not reach:
-- an arm is its own campaign's.
CREATE OR REPLACE FUNCTION public.message_parents_exist() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    missing bigint;
BEGIN
    -- Ids in one order, so that two inserts never wait on each other's locks crosswise.
    PERFORM 1 FROM public.campaign c
      WHERE c.id IN (SELECT n.campaign_id FROM new_rows n) ORDER BY c.id FOR KEY SHARE OF c;
    SELECT n.campaign_id INTO missing FROM (SELECT DISTINCT campaign_id FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM public.campaign c WHERE c.id = n.campaign_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('message names campaign %s, which does not exist', missing);
    END IF;
    PERFORM 1 FROM public.campaign_variant v
      WHERE v.id IN (SELECT n.variant_id FROM new_rows n) ORDER BY v.id FOR KEY SHARE OF v;
    SELECT n.variant_id INTO missing
      FROM (SELECT DISTINCT campaign_id, variant_id FROM new_rows WHERE variant_id IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM public.campaign_variant v
                        WHERE v.id = n.variant_id AND v.campaign_id = n.campaign_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('message names campaign arm %s, which is not its campaign''s', missing);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.message_parents_exist_row() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM public.campaign c WHERE c.id = NEW.campaign_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('message names campaign %s, which does not exist', NEW.campaign_id);
    END IF;
    IF NEW.variant_id IS NOT NULL THEN
        PERFORM 1 FROM public.campaign_variant v
         WHERE v.id = NEW.variant_id AND v.campaign_id = NEW.campaign_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                MESSAGE = format('message names campaign arm %s, which is not its campaign''s', NEW.variant_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- 5. Forgetting a client.
-- Whether a row named in the audit log now belongs to a client other than `client` (a row filed under the
-- wrong client and moved). Each table is read by its primary key; nothing is built from the values.
CREATE FUNCTION public.cb_row_is_another_clients(table_name text, row_id text, client bigint) RETURNS boolean
    LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT CASE WHEN row_id IS NULL OR row_id !~ '^[0-9]{1,18}$' THEN false ELSE coalesce(CASE table_name
        WHEN 'contact_point' THEN (SELECT r.client_id <> client FROM public.contact_point r WHERE r.id = row_id::bigint)
        WHEN 'relative' THEN (SELECT r.client_id <> client FROM public.relative r WHERE r.id = row_id::bigint)
        WHEN 'interaction' THEN (SELECT r.client_id <> client FROM public.interaction r WHERE r.id = row_id::bigint)
        WHEN 'reminder' THEN (SELECT r.client_id <> client FROM public.reminder r WHERE r.id = row_id::bigint)
        WHEN 'subscription' THEN (SELECT r.client_id <> client FROM public.subscription r WHERE r.id = row_id::bigint)
        WHEN 'purchase' THEN (SELECT r.client_id <> client FROM public.purchase r WHERE r.id = row_id::bigint)
        WHEN 'message' THEN (SELECT r.client_id <> client FROM public.message r WHERE r.id = row_id::bigint)
        WHEN 'purchase_line' THEN (SELECT p.client_id <> client FROM public.purchase_line l
                                     JOIN public.purchase p ON p.id = l.purchase_id WHERE l.id = row_id::bigint)
    END, false) END
$$;
REVOKE ALL ON FUNCTION public.cb_row_is_another_clients(text, text, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.cb_row_is_another_clients(text, text, bigint) TO clientbase_owner;

-- Forgetting cancels what is still queued for the person.
GRANT UPDATE (status) ON public.message TO clientbase_owner;

CREATE OR REPLACE FUNCTION public.client_forget(forgotten bigint) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    addresses text[];
    owned_tables text[];
    owned_ids text[];
BEGIN
    IF NOT pg_catalog.pg_has_role(session_user, 'clientbase_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'only an administrator may forget a client' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM 1 FROM public.client WHERE id = forgotten FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no client %', forgotten USING ERRCODE = 'no_data_found';
    END IF;

    -- Every address the person ever had: the current ones and those the audit log remembers (audit_log_client
    -- of 0016 finds the client's audit rows, whatever the log's size).
    SELECT array_agg(DISTINCT address) INTO addresses FROM (
        SELECT cp.normalized AS address FROM public.contact_point cp WHERE cp.client_id = forgotten
        UNION ALL SELECT cp.value FROM public.contact_point cp WHERE cp.client_id = forgotten
        UNION ALL SELECT m.address FROM public.message m WHERE m.client_id = forgotten
        UNION ALL SELECT v.value ->> k.key FROM public.audit_log a,
                         LATERAL (VALUES (a.old_values), (a.new_values)) v(value),
                         LATERAL (VALUES ('normalized'), ('value'), ('address')) k(key)
         WHERE public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values) = forgotten
           AND a.table_name IN ('contact_point', 'message')) known
     WHERE address IS NOT NULL AND address <> '';

    -- Every row of theirs, existing or deleted: an audit row of an update names only the changed columns, so
    -- it is found by its row's id (audit_log_row), which the row's insert or delete row ties to the client.
    SELECT array_agg(owned_table), array_agg(owned_id) INTO owned_tables, owned_ids FROM (
        SELECT a.table_name AS owned_table, a.row_id AS owned_id FROM public.audit_log a
         WHERE public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values) = forgotten
           AND a.table_name <> 'client' AND a.row_id IS NOT NULL
           -- A row filed under this client by mistake and moved to its owner is the owner's, with its history;
           -- only the audit rows that named this client go (the first DELETE below).
           AND NOT public.cb_row_is_another_clients(a.table_name, a.row_id, forgotten)
        UNION SELECT 'contact_point', id::text FROM public.contact_point WHERE client_id = forgotten
        UNION SELECT 'relative', id::text FROM public.relative WHERE client_id = forgotten
        UNION SELECT 'interaction', id::text FROM public.interaction WHERE client_id = forgotten
        UNION SELECT 'reminder', id::text FROM public.reminder WHERE client_id = forgotten
        UNION SELECT 'subscription', id::text FROM public.subscription WHERE client_id = forgotten
        UNION SELECT 'purchase', id::text FROM public.purchase WHERE client_id = forgotten
        UNION SELECT 'message', id::text FROM public.message WHERE client_id = forgotten
        UNION SELECT 'purchase_line', l.id::text
                FROM public.purchase_line l JOIN public.purchase p ON p.id = l.purchase_id
               WHERE p.client_id = forgotten
        -- Lines replaced when a purchase was corrected: their audit rows know only the purchase.
        UNION SELECT 'purchase_line', a.row_id FROM public.audit_log a
               WHERE a.table_name = 'purchase_line' AND a.row_id IS NOT NULL
                 AND coalesce(a.old_values ->> 'purchase_id', a.new_values ->> 'purchase_id') IN (
                     SELECT p.id::text FROM public.purchase p WHERE p.client_id = forgotten)) mine;

    DELETE FROM public.contact_point WHERE client_id = forgotten;
    DELETE FROM public.relative WHERE client_id = forgotten;
    DELETE FROM public.interaction WHERE client_id = forgotten;
    DELETE FROM public.reminder WHERE client_id = forgotten;
    -- The greetings already sent, by occasion: a child's birthday is one (0017).
    DELETE FROM public.trigger_occasion WHERE client_id = forgotten;
    -- A refusal stays while another client's contact point holds the address (a family e-mail): erasing it
    -- would mail them again. The person's contact points are gone by now, so any match is someone else's.
    DELETE FROM public.suppression s WHERE s.address = ANY (coalesce(addresses, '{}'))
       AND NOT EXISTS (SELECT 1 FROM public.contact_point cp
                        WHERE cp.normalized = s.address OR cp.value = s.address);
    UPDATE public.purchase SET note = '' WHERE client_id = forgotten AND note <> '';
    UPDATE public.subscription SET note = '' WHERE client_id = forgotten AND note <> '';
    -- A greeting's values (0017) name the client's children.
    -- Greetings and service messages stop only at a recorded refusal, which forgetting records none of: what
    -- is still to send is cancelled, or the anonymous stub would be rendered and sent to ''.
    UPDATE public.message SET status = 'cancelled' WHERE client_id = forgotten AND status IN ('queued', 'sending');
    UPDATE public.message SET address = '', error = NULL, last_reply = NULL, extra = '{}' WHERE client_id = forgotten;
    -- The stub keeps what the analytics count (the purchases and their statistics) and nothing that names,
    -- locates or describes the person.
    UPDATE public.client
       SET kind = 'person', last_name = '—', first_name = '', middle_name = '', gender = NULL, birth_date = NULL,
           company_id = NULL, position = '', region = '', city = '', address = '', postal_address = '',
           tags = '{}', notes = '', source = '', referred_by_id = NULL, consent_email = false,
           consent_email_at = NULL, consent_email_source = '', consent_sms = false, consent_sms_at = NULL,
           consent_sms_source = '', custom = '{}', external_key = NULL,
           archived_at = coalesce(archived_at, now()), forgotten_at = now()
     WHERE id = forgotten;

    -- Last, so that the rows the statements above just wrote go too.
    DELETE FROM public.audit_log a
     WHERE public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values) = forgotten;
    DELETE FROM public.audit_log a
     USING unnest(coalesce(owned_tables, '{}'), coalesce(owned_ids, '{}')) o(owned_table, owned_id)
     WHERE a.table_name = o.owned_table AND a.row_id = o.owned_id;
    DELETE FROM public.audit_log a
     WHERE a.table_name = 'suppression'
       AND (a.old_values ->> 'address' = ANY (coalesce(addresses, '{}'))
            OR a.new_values ->> 'address' = ANY (coalesce(addresses, '{}')));
    INSERT INTO public.audit_log (login, table_name, row_id, action)
    VALUES (session_user, 'client', forgotten::text, 'forget');
END $$;
REVOKE ALL ON FUNCTION public.client_forget(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.client_forget(bigint) TO clientbase_admin;

-- A write that waited on client_forget's row lock (a contact typed on the card as the person was forgotten)
-- landed on the anonymous stub once forget committed, and the person's data was back. Nothing new may name a
-- forgotten client. A statement trigger: an import of a million purchases pays one join, not a call per row;
-- it runs after the foreign-key checks, which waited for the forgetting transaction, and its query sees what
-- that transaction committed.
CREATE FUNCTION public.cb_refuse_forgotten_client() RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    named bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT c.id INTO named FROM (SELECT DISTINCT client_id FROM new_rows) n
          JOIN public.client c ON c.id = n.client_id WHERE c.forgotten_at IS NOT NULL LIMIT 1;
    ELSE
        SELECT c.id INTO named FROM new_rows n JOIN old_rows o ON o.id = n.id
          JOIN public.client c ON c.id = n.client_id
         WHERE n.client_id IS DISTINCT FROM o.client_id AND c.forgotten_at IS NOT NULL LIMIT 1;
    END IF;
    IF named IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'check_violation',
            MESSAGE = format('client %s was forgotten at their request: nothing new may be recorded for them', named);
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION public.cb_refuse_forgotten_client() FROM PUBLIC;
DO $$
DECLARE
    guarded text;
BEGIN
    FOREACH guarded IN ARRAY ARRAY['contact_point', 'relative', 'interaction', 'reminder', 'subscription',
                                   'purchase'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON public.%I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION public.cb_refuse_forgotten_client()',
                       guarded || '_not_forgotten_insert', guarded);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON public.%I REFERENCING OLD TABLE AS old_rows '
                       'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.cb_refuse_forgotten_client()',
                       guarded || '_not_forgotten_update', guarded);
    END LOOP;
END $$;

SELECT public.cb_secure();
