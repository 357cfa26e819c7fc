-- What a probe with psql as every role found still open after 0008 (rules: migrations/README.md).

-- Large objects and WAL messages are storage that grants on tables do not cover: a reading login could
-- keep gigabytes in pg_largeobject or the WAL. Nothing in clientbase uses either. Changing the rights of
-- pg_catalog functions needs a superuser; a database initialised by a plain owner keeps them and says so.
DO $$
DECLARE
    writer regprocedure;
BEGIN
    FOR writer IN SELECT oid::regprocedure FROM pg_proc
                   WHERE pronamespace = 'pg_catalog'::regnamespace
                     AND proname IN ('lo_create', 'lo_creat', 'lo_from_bytea', 'lo_import',
                                     'pg_logical_emit_message') LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', writer);
    END LOOP;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE WARNING 'large objects and WAL messages stay open to every login: only a superuser can close them';
END $$;

-- Trigger functions run as whoever changed the row, so an unqualified table name in them finds that
-- person's temporary table first: an administrator could plant words in a client's search text (or keep
-- it stale) through a temporary `company` or `client`.
CREATE OR REPLACE FUNCTION public.client_fill_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := public.cb_fold(concat_ws(' ', NULLIF(NEW.last_name, ''), NULLIF(NEW.first_name, ''),
                                           NULLIF(NEW.middle_name, ''),
                                           (SELECT name FROM public.company WHERE id = NEW.company_id)));
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.company_refresh_client_search() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.client SET company_id = company_id WHERE company_id = NEW.id;
    RETURN NULL;
END $$;

-- `category` is derived on client only (a generated column); on product it is a real field, whose change
-- went unaudited, unversioned and without its author.
-- The columns the database maintains itself, in one place for the version bump and the audit: a change
-- to them alone is not an edit by a person, and the audit leaves them out.
CREATE FUNCTION public.cb_derived_columns(table_name text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN ARRAY['version', 'updated_at', 'updated_by', 'search', 'purchase_count', 'total_spent', 'total_profit',
             'first_purchase_at', 'last_purchase_at']
       || CASE WHEN table_name = 'client' THEN ARRAY['category'] ELSE ARRAY[]::text[] END;

CREATE OR REPLACE FUNCTION public.touch_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    derived text[] := public.cb_derived_columns(TG_TABLE_NAME);
BEGIN
    IF (to_jsonb(NEW) - derived) IS DISTINCT FROM (to_jsonb(OLD) - derived) THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
        NEW.updated_by := session_user;
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION public.audit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    derived text[] := public.cb_derived_columns(TG_TABLE_NAME);
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

CREATE OR REPLACE FUNCTION public.audit_inserted_rows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    summary jsonb;
    derived text[] := public.cb_derived_columns(TG_TABLE_NAME);
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
    SELECT session_user, TG_TABLE_NAME, coalesce(j ->> 'id', j ->> 'key'), 'insert', j - derived
      FROM (SELECT to_jsonb(n) AS j FROM new_rows n) inserted;
    RETURN NULL;
END $$;

-- Nobody attaches the audit functions to a table of their own (a temporary one) to write audit rows
-- that describe changes never made; the triggers of 0008 fire them without this right.
REVOKE EXECUTE ON FUNCTION public.audit_row(), public.audit_inserted_rows() FROM PUBLIC;

-- Two sessions adding purchases to one client at once: the second waited for the first's row lock with a
-- snapshot taken before the first committed, and stored statistics without the first's purchase. Taking
-- the locks in a statement of their own lets the UPDATE, a later statement under READ COMMITTED, see what
-- committed meanwhile. Ordered by id, so two imports lock in one order and never deadlock each other.
CREATE OR REPLACE FUNCTION public.refresh_client_stats(client_ids bigint[]) RETURNS void LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM public.client WHERE id = ANY (client_ids) ORDER BY id FOR UPDATE;
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
END $$;

-- Audit ids without gaps: an administrator calling nextval() made holes that look like erased rows.
-- SELECT stays, for pg_dump; the audit's inserts need no right on the identity's sequence.
REVOKE USAGE, UPDATE ON SEQUENCE public.audit_log_id_seq FROM clientbase_admin;

-- An interaction's author is who entered it, as its audit row says: the card shows it as such, so it is
-- the database's to set (its default, session_user), never the administrator's to type.
REVOKE INSERT (author), UPDATE (author) ON public.interaction FROM clientbase_admin;

-- A reading login may hold at most 16 connections (so that opening a hundred cannot lock everyone else
-- out) and an idle open transaction for 10 minutes (so that it cannot stall a migration, and every read
-- queued behind it). A login cannot raise its own connection limit; db/users.py sets both on new logins.
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
            EXECUTE format('ALTER ROLE %I CONNECTION LIMIT 16', reader);
            EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', reader, '10min');
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'no connection limit for %: set it with ALTER ROLE as a superuser', reader;
        END;
    END LOOP;
END $$;

SELECT public.cb_secure();
