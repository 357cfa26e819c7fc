"""The audit log as db/audit reads it: changes made by two administrators' logins, filtered by login, client, table
and period, paged by keyset, said in words, summed per login per day; and refused to salespeople."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from db import users
from db.audit import fields, reads
from db.audit.reads import AuditFilter

SECOND_ADMIN = "t_admin_second"


@pytest.fixture
def two_admins(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        users.add_login(conn, SECOND_ADMIN, "admin", exist_ok=True)
    return fresh_db


def _as(db, login: str) -> psycopg.Connection:
    return psycopg.connect(db.url(login), autocommit=True)


def _work(db) -> dict[str, int]:
    """t_admin creates two clients and edits one twice, enters three purchases (two in one statement) and starts
    a mailing; the second administrator edits and deletes a client and adds a reminder."""
    with _as(db, "t_admin") as conn:
        anna = conn.execute("INSERT INTO client (last_name, first_name, city) VALUES ('Ivanova', 'Anna', 'Kazan') "
                            "RETURNING id").fetchone()[0]
        boris = conn.execute("INSERT INTO client (last_name, first_name) VALUES ('Petrov', 'Boris') RETURNING id"
                             ).fetchone()[0]
        conn.execute("UPDATE client SET city = 'Moscow' WHERE id = %s", (anna,))
        conn.execute("UPDATE client SET notes = 'VIP' WHERE id = %s", (anna,))
        conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized) "
                     "VALUES (%s, 'email', 'anna@example.com', 'anna@example.com')", (anna,))
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, now(), 10), (%s, now(), 20)",
                     (anna, boris))
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, now(), 30)", (anna,))
        campaign = conn.execute("INSERT INTO campaign (name, channel) VALUES ('Spring', 'email') RETURNING id"
                                ).fetchone()[0]
        conn.execute("UPDATE campaign SET status = 'sending' WHERE id = %s", (campaign,))
    with _as(db, SECOND_ADMIN) as conn:
        conn.execute("UPDATE client SET first_name = 'Borya' WHERE id = %s", (boris,))
        conn.execute("INSERT INTO reminder (client_id, due_on, text) VALUES (%s, CURRENT_DATE, 'Call')", (anna,))
        gone = conn.execute("INSERT INTO client (last_name) VALUES ('Gone') RETURNING id").fetchone()[0]
        conn.execute("DELETE FROM client WHERE id = %s", (gone,))
    return {"anna": anna, "boris": boris, "gone": gone}


def _load(db, audit: AuditFilter, role: str = "manager", **kwargs) -> list[reads.Entry]:
    with db.connect(role) as conn:
        return reads.page(conn, audit, **kwargs)


def test_filters_by_login_client_table_and_period(two_admins):
    made = _work(two_admins)
    everything = _load(two_admins, AuditFilter())
    assert [(e.at, e.id) for e in everything] == sorted(((e.at, e.id) for e in everything), reverse=True)

    second = _load(two_admins, AuditFilter(login=SECOND_ADMIN))
    assert {(e.table_name, e.action) for e in second} == {("client", "update"), ("reminder", "insert"),
                                                          ("client", "insert"), ("client", "delete")}
    assert {e.login for e in second} == {SECOND_ADMIN}

    anna = _load(two_admins, AuditFilter(client_id=made["anna"]))
    # Her card, her e-mail, her purchase of its own and the reminder: everything that concerns her.
    assert {(e.table_name, e.action) for e in anna} == {("client", "insert"), ("client", "update"),
                                                        ("contact_point", "insert"), ("purchase", "insert"),
                                                        ("reminder", "insert")}
    assert {e.client_id for e in anna} == {made["anna"]}

    deleted = _load(two_admins, AuditFilter(client_id=made["gone"], table_name="client"))
    assert [e.action for e in deleted] == ["delete", "insert"]
    assert deleted[0].old_values["last_name"] == "Gone" and deleted[0].new_values is None

    today = reads_today(two_admins)
    assert len(_load(two_admins, AuditFilter(since=today, until=today))) == len(everything)
    assert _load(two_admins, AuditFilter(since=today + timedelta(days=1))) == []
    assert _load(two_admins, AuditFilter(until=today - timedelta(days=1))) == []


def reads_today(db) -> date:
    with db.connect("manager") as conn:
        return conn.execute("SELECT (now() AT TIME ZONE 'Europe/Moscow')::date").fetchone()[0]


def test_keyset_pages_cover_every_row_once(two_admins):
    _work(two_admins)
    everything = _load(two_admins, AuditFilter())
    seen, after = [], None
    while True:
        batch = _load(two_admins, AuditFilter(), after=after, limit=3)
        if not batch:
            break
        seen.extend(batch)
        after = batch[-1].key
    assert [e.id for e in seen] == [e.id for e in everything]


def test_a_change_said_in_words_old_beside_new(two_admins):
    made = _work(two_admins)
    edits = _load(two_admins, AuditFilter(client_id=made["anna"], table_name="client"))
    moved = next(e for e in edits if e.action == "update" and "city" in e.new_values)
    assert [(c.label, c.old, c.new) for c in fields.changes(moved)] == [("City", "Kazan", "Moscow")]
    created = next(e for e in edits if e.action == "insert")
    labels = [c.label for c in fields.changes(created)]
    assert {"Last name", "First name", "City"} <= set(labels)
    assert not {"id", "version", "created_at", "last_name"} & set(labels)
    gone = _load(two_admins, AuditFilter(client_id=made["gone"], table_name="client"))[0]
    assert ("Last name", "Gone", "") in [(c.label, c.old, c.new) for c in fields.changes(gone)]


def test_summary_per_login_per_day(two_admins):
    _work(two_admins)
    today = reads_today(two_admins)
    with two_admins.connect("manager") as conn:
        days = reads.summary(conn, AuditFilter(since=today, until=today))
    by_login = {(d.login, d.day): (d.clients_created, d.clients_edited, d.purchases_entered, d.mailings_started)
                for d in days}
    assert by_login == {("t_admin", today): (2, 1, 3, 1), (SECOND_ADMIN, today): (1, 1, 0, 0)}


def test_a_bulk_insert_counts_its_rows_in_the_summary(two_admins):
    with _as(two_admins, "t_admin") as conn:
        client = conn.execute("INSERT INTO client (last_name) VALUES ('Bulk') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) SELECT %s, now(), g "
                     "FROM generate_series(1, 1500) g", (client,))
    with two_admins.connect("admin") as conn:
        days = reads.summary(conn, AuditFilter(login="t_admin"))
    assert [(d.clients_created, d.purchases_entered) for d in days] == [(1, 1500)]


def test_salespeople_are_refused_the_log_by_the_database(two_admins):
    _work(two_admins)
    with two_admins.connect("sales") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reads.page(conn, AuditFilter())
    with two_admins.connect("sales") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM audit_log")
    with two_admins.connect("admin") as conn:
        assert reads.page(conn, AuditFilter(), limit=1)


@pytest.mark.parametrize(("audit", "index"), [
    (AuditFilter(login="t_admin"), "audit_log_login"),
    (AuditFilter(client_id=1), "audit_log_client"),
    (AuditFilter(table_name="purchase"), "audit_log_table"),
    (AuditFilter(), "audit_log_at"),
])
def test_every_filter_pages_through_its_index(fresh_db, audit, index):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO audit_log (login, table_name, row_id, action, new_values) "
                     "SELECT 'l' || g % 20, (ARRAY['client', 'purchase', 'reminder'])[g % 3 + 1], g, 'insert', "
                     "jsonb_build_object('client_id', g % 5000) FROM generate_series(1, 50000) g")
        conn.execute("ANALYZE audit_log")
        conn.execute("SET enable_seqscan = off")  # small table: the index must be usable, not chosen by cost alone
        parts, params = reads._where(audit, "UTC")
        parts.append("(a.at, a.id) < (now(), 10)")
        params["limit"] = 50
        plan = "\n".join(row[0] for row in conn.execute(
            f"EXPLAIN SELECT a.id FROM audit_log a WHERE {' AND '.join(parts)} "
            "ORDER BY a.at DESC, a.id DESC LIMIT %(limit)s", params))
    assert index in plan and "Sort" not in plan
