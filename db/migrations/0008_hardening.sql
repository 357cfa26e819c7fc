-- Roles that hold against psql (issue 10). The rules this sets up, which every later migration follows,
-- are in db/migrations/README.md; tests/test_security.py checks them over the whole schema.
--
-- Before this migration the SECURITY DEFINER functions ran as the superuser with `search_path = public`,
-- which PostgreSQL still prefixes with pg_temp for tables and views: a login's temporary view named
-- contact_point, or temporary table named audit_log with a trigger, ran its own code as the superuser.
-- Now they run as clientbase_owner (NOLOGIN, not a superuser, holding only what they need), search
-- pg_temp last and name every table with its schema; and only the administrator may create temporary
-- objects at all.

-- The owner of the definer functions gets exactly what they touch. (The role is cluster-wide, created by
-- db/migrate.py beside the group roles.)
GRANT USAGE ON SCHEMA public TO clientbase_owner;
GRANT INSERT ON public.audit_log TO clientbase_owner;
GRANT SELECT ON public.client, public.purchase, public.contact_point, public.suppression TO clientbase_owner;
GRANT UPDATE (purchase_count, total_spent, total_profit, first_purchase_at, last_purchase_at)
    ON public.client TO clientbase_owner;

-- Reasserts what lives outside the schema's own objects and so can be lost without a migration noticing:
-- a restore made with --no-owner gives every function to the restoring login, and a database's rights
-- are not copied with it. `clientbase init` calls it after the migrations, every time.
CREATE FUNCTION public.cb_secure() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    definer regprocedure;
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    -- The imports stage their rows in temporary tables (db/transfer/import_clients.py, db/transfer/import_purchases.py).
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO clientbase_admin', current_database());
    -- A new owner needs CREATE on the schema; clientbase_owner holds it only for this moment.
    GRANT CREATE ON SCHEMA public TO clientbase_owner;
    FOR definer IN SELECT p.oid::regprocedure FROM pg_proc p
                    WHERE p.pronamespace = 'public'::regnamespace AND p.prosecdef LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO clientbase_owner', definer);
        EXECUTE format('ALTER FUNCTION %s SET search_path = pg_catalog, public, pg_temp', definer);
    END LOOP;
    REVOKE CREATE ON SCHEMA public FROM clientbase_owner;
END $$;
REVOKE ALL ON FUNCTION public.cb_secure() FROM PUBLIC;

-- The definer functions again, each table named with its schema.

-- SECURITY DEFINER: writers need no right on audit_log, so nobody but the owner can forge or erase it.
-- session_user is still the real login inside a definer function.
CREATE OR REPLACE FUNCTION public.audit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    derived text[] := ARRAY['version', 'updated_at', 'updated_by', 'search',
                            'purchase_count', 'total_spent', 'total_profit',
                            'first_purchase_at', 'last_purchase_at', 'category'];
    old_values jsonb;
    new_values jsonb;
    row_key text;
BEGIN
    row_key := coalesce(to_jsonb(NEW) ->> 'id', to_jsonb(OLD) ->> 'id', to_jsonb(NEW) ->> 'key', to_jsonb(OLD) ->> 'key');
    IF TG_OP <> 'INSERT' THEN old_values := to_jsonb(OLD) - derived; END IF;
    IF TG_OP <> 'DELETE' THEN new_values := to_jsonb(NEW) - derived; END IF;
    IF TG_OP = 'UPDATE' THEN
        IF old_values = new_values THEN
            RETURN NULL;  -- statistics the database keeps itself, not an edit
        END IF;
        -- Keep only what changed, so the log says what was edited rather than repeating the card.
        SELECT jsonb_object_agg(o.key, o.value), jsonb_object_agg(o.key, new_values -> o.key)
          INTO old_values, new_values
          FROM jsonb_each(old_values) o
         WHERE o.value IS DISTINCT FROM new_values -> o.key;
    END IF;
    INSERT INTO public.audit_log (login, table_name, row_id, action, old_values, new_values)
    VALUES (session_user, TG_TABLE_NAME, row_key, lower(TG_OP), old_values, new_values);
    RETURN NULL;
END $$;

