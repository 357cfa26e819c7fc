"""The audit log as db/audit reads it: changes made by two administrators' logins, filtered by login, client, table
and period, paged by keyset, said in words, summed per login per day; and refused to salespeople."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

from db import users
from db.audit import fields, reads
from db.audit.reads import AuditFilter
from db.card import activity
from tests.card_helpers import make_client

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
    (AuditFilter(client_id=1), "audit_log_by_client"),
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
        # Nor a bitmap and a sort of a client's ten rows, cheaper here than on a client with thousands.
        conn.execute("SET enable_bitmapscan = off")
        parts, params = reads._where(audit, "UTC")
        parts.append("(a.at, a.id) < (now(), 10)")
        params["limit"] = 50
        plan = "\n".join(row[0] for row in conn.execute(
            f"EXPLAIN SELECT a.id FROM audit_log a WHERE {' AND '.join(parts)} "
            "ORDER BY a.at DESC, a.id DESC LIMIT %(limit)s", params))
    assert index in plan and "Sort" not in plan


def test_the_client_filter_finds_every_change_about_the_client_purchase_lines_included(admin_session):
    """A purchase's lines (which hold a purchase id, not a client id) entered, corrected and deleted through the
    card's db/ functions, and edits of a contact and a reminder that name no client: the client filter finds them
    all, and another client's changes are not among them."""
    db = admin_session
    card, other = make_client(), make_client(last_name="Сидоров")
    at = datetime.now(timezone.utc).replace(microsecond=0)
    first = activity.add_purchase(card.id, at, "shop", [(None, "Крем", Decimal(2), Decimal(500)),
                                                        (None, "Мыло", Decimal(1), Decimal(90))])
    version = activity.load_purchases(card.id)[0].version
    activity.update_purchase(first, version, at, "shop", [(None, "Крем", Decimal(3), Decimal(450))])
    second = activity.add_purchase(card.id, at, "shop", [(None, "Шампунь", Decimal(1), Decimal(300))])
    activity.delete_purchase(second, next(p.version for p in activity.load_purchases(card.id) if p.id == second))
    activity.add_purchase(other.id, at, "shop", [(None, "Чужое", Decimal(1), Decimal(10))])
    with _as(db, "t_admin") as conn:
        line = conn.execute("SELECT id FROM purchase_line WHERE purchase_id = %s", (first,)).fetchone()[0]
        conn.execute("UPDATE purchase_line SET description = 'Крем ночной' WHERE id = %s", (line,))
        conn.execute("UPDATE contact_point SET note = 'рабочий' WHERE client_id = %s AND kind = 'email'", (card.id,))
        conn.execute("INSERT INTO reminder (client_id, due_on, text) VALUES (%s, CURRENT_DATE, 'Позвонить')",
                     (card.id,))
        conn.execute("UPDATE reminder SET text = 'Позвонить вечером' WHERE client_id = %s", (card.id,))
    with db.connect(autocommit=True) as conn:  # the owner reads every row, whatever the filter
        expected = {row[0] for row in conn.execute(
            "SELECT a.id FROM audit_log a WHERE a.table_name = 'client' AND a.row_id = %(c)s::text "
            "OR a.table_name IN ('contact_point', 'relative', 'purchase', 'subscription', 'reminder') "
            "   AND coalesce(a.new_values ->> 'client_id', a.old_values ->> 'client_id',"
            "                (SELECT client_id::text FROM contact_point WHERE id::text = a.row_id AND a.table_name"
            "                 = 'contact_point'),"
            "                (SELECT client_id::text FROM reminder WHERE id::text = a.row_id AND a.table_name"
            "                 = 'reminder'),"
            "                (SELECT client_id::text FROM purchase WHERE id::text = a.row_id AND a.table_name"
            "                 = 'purchase')) = %(c)s::text "
            "OR a.table_name = 'purchase_line' AND (coalesce(a.new_values ->> 'purchase_id',"
            "   a.old_values ->> 'purchase_id') IN (%(p1)s::text, %(p2)s::text) OR a.row_id = %(line)s::text)",
            {"c": card.id, "p1": first, "p2": second, "line": line})}
        lines = conn.execute("SELECT action, count(*) FROM audit_log WHERE table_name = 'purchase_line' "
                             "AND client_id = %s GROUP BY 1 ORDER BY 1", (card.id,)).fetchall()
    # Two lines entered, replaced by one, a third entered and deleted with its purchase, one line edited.
    assert lines == [("delete", 3), ("insert", 4), ("update", 1)]
    shown = _load(db, AuditFilter(client_id=card.id), limit=1000)
    assert {entry.id for entry in shown} == expected
    assert all(entry.client_id == card.id for entry in shown)
    tables = {(entry.table_name, entry.action) for entry in shown}
    assert {("purchase_line", "update"), ("contact_point", "update"), ("reminder", "update")} <= tables
    # Newest first, and a keyset page continues where the first one stopped.
    assert [entry.key for entry in shown] == sorted((entry.key for entry in shown), reverse=True)
    head = _load(db, AuditFilter(client_id=card.id), limit=5)
    rest = _load(db, AuditFilter(client_id=card.id), after=head[-1].key, limit=1000)
    assert [entry.id for entry in head + rest] == [entry.id for entry in shown]
    assert not {entry.id for entry in _load(db, AuditFilter(client_id=other.id), limit=1000)} & expected
