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


# Derived results that only the analytics refresh writes, replaced whole each time: auditing them would log
# a million rows per refresh and record nothing a person did. The segment map people edit is audited.
DERIVED_UNAUDITED = ("analytics_run", "analytics_client_0", "analytics_client_1", "analytics_class",
                     "analytics_pareto", "analytics_month", "analytics_clv_bucket", "analytics_list")


def test_every_table_a_login_can_change_is_audited(fresh_db):
    with fresh_db.connect() as conn:
        unaudited = conn.execute(
            "SELECT c.relname FROM pg_class c"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
            "   AND c.relname <> ALL (%s)"
            "   AND EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = ANY(%s)"
            "                  AND (has_table_privilege(g.oid, c.oid, 'DELETE')"
            "                       OR has_any_column_privilege(g.oid, c.oid, 'INSERT')"
            "                       OR has_any_column_privilege(g.oid, c.oid, 'UPDATE')))"
            "   AND (SELECT count(*) FROM pg_trigger t WHERE t.tgrelid = c.oid"
            "                                      AND t.tgname IN ('audit', 'audit_insert')) <> 2",
            (list(DERIVED_UNAUDITED), list(GROUPS))).fetchall()
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
