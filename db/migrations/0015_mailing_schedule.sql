-- Weekly campaigns (issue 14): "the same weekday and hour every week", in the shop's time zone.
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

SELECT public.cb_secure();
