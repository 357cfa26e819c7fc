-- Analytics (issue 13): the RFM segment map people edit, and the results of the last refresh, which only
-- the refresh writes (db/analytics/refresh.py) and every reading role of DESIGN.md reads.
--
-- Results live in two slots. A refresh fills the slot that is not current, in statements of their own,
-- then publishes it by one small insert into analytics_run: readers follow the current run's slot, so they
-- never see half of a refresh, and no transaction spans the whole recompute (a snapshot held that long
-- would hold back vacuum for the mailing queue). Emptying the idle slot is a TRUNCATE of one partition,
-- instant where a DELETE of a million rows would take seconds and leave them as bloat.

-- The RFM map: R score against the mean of the F and M scores, checked in `position` order, the first
-- match wins. The defaults are Putler's ranges; the narrow rules come first so that every segment can be
-- reached (in Putler's own order "Can't lose them" and "Lost" are shadowed by wider rules above them),
-- and "Lost" is narrowed to F+M mean <= 1 so that it does not swallow "Hibernating".
CREATE TABLE analytics_segment_rule (
    position    integer PRIMARY KEY,
    segment     text NOT NULL UNIQUE CHECK (btrim(segment) <> ''),
    r_min       smallint NOT NULL CHECK (r_min BETWEEN 1 AND 5),
    r_max       smallint NOT NULL CHECK (r_max BETWEEN 1 AND 5),
    fm_min      numeric(2, 1) NOT NULL CHECK (fm_min BETWEEN 1 AND 5),
    fm_max      numeric(2, 1) NOT NULL CHECK (fm_max BETWEEN 1 AND 5),
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT session_user,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text NOT NULL DEFAULT session_user,
    CHECK (r_min <= r_max AND fm_min <= fm_max)
);

INSERT INTO analytics_segment_rule (position, segment, r_min, r_max, fm_min, fm_max) VALUES
    (10, 'Champions', 4, 5, 4, 5),
    (20, 'Loyal', 2, 5, 3, 5),
    (30, 'New', 4, 5, 1, 1),
    (40, 'Promising', 3, 4, 1, 1),
    (50, 'Potential loyalists', 3, 5, 1, 3),
    (60, 'Need attention', 2, 3, 2, 3),
    (70, 'About to sleep', 2, 3, 1, 2),
    (80, 'Can''t lose them', 1, 1, 4, 5),
    (90, 'At risk', 1, 2, 2, 5),
    (100, 'Lost', 1, 1, 1, 1),
    (110, 'Hibernating', 1, 2, 1, 2);

CREATE TRIGGER touch_row BEFORE UPDATE ON analytics_segment_rule FOR EACH ROW EXECUTE FUNCTION public.touch_row();
CREATE TRIGGER keep_version BEFORE UPDATE OF version ON analytics_segment_rule FOR EACH ROW
    WHEN (NEW.version IS DISTINCT FROM OLD.version + 1) EXECUTE FUNCTION public.keep_version();
CREATE TRIGGER keep_version_new BEFORE INSERT ON analytics_segment_rule FOR EACH ROW
    WHEN (NEW.version IS DISTINCT FROM 1) EXECUTE FUNCTION public.keep_version();
SELECT public.audit_attach('public.analytics_segment_rule');

-- One row per refresh. The current results are those of the latest published run.
CREATE TABLE analytics_run (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slot          smallint NOT NULL CHECK (slot IN (0, 1)),
    as_of         date NOT NULL,
    period_days   integer NOT NULL CHECK (period_days > 0),
    time_zone     text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    computed_at   timestamptz,
    duration_ms   integer,
    published     boolean NOT NULL DEFAULT false,
    clients       integer,
    buyers        integer,
    -- Fitted BG/NBD and Gamma-Gamma parameters (days), or NULL with the reason the CLV is not shown.
    clv_params    jsonb,
    clv_reason    text,
    -- The `inactive_after_days` setting the run's reactivation list was drawn with.
    inactive_after_days integer,
    step_ms       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX analytics_run_published ON analytics_run (id DESC) WHERE published;

-- Per-client results of one slot. prev_* are the client's classes in the run before, copied at refresh
-- time, so that the movement matrix is a GROUP BY of this table alone.
CREATE TABLE analytics_client (
    slot                    smallint NOT NULL,
    client_id               bigint NOT NULL,
    first_day               date,
    last_day                date,
    r_days                  integer,
    f                       integer NOT NULL,
    m                       numeric(14, 2) NOT NULL,
    revenue                 numeric(14, 2) NOT NULL,
    profit                  numeric(14, 2) NOT NULL,
    r_score                 smallint,
    f_score                 smallint,
    m_score                 smallint,
    rfm_segment             text NOT NULL,
    abc_class               "char" NOT NULL,
    ae_class                "char" NOT NULL,
    expected_purchases_12m  double precision,
    expected_value_12m      numeric(14, 2),
    p_alive                 double precision,
    prev_segment            text,
    prev_abc_class          "char",
    prev_ae_class           "char"
) PARTITION BY LIST (slot);
-- Keys and indexes are the partitions' own, none on the parent: pg_restore --clean cannot drop a constraint
-- or index a partition inherits, so a backup of a base with inherited ones would not restore.
CREATE TABLE analytics_client_0 PARTITION OF analytics_client (PRIMARY KEY (client_id)) FOR VALUES IN (0);
CREATE TABLE analytics_client_1 PARTITION OF analytics_client (PRIMARY KEY (client_id)) FOR VALUES IN (1);
-- No other index: each would cost the refresh's insert of a million rows more than it saves; the two lists
-- that would need one (top clients by value, the reactivation list) are stored whole in analytics_list.

-- The dashboard's aggregates, a few hundred rows per slot, so that it opens without touching the clients.
-- kind: 'abc', 'ae', 'segment' (per-class tables), 'rf' (R x F grid: class = 'r,f'),
-- 'move_segment', 'move_abc', 'move_ae' (class = 'from>to').
CREATE TABLE analytics_class (
    slot       smallint NOT NULL,
    kind       text NOT NULL,
    class      text NOT NULL,
    clients    integer NOT NULL,
    revenue    numeric(16, 2) NOT NULL,
    purchases  bigint NOT NULL,
    PRIMARY KEY (slot, kind, class)
);

-- Pareto curve: after the `point` top clients by period revenue, `revenue_share` of the revenue is theirs.
CREATE TABLE analytics_pareto (
    slot           smallint NOT NULL,
    point          integer NOT NULL,
    client_share   double precision NOT NULL,
    revenue_share  double precision NOT NULL,
    PRIMARY KEY (slot, point)
);

-- Months in the shop's time zone: revenue, and the cohort of clients whose first purchase fell in it.
CREATE TABLE analytics_month (
    slot           smallint NOT NULL,
    month          date NOT NULL,
    revenue        numeric(16, 2) NOT NULL,
    purchases      bigint NOT NULL,
    new_clients    integer NOT NULL,
    returned_90d   integer NOT NULL,
    PRIMARY KEY (slot, month)
);

-- The dashboard's lists of clients, in order: kind 'top_value' (highest expected 12-month value) and
-- 'inactive' (no purchase for the run's inactive_after_days, by what they used to spend).
CREATE TABLE analytics_list (
    slot       smallint NOT NULL,
    kind       text NOT NULL,
    rank       integer NOT NULL,
    client_id  bigint NOT NULL,
    PRIMARY KEY (slot, kind, rank)
);

-- CLV distribution: clients per bucket of expected 12-month value [low, high).
CREATE TABLE analytics_clv_bucket (
    slot     smallint NOT NULL,
    bucket   integer NOT NULL,
    low      numeric(14, 2) NOT NULL,
    high     numeric(14, 2) NOT NULL,
    clients  integer NOT NULL,
    PRIMARY KEY (slot, bucket)
);

-- Rights (DESIGN.md, Roles): the administrator refreshes; admin, manager and sales read. The mailer reads
-- no purchases, so no analytics either. Derived tables are not audited (tests/test_audit.py says why):
-- nobody edits them, the refresh replaces them whole.
REVOKE ALL ON analytics_segment_rule, analytics_run, analytics_client, analytics_client_0, analytics_client_1,
    analytics_class, analytics_pareto, analytics_month, analytics_clv_bucket, analytics_list FROM PUBLIC;
GRANT SELECT ON analytics_segment_rule, analytics_run, analytics_client, analytics_class, analytics_pareto,
    analytics_month, analytics_clv_bucket, analytics_list TO clientbase_admin, clientbase_manager, clientbase_sales;
GRANT INSERT (position, segment, r_min, r_max, fm_min, fm_max, version),
      UPDATE (position, segment, r_min, r_max, fm_min, fm_max, version), DELETE
    ON analytics_segment_rule TO clientbase_admin;
GRANT INSERT (slot, as_of, period_days, time_zone),
      UPDATE (computed_at, duration_ms, published, clients, buyers, clv_params, clv_reason, inactive_after_days,
              step_ms)
    ON analytics_run TO clientbase_admin;
GRANT INSERT ON analytics_client, analytics_class, analytics_pareto, analytics_month, analytics_clv_bucket,
    analytics_list TO clientbase_admin;
GRANT DELETE ON analytics_class, analytics_pareto, analytics_month, analytics_clv_bucket, analytics_list
    TO clientbase_admin;
-- Cohorts are added to the months that revenue filled (INSERT ... ON CONFLICT DO UPDATE).
GRANT UPDATE (new_clients, returned_90d) ON analytics_month TO clientbase_admin;
-- The idle slot is emptied whole; TRUNCATE of a partition needs the right on the partition itself.
GRANT SELECT, TRUNCATE ON analytics_client_0, analytics_client_1 TO clientbase_admin;
-- An insert into analytics_run draws its id, and the administrator's backup (pg_dump) reads the sequence;
-- nobody else needs it.
GRANT USAGE, SELECT ON SEQUENCE analytics_run_id_seq TO clientbase_admin;
