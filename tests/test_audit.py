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
