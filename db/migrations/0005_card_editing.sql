-- Several people on one card: who is editing it right now, and a signal when it changes.

-- Each table that makes up a card announces the clients it touched on the `client_changed` channel, so
-- that a read-only card and a list row refresh by themselves. Statement-level, so a bulk import costs one
-- pass; above 1000 clients in one statement it sends a single '*' ("much changed, reload what you show")
-- instead of flooding every listener.
CREATE FUNCTION notify_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[];
    touched bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        EXECUTE format('SELECT array_agg(id) FROM (SELECT DISTINCT %I AS id FROM old_rows LIMIT 1001) s',
                       TG_ARGV[0]) INTO ids;
    ELSE
        EXECUTE format('SELECT array_agg(id) FROM (SELECT DISTINCT %I AS id FROM new_rows LIMIT 1001) s',
                       TG_ARGV[0]) INTO ids;
    END IF;
    IF cardinality(ids) > 1000 THEN
        PERFORM pg_notify('client_changed', '*');
    ELSIF ids IS NOT NULL THEN
        FOREACH touched IN ARRAY ids LOOP
            IF touched IS NOT NULL THEN
                PERFORM pg_notify('client_changed', touched::text);
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    card_table text;
    key_column text;
BEGIN
    FOR card_table, key_column IN VALUES ('client', 'id'), ('contact_point', 'client_id'),
            ('relative', 'client_id'), ('purchase', 'client_id'), ('subscription', 'client_id'),
            ('interaction', 'client_id'), ('reminder', 'client_id') LOOP
        -- Transition tables allow one event per trigger, hence three triggers per table.
        EXECUTE format('CREATE TRIGGER notify_insert AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION notify_client_changed(%L)', card_table, key_column);
        EXECUTE format('CREATE TRIGGER notify_update AFTER UPDATE ON %I REFERENCING NEW TABLE AS new_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION notify_client_changed(%L)', card_table, key_column);
        EXECUTE format('CREATE TRIGGER notify_delete AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                       'FOR EACH STATEMENT EXECUTE FUNCTION notify_client_changed(%L)', card_table, key_column);
    END LOOP;
END $$;

-- Who is editing a card: an administrator's editor holds a session advisory lock (class 7243, the client
-- id) on a connection of its own for as long as the card is open. The lock dies with that connection, so
-- a crashed terminal or a dropped network never leaves a card "being edited" forever; the connection's
-- start time is when the editing began.
CREATE FUNCTION card_editors(card bigint)
    RETURNS TABLE (login text, since timestamptz, pid integer)
    LANGUAGE sql STABLE AS $$
    SELECT a.usename::text, a.backend_start, a.pid
      FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = 7243 AND l.objid = (card % 2147483648)::oid AND l.objsubid = 2
$$;
