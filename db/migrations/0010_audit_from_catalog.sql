-- Auditing a table is one call: `SELECT public.cb_audit_table('public.new_table');` in the migration that
-- creates it (rules: migrations/README.md). Until now a new table needed its name added to four lists
-- copied between migrations (touch_row in 0001, keep_version in 0008, the audit in 0002/0006/0008, and the
-- column lists of 0006); what a table needs is read from the catalog instead.

-- Columns that a person does change but whose change alone is not an edit worth a log row: the mailing
-- queue's delivery state, which the mailer updates for every message it sends. (What the database derives
-- itself is public.cb_derived_columns, of 0009; those are also left out of what the log records.)
CREATE FUNCTION public.cb_unaudited_columns(table_name text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN table_name = 'message'
            THEN ARRAY['status', 'skip_reason', 'attempts', 'not_before', 'lease_until', 'leased_by', 'sent_at',
                       'error', 'created_at']
            ELSE ARRAY[]::text[] END;

-- Attaches to one table everything that makes its edits accountable:
--   * the audit: every insert (one summary row per statement above `summary_above` rows, when given),
--     update and delete, in public.audit_log;
--   * for a table with a row version and its author: touch_row (version, updated_at/by follow an edit) and
--     keep_version (a login can neither rewind nor forge the version).
-- The update triggers fire on the edited columns only, listed from the catalog (everything but the
-- derived and unaudited columns): an UPDATE that sets only statistics then costs no trigger call per row
-- (see 0006). So a migration that adds a column to an audited table calls this again;
-- tests/test_audit.py fails until it does.
-- Not a definer function: it runs as the migration's login, which owns the tables.
CREATE FUNCTION public.cb_audit_table(audited regclass, summary_above integer DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    relation text := (SELECT relname FROM pg_catalog.pg_class WHERE oid = audited);
    edited text;
    versioned boolean;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO edited
      FROM pg_catalog.pg_attribute
     WHERE attrelid = audited AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
       AND attname <> ALL (public.cb_derived_columns(relation) || public.cb_unaudited_columns(relation));
    SELECT count(*) = 2 INTO versioned
      FROM pg_catalog.pg_attribute
     WHERE attrelid = audited AND attname IN ('version', 'updated_by') AND NOT attisdropped;

    EXECUTE format('DROP TRIGGER IF EXISTS audit ON %s', audited);
    EXECUTE format('DROP TRIGGER IF EXISTS audit_insert ON %s', audited);
    EXECUTE format('CREATE TRIGGER audit AFTER UPDATE OF %s OR DELETE ON %s FOR EACH ROW '
                   'EXECUTE FUNCTION public.audit_row()', edited, audited);
    EXECUTE format('CREATE TRIGGER audit_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION public.audit_inserted_rows(%s)',
                   audited, coalesce(summary_above::text, ''));

    EXECUTE format('DROP TRIGGER IF EXISTS touch_row ON %s', audited);
    EXECUTE format('DROP TRIGGER IF EXISTS keep_version ON %s', audited);
    EXECUTE format('DROP TRIGGER IF EXISTS keep_version_new ON %s', audited);
    IF versioned THEN
        EXECUTE format('CREATE TRIGGER touch_row BEFORE UPDATE OF %s ON %s FOR EACH ROW '
                       'EXECUTE FUNCTION public.touch_row()', edited, audited);
        -- The conditions spare the function call on every row an import inserts and on the card's bump.
        EXECUTE format('CREATE TRIGGER keep_version BEFORE UPDATE OF version ON %s FOR EACH ROW '
                       'WHEN (NEW.version IS DISTINCT FROM OLD.version + 1) '
                       'EXECUTE FUNCTION public.keep_version()', audited);
        EXECUTE format('CREATE TRIGGER keep_version_new BEFORE INSERT ON %s FOR EACH ROW '
                       'WHEN (NEW.version IS DISTINCT FROM 1) EXECUTE FUNCTION public.keep_version()', audited);
    END IF;
END $$;
REVOKE ALL ON FUNCTION public.cb_audit_table(regclass, integer) FROM PUBLIC;

-- One way to attach, so that no migration copies the older one's column lists.
DROP FUNCTION public.audit_attach(regclass, integer, text[]);

SELECT public.cb_audit_table('public.settings');
SELECT public.cb_audit_table('public.company');
SELECT public.cb_audit_table('public.client');
SELECT public.cb_audit_table('public.contact_point');
SELECT public.cb_audit_table('public.relative');
SELECT public.cb_audit_table('public.product');
-- Imports add purchases by the thousand: one summary row per such statement.
SELECT public.cb_audit_table('public.purchase', 1000);
SELECT public.cb_audit_table('public.purchase_line', 1000);
SELECT public.cb_audit_table('public.subscription');
SELECT public.cb_audit_table('public.interaction');
SELECT public.cb_audit_table('public.reminder');
SELECT public.cb_audit_table('public.custom_field');
SELECT public.cb_audit_table('public.segment');
SELECT public.cb_audit_table('public.template');
SELECT public.cb_audit_table('public.campaign');
SELECT public.cb_audit_table('public.campaign_variant');
-- A campaign enqueueing thousands of messages is one summary row.
SELECT public.cb_audit_table('public.message', 1000);
SELECT public.cb_audit_table('public.suppression');
