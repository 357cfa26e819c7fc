-- A split campaign's 30/60/90-day results, stored (issue 15's benchmark: the results view under 300 ms). The
-- computation over the recipients' purchases takes seconds on a large base, so it runs once when the stored
-- figures are stale (db/mailing/splits.py says when) and the view reads this small table.

-- The computation itself, one row per arm and window; db/mailing/splits.py reads it live too (the bench's
-- bare SQL, and a reading login's view when nothing is stored yet). Each arm's recipients are its sent
-- messages; the holdout's are the messages held back. A recipient's clock starts when their message was sent;
-- a held-back client's when the campaign's first message went out, the moment they would have had theirs.
-- purchase_client_date serves the window sums per client.
CREATE FUNCTION public.campaign_results_compute(campaign bigint)
    RETURNS TABLE (arm text, days integer, recipients bigint, sent bigint, failed bigint, unsubscribed bigint,
                   buyers bigint, revenue numeric)
    LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
WITH first AS (SELECT min(sent_at) AS at FROM public.message WHERE campaign_id = campaign AND status = 'sent'),
recipient AS (
    SELECT m.client_id, m.channel, m.address, m.status,
           CASE WHEN m.skip_reason = 'holdout' THEN 'holdout' ELSE v.label END AS arm,
           coalesce(m.sent_at, (SELECT at FROM first)) AS since
      FROM public.message m LEFT JOIN public.campaign_variant v ON v.id = m.variant_id
     WHERE m.campaign_id = campaign AND (m.status IN ('sent', 'failed') OR m.skip_reason = 'holdout')),
bought AS (
    SELECT r.arm, r.client_id, r.status,
           EXISTS (SELECT 1 FROM public.suppression s WHERE s.channel = r.channel AND s.address = r.address
                      AND s.reason = 'unsubscribed' AND s.created_at >= r.since) AS unsubscribed,
           w.days, coalesce(p.revenue, 0) AS revenue, p.purchases
      FROM recipient r
     CROSS JOIN unnest(ARRAY[30, 60, 90]) w(days)
      LEFT JOIN LATERAL (SELECT sum(p.amount) AS revenue, count(*) AS purchases FROM public.purchase p
                          WHERE p.client_id = r.client_id AND p.purchased_at > r.since
                            AND p.purchased_at <= r.since + make_interval(days => w.days)) p ON true)
SELECT arm, days,
       count(*) FILTER (WHERE status = 'sent' OR arm = 'holdout') AS recipients,
       count(*) FILTER (WHERE status = 'sent') AS sent,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       count(*) FILTER (WHERE unsubscribed AND status = 'sent') AS unsubscribed,
       count(*) FILTER (WHERE purchases > 0 AND (status = 'sent' OR arm = 'holdout')) AS buyers,
       coalesce(sum(revenue) FILTER (WHERE status = 'sent' OR arm = 'holdout'), 0) AS revenue
  FROM bought GROUP BY arm, days ORDER BY arm, days
$$;

-- Derived figures: only public.campaign_results_refresh (below) writes them, so no login can forge them; every
-- role that reads campaigns reads them.
CREATE TABLE public.campaign_result (
    campaign_id   bigint NOT NULL REFERENCES public.campaign (id) ON DELETE CASCADE,
    arm           text NOT NULL,
    days          integer NOT NULL,
    recipients    bigint NOT NULL,
    sent          bigint NOT NULL,
    failed        bigint NOT NULL,
    unsubscribed  bigint NOT NULL,
    buyers        bigint NOT NULL,
    revenue       numeric NOT NULL,
    first_sent_at timestamptz,
    last_sent_at  timestamptz,
    computed_at   timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, arm, days)
);
GRANT SELECT ON public.campaign_result TO clientbase_admin, clientbase_manager, clientbase_sales;

-- Recomputes one campaign's figures. SECURITY DEFINER because the table is nobody's to write; any role that
-- may read campaigns may ask for fresh figures (it only repeats a computation it could run itself). Two
-- refreshes at once both land: each upserts its rows, and drops only the arms older than its own.
CREATE FUNCTION public.campaign_results_refresh(campaign bigint) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
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
REVOKE ALL ON FUNCTION public.campaign_results_refresh(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.campaign_results_refresh(bigint)
    TO clientbase_admin, clientbase_manager, clientbase_sales;

-- What the refresh reads and writes, and no more.
GRANT SELECT ON public.message, public.campaign_variant TO clientbase_owner;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.campaign_result TO clientbase_owner;

SELECT public.cb_secure();