-- Inserts once per statement; above TG_ARGV[0] rows, one summary row (see 0006).
CREATE OR REPLACE FUNCTION public.audit_inserted_rows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    summary jsonb;
BEGIN
    IF TG_NARGS > 0 THEN
        SELECT jsonb_build_object('rows', count(*), 'first_id', min(id), 'last_id', max(id))
          INTO summary FROM new_rows;
        IF (summary ->> 'rows')::bigint > TG_ARGV[0]::bigint THEN
            INSERT INTO public.audit_log (login, table_name, row_id, action, new_values)
            VALUES (session_user, TG_TABLE_NAME, NULL, 'insert', summary);
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO public.audit_log (login, table_name, row_id, action, new_values)
    SELECT session_user, TG_TABLE_NAME, coalesce(j ->> 'id', j ->> 'key'), 'insert',
           j - ARRAY['version', 'updated_at', 'updated_by', 'search', 'purchase_count', 'total_spent',
                     'total_profit', 'first_purchase_at', 'last_purchase_at', 'category']
      FROM (SELECT to_jsonb(n) AS j FROM new_rows n) inserted;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION public.card_suppressions(card bigint)
    RETURNS TABLE (contact_id bigint, reason text, since timestamptz)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    SELECT cp.id, s.reason, s.created_at
      FROM public.contact_point cp
      JOIN public.suppression s ON s.address = cp.normalized
       AND s.channel = CASE WHEN cp.kind = 'email' THEN 'email' ELSE 'sms' END
     WHERE cp.client_id = card AND cp.kind IN ('email', 'mobile', 'whatsapp')
$$;

-- The purchase statistics are derived: no login may write them, so the purchase triggers (running as the
-- administrator who changed purchases) refresh them through this function, the only writer besides the
-- schema's owner. Anyone allowed to call it can only make the statistics true.
CREATE OR REPLACE FUNCTION public.refresh_client_stats(client_ids bigint[]) RETURNS void LANGUAGE sql
    SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    UPDATE public.client c
       SET purchase_count = s.n, total_spent = s.spent, total_profit = s.profit,
           first_purchase_at = s.first_at, last_purchase_at = s.last_at
      FROM (SELECT ids.id AS client_id, count(p.id) AS n, coalesce(sum(p.amount), 0) AS spent,
                   coalesce(sum(p.amount - coalesce(p.cost, 0)), 0) AS profit,
                   min(p.purchased_at) AS first_at, max(p.purchased_at) AS last_at
              FROM unnest(client_ids) AS ids(id)
              LEFT JOIN public.purchase p ON p.client_id = ids.id
             GROUP BY ids.id) s
     WHERE c.id = s.client_id
       AND (c.purchase_count, c.total_spent, c.total_profit, c.first_purchase_at, c.last_purchase_at)
           IS DISTINCT FROM (s.n, s.spent, s.profit, s.first_at, s.last_at);
$$;
REVOKE ALL ON FUNCTION public.refresh_client_stats(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.refresh_client_stats(bigint[]) TO clientbase_admin;

SELECT public.cb_secure();

-- Bookkeeping columns are the database's: the administrator may write every other column and no more.
-- `version` stays in the lists because the card's save bumps it explicitly (a contact changed, not the
-- client row) and peewee names it in its inserts; keep_version below makes any value written there mean
-- "1" on insert and "one more" on update, so it can neither be rewound nor forged.
DO $$
DECLARE
    writable regclass;
    columns text;
BEGIN
    FOREACH writable IN ARRAY ARRAY['public.settings', 'public.company', 'public.client', 'public.contact_point',
            'public.relative', 'public.product', 'public.purchase', 'public.purchase_line', 'public.subscription',
            'public.interaction', 'public.reminder', 'public.custom_field', 'public.segment', 'public.template',
            'public.campaign', 'public.campaign_variant', 'public.message', 'public.suppression']::regclass[] LOOP
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
          FROM pg_attribute
         WHERE attrelid = writable AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
           AND attname <> ALL (ARRAY['created_at', 'created_by', 'updated_at', 'updated_by', 'search',
                                     'purchase_count', 'total_spent', 'total_profit', 'first_purchase_at',
                                     'last_purchase_at']);
        EXECUTE format('REVOKE INSERT, UPDATE ON %s FROM clientbase_admin', writable);
        EXECUTE format('GRANT INSERT (%s), UPDATE (%s) ON %s TO clientbase_admin', columns, columns, writable);
    END LOOP;
END $$;

CREATE FUNCTION public.keep_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
    ELSE
        NEW.version := OLD.version + 1;
    END IF;
    RETURN NEW;
END $$;

DO $$
DECLARE
    versioned regclass;
