-- Weekly campaigns (issue 14): "the same weekday and hour every week", in the shop's time zone; and a campaign's
-- progress kept counted (message_tally, at the end).
--
-- A weekly campaign is a parent that never holds messages itself: each occurrence is a child campaign of
-- its own, made when the occurrence comes (db/mailing/campaigns.py, tick). So "unique per (campaign,
-- client)" still means "nobody gets one mailing twice" while everyone gets each week's, every occurrence
-- enqueues the audience as it is that week, and each occurrence's progress is counted on its own.
ALTER TABLE public.campaign
    ADD COLUMN weekly_day smallint CHECK (weekly_day BETWEEN 0 AND 6),  -- 0 = Monday, as Python's weekday()
    ADD COLUMN weekly_time time,  -- the shop's wall clock, so the hour stays put across a DST change
    ADD COLUMN next_run_at timestamptz,
    ADD COLUMN parent_id bigint REFERENCES public.campaign (id) ON DELETE CASCADE,
    ADD COLUMN occurrence timestamptz,
    ADD CONSTRAINT campaign_weekly_whole CHECK ((weekly_day IS NULL) = (weekly_time IS NULL)),
    ADD CONSTRAINT campaign_occurrence_of_parent CHECK ((parent_id IS NULL) = (occurrence IS NULL)),
    ADD CONSTRAINT campaign_weekly_is_not_an_occurrence CHECK (weekly_day IS NULL OR parent_id IS NULL),
    -- Two senders ticking at once, or one restarted, cannot make one occurrence twice.
    ADD CONSTRAINT campaign_one_per_occurrence UNIQUE (parent_id, occurrence);
GRANT INSERT (weekly_day, weekly_time, next_run_at, parent_id, occurrence),
      UPDATE (weekly_day, weekly_time, next_run_at) ON public.campaign TO clientbase_admin;
-- The tick's due check reads the few weekly campaigns only.
CREATE INDEX campaign_weekly_due ON public.campaign (next_run_at) WHERE weekly_day IS NOT NULL;

