"""The audit log records the real login of every change to client data, and nobody can forge it."""

from __future__ import annotations

import psycopg
import pytest


def _audit(conn, table):
    return conn.execute(
        "SELECT login, action, row_id, old_values, new_values FROM audit_log WHERE table_name = %s ORDER BY id",
        (table,),
    ).fetchall()


def test_insert_update_delete_are_logged_with_the_login(fresh_db, pg_server):
    with fresh_db.connect(autocommit=True) as owner:
        owner.execute("CREATE ROLE t_admin2 LOGIN IN ROLE clientbase_admin") if not owner.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = 't_admin2'").fetchone() else None
    with fresh_db.connect("admin", autocommit=True) as conn:
        client_id = conn.execute(
            "INSERT INTO client (last_name, first_name) VALUES ('Петрова', 'Анна') RETURNING id").fetchone()[0]
    with psycopg.connect(fresh_db.url("t_admin2"), autocommit=True) as conn:
        conn.execute("UPDATE client SET notes = 'Аллергия на орехи' WHERE id = %s", (client_id,))
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("DELETE FROM client WHERE id = %s", (client_id,))
        rows = _audit(conn, "client")
    assert [(login, action) for login, action, *_ in rows] == [
        ("t_admin", "insert"), ("t_admin2", "update"), ("t_admin", "delete")]
    assert all(row_id == str(client_id) for _, _, row_id, _, _ in rows)
    inserted, updated, deleted = rows
    assert inserted[4]["last_name"] == "Петрова" and inserted[3] is None
    # An update records just what changed.
    assert updated[3] == {"notes": ""} and updated[4] == {"notes": "Аллергия на орехи"}
    assert deleted[3]["notes"] == "Аллергия на орехи" and deleted[4] is None


def test_version_and_updated_by_follow_edits_but_not_derived_statistics(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        client_id = conn.execute(
            "INSERT INTO client (last_name, first_name) VALUES ('Rusu', 'Ion') RETURNING id").fetchone()[0]
        conn.execute("UPDATE client SET city = 'Chișinău' WHERE id = %s", (client_id,))
        assert conn.execute("SELECT version, updated_by FROM client WHERE id = %s",
                            (client_id,)).fetchone() == (2, "t_admin")
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount, cost) VALUES (%s, now(), 1000, 600)",
                     (client_id,))
        version, count, spent, profit, category = conn.execute(
            "SELECT version, purchase_count, total_spent, total_profit, category FROM client WHERE id = %s",
            (client_id,)).fetchone()
        assert (version, count, float(spent), float(profit), category) == (2, 1, 1000.0, 400.0, "one-time")
        client_updates = [row for row in _audit(conn, "client") if row[1] == "update"]
        assert len(client_updates) == 1  # the city, not the statistics
        assert [row[1] for row in _audit(conn, "purchase")] == ["insert"]


