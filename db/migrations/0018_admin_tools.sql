-- The administrator's tools (issue 16): archive, delete and forget a client; edit and delete a purchase.
--
-- Archiving hides a client from the list and from mailings and is undone by clearing the date. Forgetting
-- (a data-subject request under 152-FZ or the GDPR) erases the person everywhere, the audit log included,
-- and keeps the client row as an anonymous, archived stub: its purchases stay with it, so every total of the
-- analytics (revenue, buyers, classes) is the same afterwards.

ALTER TABLE public.client
    ADD COLUMN archived_at timestamptz,
    ADD COLUMN forgotten_at timestamptz;
-- Archiving is an edit by a person; forgetting is the definer function's alone (a person could otherwise
-- mark someone forgotten without erasing them).
GRANT INSERT (archived_at), UPDATE (archived_at) ON public.client TO clientbase_admin;
SELECT public.cb_audit_table('public.client');

-- The archived ones, for the "archived" filter.
CREATE INDEX client_archived ON public.client (archived_at) WHERE archived_at IS NOT NULL;

-- Forgetting leaves one row saying who erased whom and when, with no values.
ALTER TABLE public.audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE public.audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (action IN ('insert', 'update', 'delete', 'forget'));

-- What client_forget touches, and no more.
GRANT SELECT ON public.company, public.relative, public.interaction, public.reminder, public.subscription,
    public.trigger_occasion, public.audit_log TO clientbase_owner;
GRANT UPDATE (kind, last_name, first_name, middle_name, gender, birth_date, company_id, position, region, city,
              address, postal_address, tags, notes, source, referred_by_id, consent_email, consent_email_at,
              consent_email_source, consent_sms, consent_sms_at, consent_sms_source, custom, external_key,
              archived_at, forgotten_at, search, version, updated_at, updated_by)
    ON public.client TO clientbase_owner;
GRANT UPDATE (note, version, updated_at, updated_by) ON public.purchase, public.subscription TO clientbase_owner;
GRANT UPDATE (address, error, last_reply, extra) ON public.message TO clientbase_owner;
GRANT DELETE ON public.contact_point, public.relative, public.interaction, public.reminder, public.suppression,
    public.audit_log, public.trigger_occasion TO clientbase_owner;

-- Erases a client's personal data: the card's fields, contacts, relatives, interactions and reminders, the
-- notes of purchases and subscriptions, the addresses the mailing queue and the suppression list hold, and
-- every audit row that described any of them. The purchases themselves stay, anonymous. SECURITY DEFINER
-- because the audit log is nobody's to delete from; the caller must be an administrator.
CREATE FUNCTION public.client_forget(forgotten bigint) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    addresses text[];
    owned_tables text[];
    owned_ids text[];