BEGIN
    -- The edited tables: those with a row version and its author (schema_migration's `version` is not one).
    FOR versioned IN SELECT v.attrelid::regclass FROM pg_attribute v
                       JOIN pg_attribute u ON u.attrelid = v.attrelid AND u.attname = 'updated_by'
                      WHERE v.attname = 'version'
                        AND v.attrelid IN (SELECT oid FROM pg_class WHERE relkind = 'r'
                                              AND relnamespace = 'public'::regnamespace) LOOP
        -- The conditions spare the function call on every row an import inserts and on the card's bump.
        EXECUTE format('CREATE TRIGGER keep_version BEFORE UPDATE OF version ON %s FOR EACH ROW '
                       'WHEN (NEW.version IS DISTINCT FROM OLD.version + 1) '
                       'EXECUTE FUNCTION public.keep_version()', versioned);
        EXECUTE format('CREATE TRIGGER keep_version_new BEFORE INSERT ON %s FOR EACH ROW '
                       'WHEN (NEW.version IS DISTINCT FROM 1) EXECUTE FUNCTION public.keep_version()', versioned);
    END LOOP;
END $$;

-- Attaches the audit to a table: every insert (one summary row per statement above `summary_above`
-- rows, when given), update and delete. With `unaudited`, an update is logged only when it names one of
-- the other columns: the columns are listed from the catalog now, so a table attached that way must be
-- attached again when it gains a column.
CREATE FUNCTION public.audit_attach(audited regclass, summary_above integer DEFAULT NULL,
                                    unaudited text[] DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    edited text;
BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS audit ON %s', audited);
    EXECUTE format('DROP TRIGGER IF EXISTS audit_insert ON %s', audited);
    IF unaudited IS NULL THEN
        edited := '';
    ELSE
        SELECT 'OF ' || string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO edited
          FROM pg_attribute
         WHERE attrelid = audited AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
           AND attname <> ALL (unaudited);
    END IF;
    EXECUTE format('CREATE TRIGGER audit AFTER UPDATE %s OR DELETE ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION public.audit_row()', edited, audited);
    EXECUTE format('CREATE TRIGGER audit_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION public.audit_inserted_rows(%s)',
                   audited, coalesce(summary_above::text, ''));
END $$;
REVOKE ALL ON FUNCTION public.audit_attach(regclass, integer, text[]) FROM PUBLIC;

SELECT public.audit_attach('public.settings');
SELECT public.audit_attach('public.company');
-- The purchase triggers refresh the statistics with an UPDATE of derived columns only; listing the
-- edited columns spares the audit comparing whole rows to find nothing (see 0006).
SELECT public.audit_attach('public.client', NULL,
                           ARRAY['version', 'updated_at', 'updated_by', 'search', 'purchase_count', 'total_spent',
                                 'total_profit', 'first_purchase_at', 'last_purchase_at']);
SELECT public.audit_attach('public.contact_point');
SELECT public.audit_attach('public.relative');
SELECT public.audit_attach('public.product');
SELECT public.audit_attach('public.purchase', 1000);
SELECT public.audit_attach('public.purchase_line', 1000);
SELECT public.audit_attach('public.subscription');
SELECT public.audit_attach('public.interaction');
SELECT public.audit_attach('public.reminder');
SELECT public.audit_attach('public.custom_field');
SELECT public.audit_attach('public.segment');
SELECT public.audit_attach('public.template');
SELECT public.audit_attach('public.campaign');
SELECT public.audit_attach('public.campaign_variant');
-- The queue: who was enqueued and at which address. The mailer's delivery-state updates are not edits
-- by a person and would double the queue's writes; a campaign enqueueing thousands is one summary row.
SELECT public.audit_attach('public.message', 1000,
                           ARRAY['status', 'skip_reason', 'attempts', 'not_before', 'lease_until', 'leased_by',
                                 'sent_at', 'error', 'created_at']);
SELECT public.audit_attach('public.suppression');

-- Advisory locks gate other people's work (one import at a time, "being edited by" on a card): only the
-- administrators and the database owner (migrations) may take them. Changing the rights of pg_catalog
-- functions needs a superuser; a database initialised by a plain owner keeps them open and says so.
DO $$
DECLARE
    lock_function regprocedure;
    database_owner text := (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database());
BEGIN
    FOR lock_function IN SELECT oid::regprocedure FROM pg_proc
                          WHERE pronamespace = 'pg_catalog'::regnamespace
                            AND proname ~ '^pg_(try_)?advisory_(xact_)?lock(_shared)?$' LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', lock_function);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO clientbase_admin, %I', lock_function, database_owner);
    END LOOP;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'advisory locks stay open to every login: only a superuser can restrict them';
END $$;

-- A runaway search stops after 30 s instead of holding a server core. Settings of a group role do not
-- reach its members, so each reading login carries its own (db/users.py sets it on new ones).
DO $$
DECLARE
    reader text;
BEGIN
    FOR reader IN SELECT DISTINCT r.rolname FROM pg_roles r
                    JOIN pg_auth_members m ON m.member = r.oid
                    JOIN pg_roles g ON g.oid = m.roleid
                   WHERE g.rolname IN ('clientbase_manager', 'clientbase_sales', 'clientbase_mailer')
                     AND r.rolcanlogin LOOP
        BEGIN
            EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', reader, '30s');
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'no statement_timeout for %: set it with ALTER ROLE as a superuser', reader;
        END;
    END LOOP;
END $$;
