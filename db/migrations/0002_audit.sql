-- Who changed what, when: every insert, update and delete of client data, written by the database
-- itself so that psql and imports are recorded as surely as the app.

CREATE TABLE audit_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    login      text NOT NULL,
    table_name text NOT NULL,
    row_id     text,
    action     text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    old_values jsonb,
    new_values jsonb
);
CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_row ON audit_log (table_name, row_id, at DESC);
CREATE INDEX audit_log_login ON audit_log (login, at DESC);

-- SECURITY DEFINER: writers need no right on audit_log, so nobody but the owner can forge or erase it.
-- session_user is still the real login inside a definer function.
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
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
    INSERT INTO audit_log (login, table_name, row_id, action, old_values, new_values)
    VALUES (session_user, TG_TABLE_NAME, row_key, lower(TG_OP), old_values, new_values);
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
        EXECUTE format('CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %I '
                       'FOR EACH ROW EXECUTE FUNCTION audit_row()', audited);
    END LOOP;
END $$;