BEGIN
    IF NOT pg_catalog.pg_has_role(session_user, 'clientbase_admin', 'MEMBER') THEN
        RAISE EXCEPTION 'only an administrator may forget a client' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM 1 FROM public.client WHERE id = forgotten FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no client %', forgotten USING ERRCODE = 'no_data_found';
    END IF;

    -- Every address the person ever had: the current ones and those the audit log remembers (audit_log_client
    -- of 0016 finds the client's audit rows, whatever the log's size).
    SELECT array_agg(DISTINCT address) INTO addresses FROM (
        SELECT cp.normalized AS address FROM public.contact_point cp WHERE cp.client_id = forgotten
        UNION ALL SELECT cp.value FROM public.contact_point cp WHERE cp.client_id = forgotten
        UNION ALL SELECT m.address FROM public.message m WHERE m.client_id = forgotten
        UNION ALL SELECT v.value ->> k.key FROM public.audit_log a,
                         LATERAL (VALUES (a.old_values), (a.new_values)) v(value),
                         LATERAL (VALUES ('normalized'), ('value'), ('address')) k(key)
         WHERE public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values) = forgotten
           AND a.table_name IN ('contact_point', 'message')) known
     WHERE address IS NOT NULL AND address <> '';

    -- Every row of theirs, existing or deleted: an audit row of an update names only the changed columns, so
    -- it is found by its row's id (audit_log_row), which the row's insert or delete row ties to the client.
    SELECT array_agg(owned_table), array_agg(owned_id) INTO owned_tables, owned_ids FROM (
        SELECT a.table_name AS owned_table, a.row_id AS owned_id FROM public.audit_log a
         WHERE public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values) = forgotten
           AND a.table_name <> 'client' AND a.row_id IS NOT NULL
        UNION SELECT 'contact_point', id::text FROM public.contact_point WHERE client_id = forgotten
        UNION SELECT 'relative', id::text FROM public.relative WHERE client_id = forgotten
        UNION SELECT 'interaction', id::text FROM public.interaction WHERE client_id = forgotten
        UNION SELECT 'reminder', id::text FROM public.reminder WHERE client_id = forgotten
        UNION SELECT 'subscription', id::text FROM public.subscription WHERE client_id = forgotten
        UNION SELECT 'purchase', id::text FROM public.purchase WHERE client_id = forgotten
        UNION SELECT 'message', id::text FROM public.message WHERE client_id = forgotten
        UNION SELECT 'purchase_line', l.id::text
                FROM public.purchase_line l JOIN public.purchase p ON p.id = l.purchase_id
               WHERE p.client_id = forgotten
        -- Lines replaced when a purchase was corrected: their audit rows know only the purchase.
        UNION SELECT 'purchase_line', a.row_id FROM public.audit_log a
               WHERE a.table_name = 'purchase_line' AND a.row_id IS NOT NULL
                 AND coalesce(a.old_values ->> 'purchase_id', a.new_values ->> 'purchase_id') IN (
                     SELECT p.id::text FROM public.purchase p WHERE p.client_id = forgotten)) mine;

    DELETE FROM public.contact_point WHERE client_id = forgotten;
    DELETE FROM public.relative WHERE client_id = forgotten;
    DELETE FROM public.interaction WHERE client_id = forgotten;
    DELETE FROM public.reminder WHERE client_id = forgotten;
    -- The greetings already sent, by occasion: a child's birthday is one (0017).
    DELETE FROM public.trigger_occasion WHERE client_id = forgotten;
    DELETE FROM public.suppression WHERE address = ANY (coalesce(addresses, '{}'));
    UPDATE public.purchase SET note = '' WHERE client_id = forgotten AND note <> '';
    UPDATE public.subscription SET note = '' WHERE client_id = forgotten AND note <> '';
    -- A greeting's values (0017) name the client's children.
    UPDATE public.message SET address = '', error = NULL, last_reply = NULL, extra = '{}' WHERE client_id = forgotten;
    -- The stub keeps what the analytics count (the purchases and their statistics) and nothing that names,
    -- locates or describes the person.
    UPDATE public.client
       SET kind = 'person', last_name = '—', first_name = '', middle_name = '', gender = NULL, birth_date = NULL,
           company_id = NULL, position = '', region = '', city = '', address = '', postal_address = '',
           tags = '{}', notes = '', source = '', referred_by_id = NULL, consent_email = false,
           consent_email_at = NULL, consent_email_source = '', consent_sms = false, consent_sms_at = NULL,
           consent_sms_source = '', custom = '{}', external_key = NULL,
           archived_at = coalesce(archived_at, now()), forgotten_at = now()
     WHERE id = forgotten;

    -- Last, so that the rows the statements above just wrote go too.
    DELETE FROM public.audit_log a
     WHERE public.cb_audit_client(a.table_name, a.row_id, a.old_values, a.new_values) = forgotten;
    DELETE FROM public.audit_log a
     USING unnest(coalesce(owned_tables, '{}'), coalesce(owned_ids, '{}')) o(owned_table, owned_id)
     WHERE a.table_name = o.owned_table AND a.row_id = o.owned_id;
    DELETE FROM public.audit_log a
     WHERE a.table_name = 'suppression'
       AND (a.old_values ->> 'address' = ANY (coalesce(addresses, '{}'))
            OR a.new_values ->> 'address' = ANY (coalesce(addresses, '{}')));
    INSERT INTO public.audit_log (login, table_name, row_id, action)
    VALUES (session_user, 'client', forgotten::text, 'forget');
END $$;
REVOKE ALL ON FUNCTION public.client_forget(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.client_forget(bigint) TO clientbase_admin;

-- The administrator's backup (pg_dump as the admin login, from the app or `clientbase backup`) reads every
-- table; 0015's progress tally was left readable by its trigger's owner only, so every backup failed on it.
-- Admin and manager read everything (DESIGN.md, Roles).
GRANT SELECT ON public.message_tally TO clientbase_admin, clientbase_manager;
-- And pg_dump reads every sequence: 0017's were left out (SELECT reads a sequence, it does not draw from it).
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO clientbase_admin;

SELECT public.cb_secure();
