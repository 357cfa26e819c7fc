-- Import and backup need the administrator to reach the identity sequences: an import reserves the
-- ids of the clients and purchases it creates (so that their contacts and lines can point at them
-- before they exist), and pg_dump reads every sequence it saves.
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO clientbase_admin;

-- Inserts are audited once per statement from the transition table instead of once per row: the log is
-- the same (who, when, which row, its values), written by one set-based INSERT. Updates and deletes stay
-- per row, since they record only the columns that changed.
--
-- Sales history (purchase, purchase_line) is append-only and carries its own created_by/created_at, so a
-- statement inserting more rows than the trigger's argument (an import of years of receipts) is logged as
-- one row with the count and the id range, as notify_client_changed sends '*' above 1000 clients; a
-- million audit rows would double the import and tell nobody more. Client data is always logged per row.
CREATE FUNCTION audit_inserted_rows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
AS $$
DECLARE
    summary jsonb;
BEGIN
    IF TG_NARGS > 0 THEN
        SELECT jsonb_build_object('rows', count(*), 'first_id', min(id), 'last_id', max(id))
          INTO summary FROM new_rows;
        IF (summary ->> 'rows')::bigint > TG_ARGV[0]::bigint THEN
            INSERT INTO audit_log (login, table_name, row_id, action, new_values)
            VALUES (session_user, TG_TABLE_NAME, NULL, 'insert', summary);
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO audit_log (login, table_name, row_id, action, new_values)
    SELECT session_user, TG_TABLE_NAME, coalesce(j ->> 'id', j ->> 'key'), 'insert',
           j - ARRAY['version', 'updated_at', 'updated_by', 'search', 'purchase_count', 'total_spent',
                     'total_profit', 'first_purchase_at', 'last_purchase_at', 'category']
      FROM (SELECT to_jsonb(n) AS j FROM new_rows n) inserted;
    RETURN NULL;
END $$;

DO $$
DECLARE
    audited text;
BEGIN
    FOREACH audited IN ARRAY ARRAY['settings', 'company', 'client', 'contact_point', 'relative', 'product',
                                   'purchase', 'purchase_line', 'subscription', 'interaction', 'reminder',
                                   'custom_field', 'segment', 'template', 'campaign', 'campaign_variant',
                                   'suppression'] LOOP
        EXECUTE format('DROP TRIGGER audit ON %I', audited);
        EXECUTE format('CREATE TRIGGER audit AFTER UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION audit_row()', audited);
        EXECUTE format('CREATE TRIGGER audit_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION audit_inserted_rows(%s)', audited,
                       CASE WHEN audited IN ('purchase', 'purchase_line') THEN '1000' ELSE '' END);
    END LOOP;
END $$;

-- The purchase triggers refresh the statistics of every client a statement touched with one UPDATE that
-- sets only derived columns. touch_row and the audit would each compare the whole row as JSON only to find
-- nothing edited, for every such client; firing them on the edited columns alone (listed from the catalog,
-- everything but what the database derives) spares that work. tests/test_import_audit.py checks the list
-- still covers every column, so a migration adding a client column must recreate these two triggers.
DO $$
DECLARE
    edited text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO edited
      FROM pg_attribute
     WHERE attrelid = 'client'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
       AND attname <> ALL (ARRAY['version', 'updated_at', 'updated_by', 'search', 'purchase_count',
                                 'total_spent', 'total_profit', 'first_purchase_at', 'last_purchase_at']);
    DROP TRIGGER touch_row ON client;
    EXECUTE format('CREATE TRIGGER touch_row BEFORE UPDATE OF %s ON client FOR EACH ROW '
                   'EXECUTE FUNCTION touch_row()', edited);
    DROP TRIGGER audit ON client;
    EXECUTE format('CREATE TRIGGER audit AFTER UPDATE OF %s OR DELETE ON client FOR EACH ROW '
                   'EXECUTE FUNCTION audit_row()', edited);
END $$;