def test_nobody_but_the_owner_can_write_or_erase_the_log(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("INSERT INTO client (last_name) VALUES ('Smith')")
        for statement in ("INSERT INTO audit_log (login, table_name, action) VALUES ('x', 'client', 'insert')",
                          "UPDATE audit_log SET login = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with fresh_db.connect("manager", autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 1
    with fresh_db.connect("sales", autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM audit_log")


def test_purchase_statistics_follow_inserts_updates_and_deletes(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        client_id = conn.execute("INSERT INTO client (last_name) VALUES ('Brown') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount, cost) VALUES "
                     "(%s, '2025-01-01', 100, 50), (%s, '2025-03-01', 300, NULL)", (client_id, client_id))
        stats = "SELECT purchase_count, total_spent, total_profit, first_purchase_at::date::text, " \
                "last_purchase_at::date::text, category FROM client WHERE id = %s"
        count, spent, profit, first, last, category = conn.execute(stats, (client_id,)).fetchone()
        assert (count, float(spent), float(profit), first, last, category) == \
            (2, 400.0, 350.0, "2025-01-01", "2025-03-01", "regular")
        conn.execute("UPDATE purchase SET amount = 200 WHERE amount = 300")
        assert float(conn.execute(stats, (client_id,)).fetchone()[1]) == 300.0
        conn.execute("DELETE FROM purchase")
        count, spent, profit, first, last, category = conn.execute(stats, (client_id,)).fetchone()
        assert (count, float(spent), first, last, category) == (0, 0.0, None, None, "potential")


GROUPS = ("clientbase_admin", "clientbase_manager", "clientbase_sales", "clientbase_mailer")
BOOKKEEPING = ("created_at", "created_by", "updated_at", "updated_by", "search", "purchase_count", "total_spent",
               "total_profit", "first_purchase_at", "last_purchase_at")


@pytest.mark.parametrize("forgery", [
    "UPDATE client SET total_spent = 1000000 WHERE id = %(id)s",
    "UPDATE client SET purchase_count = 99, first_purchase_at = now() WHERE id = %(id)s",
    "UPDATE client SET search = 'не тот' WHERE id = %(id)s",
    "UPDATE client SET updated_by = 'someone_else' WHERE id = %(id)s",
    "UPDATE client SET created_by = 'someone_else', created_at = now() - interval '1 year' WHERE id = %(id)s",
    "UPDATE contact_point SET updated_at = now() - interval '1 year'",
    "INSERT INTO client (last_name, created_by) VALUES ('Подделка', 'someone_else')",
    "INSERT INTO purchase (client_id, purchased_at, amount, created_by) VALUES (%(id)s, now(), 1, 'someone_else')",
    "INSERT INTO suppression (channel, address, reason, created_by) VALUES ('sms', '+1', 'manual', 'someone_else')",
    "UPDATE message SET created_at = now()",
])
def test_an_administrator_cannot_write_bookkeeping_columns(fresh_db, forgery):
    """Before 0008 these went through, and those on client left no audit row at all."""
    with fresh_db.connect("admin", autocommit=True) as conn:
        client_id = conn.execute("INSERT INTO client (last_name) VALUES ('Честный') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized) "
                     "VALUES (%s, 'email', 'x@y.example', 'x@y.example')", (client_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(forgery, {"id": client_id})


def test_a_written_version_means_one_more_and_an_inserted_one_means_one(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        client_id = conn.execute("INSERT INTO client (last_name, version) VALUES ('Rusu', 40) RETURNING id"
                                 ).fetchone()[0]
        assert conn.execute("SELECT version FROM client WHERE id = %s", (client_id,)).fetchone() == (1,)
        # The card's save bumps the version itself when only a contact changed; that still works.
        conn.execute("UPDATE client SET version = version + 1 WHERE id = %s", (client_id,))
        conn.execute("UPDATE client SET version = 1 WHERE id = %s", (client_id,))  # no rewinding
        conn.execute("UPDATE client SET version = 1000, notes = 'x' WHERE id = %s", (client_id,))
        assert conn.execute("SELECT version FROM client WHERE id = %s", (client_id,)).fetchone() == (4,)
        segment_version = conn.execute("INSERT INTO segment (name, version) VALUES ('s', 9) RETURNING version")
        assert segment_version.fetchone() == (1,)


def test_no_login_may_write_a_bookkeeping_column_of_any_table(fresh_db):
    """A later migration adding a table or a column cannot grant them by accident."""
    with fresh_db.connect() as conn:
        writable = conn.execute(
            "SELECT g.rolname, c.relname, a.attname, p.privilege"
            "  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            "  CROSS JOIN pg_roles g CROSS JOIN (VALUES ('INSERT'), ('UPDATE')) p(privilege)"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND g.rolname = ANY(%s)"
            "   AND a.attname = ANY(%s) AND has_column_privilege(g.oid, c.oid, a.attnum, p.privilege)",
            (list(GROUPS), list(BOOKKEEPING))).fetchall()
    assert writable == []


def test_every_table_a_login_can_change_is_audited(fresh_db):
    with fresh_db.connect() as conn:
        unaudited = conn.execute(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
            "   AND EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = ANY(%s)"
            "                  AND (has_table_privilege(g.oid, c.oid, 'DELETE')"
            "                       OR has_any_column_privilege(g.oid, c.oid, 'INSERT')"
            "                       OR has_any_column_privilege(g.oid, c.oid, 'UPDATE')))"
            "   AND (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid"
            "                                      AND t.tgname IN ('audit', 'audit_insert')) <> 2",
            (list(GROUPS),)).fetchall()
    assert unaudited == []


def test_the_mailing_queue_is_audited_but_not_its_delivery(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        client_id = conn.execute("INSERT INTO client (last_name) VALUES ('Адресат') RETURNING id").fetchone()[0]
        template_id = conn.execute("INSERT INTO template (name, channel, body) VALUES ('t', 'sms', 'Привет') "
                                   "RETURNING id").fetchone()[0]
        campaign_id = conn.execute("INSERT INTO campaign (name, channel) VALUES ('c', 'sms') RETURNING id"
                                   ).fetchone()[0]
        conn.execute("INSERT INTO campaign_variant (campaign_id, template_id) VALUES (%s, %s)",
                     (campaign_id, template_id))
        message_id = conn.execute("INSERT INTO message (campaign_id, client_id, channel, address) "
                                  "VALUES (%s, %s, 'sms', '+70000000001') RETURNING id",
                                  (campaign_id, client_id)).fetchone()[0]
        conn.execute("UPDATE message SET address = '+70000000002' WHERE id = %s", (message_id,))
        conn.execute("UPDATE template SET body = 'Здравствуйте'")
    with fresh_db.connect("mailer", autocommit=True) as conn:
        conn.execute("UPDATE message SET status = 'sent', sent_at = now(), attempts = 1 WHERE id = %s",
                     (message_id,))
    with fresh_db.connect("admin", autocommit=True) as conn:
        bulk = conn.execute("INSERT INTO campaign (name, channel) VALUES ('bulk', 'sms') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO client (last_name) SELECT 'Много ' || g FROM generate_series(1, 1001) g")
        conn.execute("INSERT INTO message (campaign_id, client_id, channel, address) "
                     "SELECT %s, id, 'sms', '+7' || id FROM client", (bulk,))
    with fresh_db.connect("manager") as conn:
        messages = _audit(conn, "message")
        templates = _audit(conn, "template")
    assert [(login, action) for login, action, *_ in messages] == [
        ("t_admin", "insert"), ("t_admin", "update"), ("t_admin", "insert")]
    inserted, readdressed, summary = messages
    assert inserted[2] == str(message_id) and inserted[4]["address"] == "+70000000001"
    assert (readdressed[3], readdressed[4]) == ({"address": "+70000000001"}, {"address": "+70000000002"})
    assert summary[2] is None and summary[4]["rows"] == 1002
    assert templates[-1][1] == "update" and templates[-1][4] == {"body": "Здравствуйте"}


def test_a_new_table_is_audited_versioned_and_timestamped_by_one_call(fresh_db):
    """What a later migration does for a table of its own (migration 0010, migrations/README.md rule 3)."""
    with fresh_db.connect(autocommit=True) as owner:
        owner.execute("""
            CREATE TABLE public.gift_card (
                id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                code       text NOT NULL,
                balance    numeric(12, 2) NOT NULL DEFAULT 0,
                version    integer NOT NULL DEFAULT 1,
                created_at timestamptz NOT NULL DEFAULT now(),
                created_by text NOT NULL DEFAULT session_user,
                updated_at timestamptz,
                updated_by text
            )""")
        owner.execute("SELECT public.cb_audit_table('public.gift_card')")
        owner.execute("GRANT SELECT, DELETE, INSERT (code, balance, version), UPDATE (code, balance, version) "
                      "ON public.gift_card TO clientbase_admin")
    with fresh_db.connect("admin", autocommit=True) as conn:
        card_id = conn.execute("INSERT INTO gift_card (code, version) VALUES ('G-1', 7) RETURNING id").fetchone()[0]
        conn.execute("UPDATE gift_card SET balance = 500 WHERE id = %s", (card_id,))
        conn.execute("UPDATE gift_card SET version = 1 WHERE id = %s", (card_id,))  # no rewinding
        assert conn.execute("SELECT version, updated_by FROM gift_card WHERE id = %s",
                            (card_id,)).fetchone() == (3, "t_admin")
        conn.execute("DELETE FROM gift_card WHERE id = %s", (card_id,))
    with fresh_db.connect("manager") as conn:
        logged = _audit(conn, "gift_card")
    assert [(login, action, row_id) for login, action, row_id, _, _ in logged] == [
        ("t_admin", "insert", str(card_id)), ("t_admin", "update", str(card_id)), ("t_admin", "delete", str(card_id))]
    inserted, updated, deleted = logged
    assert inserted[4]["code"] == "G-1" and "version" not in inserted[4]
    assert (updated[3], updated[4]) == ({"balance": 0}, {"balance": 500})
    assert deleted[3]["balance"] == 500


def _unwatched(conn) -> list[tuple[str, str, list[str]]]:
    """(table, trigger, columns) for each update trigger of the audit or the version that an edited column
    would not fire."""
    return conn.execute("""
        SELECT c.relname, t.tgname, u.columns
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
         CROSS JOIN LATERAL (
               SELECT array_agg(a.attname::text ORDER BY a.attnum) AS columns FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                  AND a.attname <> ALL (public.cb_derived_columns(c.relname) || public.cb_unaudited_columns(c.relname))
                  AND a.attnum <> ALL (t.tgattr::int2[])) u
         WHERE t.tgname IN ('audit', 'touch_row') AND c.relnamespace = 'public'::regnamespace
           AND u.columns IS NOT NULL
         ORDER BY 1, 2""").fetchall()


def test_every_audited_table_watches_every_edited_column(fresh_db):
    """The update triggers fire on a column list read from the catalog when the table was attached; a column
    added since, without attaching the table again, would bump no version and reach no log."""
    with fresh_db.connect() as conn:
        assert _unwatched(conn) == []
        conn.execute("ALTER TABLE public.segment ADD COLUMN colour text")
        assert _unwatched(conn) == [("segment", "audit", ["colour"]), ("segment", "touch_row", ["colour"])]
        conn.execute("SELECT public.cb_audit_table('public.segment')")
        assert _unwatched(conn) == []
        conn.rollback()
