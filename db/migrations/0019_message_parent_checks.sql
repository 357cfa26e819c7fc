-- Enqueueing a campaign writes one message row per client in one INSERT ... SELECT, and every row names the
-- same campaign and one of its few arms. A foreign key checks its referenced row once per inserted row (a
-- lookup and a KEY SHARE lock each): on 200,000 rows the three keys of message were more than half the
-- statement (13-16 s with them, 5-7 s without, same base and load). The checks of campaign and
-- campaign_variant move to statement-level triggers that look each distinct referenced id up once, and their
-- ON DELETE actions to statement-level triggers on the referenced tables. client's key stays: its ids differ
-- on every row, its ON DELETE CASCADE is a client's erasure, and a trigger would have to lock as many rows.
--
-- What the triggers keep of the keys: an inserted or re-pointed message must name an existing campaign (and
-- arm, when it names one); the referenced rows are locked FOR KEY SHARE like a key locks them, so a
-- concurrent delete waits for the insert's transaction and then takes the new messages with it; deleting a
-- campaign deletes its messages, deleting an arm leaves its messages without one. What they do not keep:
-- TRUNCATE of campaign or campaign_variant is no longer refused (only the table owner may truncate), and the
-- catalog no longer shows the relation to tools that read foreign keys.

ALTER TABLE public.message
    DROP CONSTRAINT message_campaign_id_fkey,
    DROP CONSTRAINT message_variant_id_fkey;

-- A lock FOR KEY SHARE needs an update right on the locked table; the functions below update nothing there.
GRANT SELECT ON public.campaign_variant TO clientbase_owner;
GRANT UPDATE (version) ON public.campaign_variant TO clientbase_owner;
GRANT DELETE, UPDATE (variant_id) ON public.message TO clientbase_owner;

CREATE FUNCTION public.message_parents_exist() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    missing bigint;
BEGIN
    -- Ids in one order, so that two inserts never wait on each other's locks crosswise.
    PERFORM 1 FROM public.campaign c
      WHERE c.id IN (SELECT n.campaign_id FROM new_rows n) ORDER BY c.id FOR KEY SHARE OF c;
    SELECT n.campaign_id INTO missing FROM (SELECT DISTINCT campaign_id FROM new_rows) n
     WHERE NOT EXISTS (SELECT 1 FROM public.campaign c WHERE c.id = n.campaign_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('message names campaign %s, which does not exist', missing);
    END IF;
    PERFORM 1 FROM public.campaign_variant v
      WHERE v.id IN (SELECT n.variant_id FROM new_rows n) ORDER BY v.id FOR KEY SHARE OF v;
    SELECT n.variant_id INTO missing FROM (SELECT DISTINCT variant_id FROM new_rows WHERE variant_id IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM public.campaign_variant v WHERE v.id = n.variant_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('message names campaign arm %s, which does not exist', missing);
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION public.message_parents_exist() FROM PUBLIC;
CREATE TRIGGER message_parents_insert AFTER INSERT ON public.message
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION public.message_parents_exist();

-- An update may not name a transition table and a column list at once, and marking a message sent must not
-- pay for a check: the rare update that re-points a message is checked row by row, the WHEN clause costing
-- the others nothing.
CREATE FUNCTION public.message_parents_exist_row() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    PERFORM 1 FROM public.campaign c WHERE c.id = NEW.campaign_id FOR KEY SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
            MESSAGE = format('message names campaign %s, which does not exist', NEW.campaign_id);
    END IF;
    IF NEW.variant_id IS NOT NULL THEN
        PERFORM 1 FROM public.campaign_variant v WHERE v.id = NEW.variant_id FOR KEY SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'foreign_key_violation',
                MESSAGE = format('message names campaign arm %s, which does not exist', NEW.variant_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION public.message_parents_exist_row() FROM PUBLIC;
CREATE TRIGGER message_parents_update AFTER UPDATE OF campaign_id, variant_id ON public.message
    FOR EACH ROW
    WHEN (NEW.campaign_id IS DISTINCT FROM OLD.campaign_id OR NEW.variant_id IS DISTINCT FROM OLD.variant_id)
    EXECUTE FUNCTION public.message_parents_exist_row();

-- ON DELETE CASCADE of campaign.
CREATE FUNCTION public.message_campaign_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    DELETE FROM public.message m USING old_rows o WHERE m.campaign_id = o.id;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION public.message_campaign_deleted() FROM PUBLIC;
CREATE TRIGGER campaign_messages_delete AFTER DELETE ON public.campaign
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.message_campaign_deleted();

-- ON DELETE SET NULL of campaign_variant. The arms of a deleted campaign go with it (their own key's
-- cascade), and so do its messages: those are not updated on their way out.
CREATE FUNCTION public.message_variant_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    UPDATE public.message m SET variant_id = NULL FROM old_rows o
     WHERE m.variant_id = o.id AND m.campaign_id = o.campaign_id
       AND EXISTS (SELECT 1 FROM public.campaign c WHERE c.id = o.campaign_id);
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION public.message_variant_deleted() FROM PUBLIC;
CREATE TRIGGER campaign_variant_messages_delete AFTER DELETE ON public.campaign_variant
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION public.message_variant_deleted();

SELECT public.cb_secure();