-- Moving the next occurrence on is the schedule's own bookkeeping, once a week per campaign: not an edit.
CREATE OR REPLACE FUNCTION public.cb_unaudited_columns(table_name text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN table_name = 'message'
            THEN ARRAY['status', 'skip_reason', 'attempts', 'not_before', 'lease_until', 'leased_by', 'sent_at',
                       'error', 'created_at', 'lease_token', 'last_reply']
            WHEN table_name = 'campaign' THEN ARRAY['next_run_at']
            ELSE ARRAY[]::text[] END;
SELECT public.cb_audit_table('public.campaign');

-- A weekly parent holds no messages, so "nothing left to send" must not make it done: it runs until it is
-- cancelled. Otherwise as in 0013.
CREATE OR REPLACE FUNCTION public.mailing_settle(checked bigint) RETURNS void
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE public.campaign SET status = 'sending'
     WHERE id = checked AND status = 'scheduled' AND scheduled_at <= now() AND weekly_day IS NULL;
    UPDATE public.campaign c SET status = 'done'
     WHERE c.id = checked AND c.status IN ('sending', 'scheduled') AND c.weekly_day IS NULL
       AND NOT EXISTS (SELECT 1 FROM public.message m
                        WHERE m.campaign_id = c.id AND m.status IN ('queued', 'sending'))
$$;

-- Enqueueing a million clients wrote a million entries into every index of the queue, most of them for rows
-- no lookup reads. Each index now holds only the rows its query asks for: the frequency cap reads messages
-- sent or being sent (queue.claim counts both), the bounce count failed ones, and "is anything left to send" (mailing_settle, cancel) the
-- open ones; the progress counts come from the tally below, not from the queue's rows.
DROP INDEX public.message_client_sent;
CREATE INDEX message_client_sent ON public.message (client_id, sent_at) WHERE status IN ('sent', 'sending');
DROP INDEX public.message_address;
CREATE INDEX message_address_failed ON public.message (channel, address) WHERE status = 'failed';
DROP INDEX public.message_campaign_status;
CREATE INDEX message_campaign_open ON public.message (campaign_id) WHERE status IN ('queued', 'sending');
-- A claim takes the first due messages by (not_before, id); with not_before alone in the index, every
-- message enqueued in one statement shares one not_before, and each claim sorted all of them by id (1.5 s per
-- claim with 450,000 queued).
DROP INDEX public.message_ready;
CREATE INDEX message_ready ON public.message (not_before, id) WHERE status IN ('queued', 'sending');

-- A campaign's progress, kept counted (issue 14: the progress view refreshes in under 100 ms; counting a
-- million-message campaign's rows took longer). Every change of the queue adds its difference here, per
-- statement, so an enqueue of a million rows is one aggregate. Each backend writes its own slot, so that
-- four workers marking messages sent do not queue behind one counter row until each other's commit.
CREATE TABLE public.message_tally (
    campaign_id bigint NOT NULL REFERENCES public.campaign (id) ON DELETE CASCADE,
    status      text NOT NULL,
    skip_reason text NOT NULL DEFAULT '',
    slot        smallint NOT NULL,
    messages    bigint NOT NULL,
    PRIMARY KEY (campaign_id, status, skip_reason, slot)
);
REVOKE ALL ON public.message_tally FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON public.message_tally TO clientbase_owner;

CREATE FUNCTION public.mailing_tally() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    -- The rows in one order, so that two statements never wait on each other's counters crosswise.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO public.message_tally AS t (campaign_id, status, skip_reason, slot, messages)
        SELECT n.campaign_id, n.status, coalesce(n.skip_reason, ''), pg_backend_pid() % 8, count(*)
          FROM new_rows n GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, status, skip_reason, slot) DO UPDATE SET messages = t.messages + excluded.messages;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO public.message_tally AS t (campaign_id, status, skip_reason, slot, messages)
        SELECT d.campaign_id, d.status, d.skip_reason, pg_backend_pid() % 8, sum(d.delta)
          FROM (SELECT n.campaign_id, n.status, coalesce(n.skip_reason, '') AS skip_reason, 1 AS delta
                  FROM new_rows n
                UNION ALL
                SELECT o.campaign_id, o.status, coalesce(o.skip_reason, ''), -1 FROM old_rows o) d
         GROUP BY 1, 2, 3 HAVING sum(d.delta) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, status, skip_reason, slot) DO UPDATE SET messages = t.messages + excluded.messages;
    ELSE
        INSERT INTO public.message_tally AS t (campaign_id, status, skip_reason, slot, messages)
        SELECT o.campaign_id, o.status, coalesce(o.skip_reason, ''), pg_backend_pid() % 8, -count(*)
          FROM old_rows o WHERE EXISTS (SELECT 1 FROM public.campaign c WHERE c.id = o.campaign_id)
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, status, skip_reason, slot) DO UPDATE SET messages = t.messages + excluded.messages;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION public.mailing_tally() FROM PUBLIC;
CREATE TRIGGER message_tally_insert AFTER INSERT ON public.message
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.mailing_tally();
CREATE TRIGGER message_tally_update AFTER UPDATE ON public.message
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.mailing_tally();
CREATE TRIGGER message_tally_delete AFTER DELETE ON public.message
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.mailing_tally();
INSERT INTO public.message_tally (campaign_id, status, skip_reason, slot, messages)
SELECT campaign_id, status, coalesce(skip_reason, ''), 0, count(*) FROM public.message GROUP BY 1, 2, 3;

-- Counted from the tally; the statement and its rights are 0013's.
CREATE OR REPLACE FUNCTION public.mailing_progress(counted bigint)
    RETURNS TABLE (status text, skip_reason text, messages bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT t.status, nullif(t.skip_reason, ''), sum(t.messages)::bigint FROM public.message_tally t
     WHERE t.campaign_id = counted
     GROUP BY t.status, t.skip_reason HAVING sum(t.messages) <> 0
$$;

SELECT public.cb_secure();
