-- The client every audit row concerns, recorded when the row is written (issue 16).
--
-- 0016 filtered the log by public.cb_audit_client, which reads the client from the row's own values: it misses
-- a purchase line (it holds a purchase id, not a client id) and the edit of a contact, reminder or purchase
-- that did not change its client_id (an update row holds only the changed columns). A trigger on audit_log now
-- looks the client up as the row is inserted, and the client filter is a range of one index, as before.

ALTER TABLE public.audit_log ADD COLUMN client_id bigint;

-- The audit writers (audit_row, audit_inserted_rows, client_forget) insert as clientbase_owner; this trigger
-- runs with their rights and reads the tables a client's rows live in.
GRANT SELECT ON public.client, public.contact_point, public.relative, public.purchase, public.purchase_line,
    public.subscription, public.interaction, public.reminder, public.message, public.trigger_occasion
    TO clientbase_owner;

-- Every lookup is a primary-key read of a fixed table (no SQL built from the row's values). A row that is
-- already gone (deleted in the same statement, as a purchase's lines by its cascade) is found through the
-- audit rows written about it before, by audit_log_row.
CREATE FUNCTION public.audit_log_client() RETURNS trigger LANGUAGE plpgsql
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    row_key bigint;
    purchase_key bigint;
BEGIN
    NEW.client_id := public.cb_audit_client(NEW.table_name, NEW.row_id, NEW.old_values, NEW.new_values);
    IF NEW.client_id IS NOT NULL OR NEW.row_id IS NULL OR NEW.row_id !~ '^[0-9]{1,18}$' THEN
        RETURN NEW;
    END IF;
    row_key := NEW.row_id::bigint;
    IF NEW.table_name = 'purchase_line' THEN
        purchase_key := coalesce(NEW.new_values ->> 'purchase_id', NEW.old_values ->> 'purchase_id')::bigint;
        IF purchase_key IS NULL THEN
            SELECT l.purchase_id INTO purchase_key FROM public.purchase_line l WHERE l.id = row_key;
        END IF;
        SELECT p.client_id INTO NEW.client_id FROM public.purchase p WHERE p.id = purchase_key;
        IF NEW.client_id IS NULL THEN
            SELECT a.client_id INTO NEW.client_id FROM public.audit_log a
             WHERE a.table_name = 'purchase' AND a.row_id = purchase_key::text AND a.client_id IS NOT NULL
             ORDER BY a.at DESC LIMIT 1;
        END IF;
    ELSIF NEW.table_name = 'contact_point' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.contact_point r WHERE r.id = row_key;
    ELSIF NEW.table_name = 'relative' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.relative r WHERE r.id = row_key;
    ELSIF NEW.table_name = 'purchase' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.purchase r WHERE r.id = row_key;
    ELSIF NEW.table_name = 'subscription' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.subscription r WHERE r.id = row_key;
    ELSIF NEW.table_name = 'interaction' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.interaction r WHERE r.id = row_key;
    ELSIF NEW.table_name = 'reminder' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.reminder r WHERE r.id = row_key;
    ELSIF NEW.table_name = 'message' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.message r WHERE r.id = row_key;
    ELSIF NEW.table_name = 'trigger_occasion' THEN
        SELECT r.client_id INTO NEW.client_id FROM public.trigger_occasion r WHERE r.id = row_key;
    ELSE
        RETURN NEW;  -- products, settings, templates, campaigns: no client
    END IF;
    IF NEW.client_id IS NULL THEN
        SELECT a.client_id INTO NEW.client_id FROM public.audit_log a
         WHERE a.table_name = NEW.table_name AND a.row_id = NEW.row_id AND a.client_id IS NOT NULL
         ORDER BY a.at DESC LIMIT 1;
    END IF;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION public.audit_log_client() FROM PUBLIC;

CREATE TRIGGER audit_log_client BEFORE INSERT ON public.audit_log
    FOR EACH ROW EXECUTE FUNCTION public.audit_log_client();

-- The rows written before: first from their own values, then the live rows, then (purchase lines of deleted
-- purchases, updates of deleted rows) the other audit rows of the same row or purchase.
UPDATE public.audit_log a SET client_id = public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values)
 WHERE public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values) IS NOT NULL;

UPDATE public.audit_log a SET client_id = live.client_id
  FROM (SELECT 'contact_point' AS table_name, id, client_id FROM public.contact_point
        UNION ALL SELECT 'relative', id, client_id FROM public.relative
        UNION ALL SELECT 'purchase', id, client_id FROM public.purchase
        UNION ALL SELECT 'subscription', id, client_id FROM public.subscription
        UNION ALL SELECT 'interaction', id, client_id FROM public.interaction
        UNION ALL SELECT 'reminder', id, client_id FROM public.reminder
        UNION ALL SELECT 'message', id, client_id FROM public.message
        UNION ALL SELECT 'trigger_occasion', id, client_id FROM public.trigger_occasion
        UNION ALL SELECT 'purchase_line', l.id, p.client_id
                    FROM public.purchase_line l JOIN public.purchase p ON p.id = l.purchase_id) live
 WHERE a.client_id IS NULL AND a.row_id IS NOT NULL AND a.table_name = live.table_name
   AND a.row_id = live.id::text AND live.client_id IS NOT NULL;

-- Lines of purchases deleted since: their purchase's audit rows know the client.
UPDATE public.audit_log a SET client_id = bought.client_id
  FROM (SELECT DISTINCT ON (p.row_id) p.row_id, p.client_id FROM public.audit_log p
         WHERE p.table_name = 'purchase' AND p.client_id IS NOT NULL
         ORDER BY p.row_id, p.at DESC) bought
 WHERE a.client_id IS NULL AND a.table_name = 'purchase_line'
   AND coalesce(a.new_values ->> 'purchase_id', a.old_values ->> 'purchase_id') = bought.row_id;

-- Updates of rows deleted since: the row's insert or delete row knows the client.
UPDATE public.audit_log a SET client_id = known.client_id
  FROM (SELECT DISTINCT ON (k.table_name, k.row_id) k.table_name, k.row_id, k.client_id FROM public.audit_log k
         WHERE k.client_id IS NOT NULL AND k.row_id IS NOT NULL AND k.table_name <> 'client'
         ORDER BY k.table_name, k.row_id, k.at DESC) known
 WHERE a.client_id IS NULL AND a.row_id IS NOT NULL
   AND a.table_name = known.table_name AND a.row_id = known.row_id;

-- Keyset paging over one client's changes, newest first, as every other filter (0016).
CREATE INDEX audit_log_by_client ON public.audit_log (client_id, at DESC, id DESC) WHERE client_id IS NOT NULL;
ANALYZE public.audit_log;
