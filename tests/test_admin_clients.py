"""Archive, delete and forget a client (issue 16): in the database as each role, and from the list's keys."""

from __future__ import annotations

from datetime import date, datetime, timezone

import psycopg
import pytest

from db import session
from db.admin import clients as admin_clients
from db.analytics.refresh import refresh
from db.card import activity
from db.clients import listing
from db.clients.listing import Criteria, Filters
from db.errors import UserError
from db.i18n import t
from tests.card_helpers import make_client
from tests.pilot import screen_text, settle
from tests.test_roles import _allowed
from tui.app import ClientbaseApp

# What identifies the person of make_client(), as typed and as stored.
TRACES = ("Петрова", "Анна", "anna.petrova@mail.ru", "9123456789", "912 345-67-89", "Маша")


def _ids(criteria: Criteria) -> set[int]:
    return {row.id for row in listing.find_page(criteria).rows}


def test_an_archived_client_leaves_the_list_and_comes_back(admin_session):
    kept = make_client(last_name="Оставленная")
    archived = make_client()
    admin_clients.set_archived(archived.id, True)
    assert _ids(Criteria()) == {kept.id}
    assert listing.count(Criteria()).value == 1
    assert _ids(Criteria(filters=Filters(archived=True))) == {archived.id}
    assert admin_clients.state(archived.id).archived_at is not None
    admin_clients.set_archived(archived.id, False)
    assert _ids(Criteria()) == {kept.id, archived.id}
    with admin_session.connect(autocommit=True) as conn:
        actions = conn.execute(
            "SELECT action, new_values ? 'archived_at' FROM audit_log WHERE table_name = 'client' AND row_id = %s"
            " ORDER BY id", (str(archived.id),)).fetchall()
    assert actions[-2:] == [("update", True), ("update", True)]


def test_a_mailing_never_reaches_an_archived_client(admin_session):
    archived = make_client()
    admin_clients.set_archived(archived.id, True)
    with admin_session.connect(autocommit=True) as conn:
        where, params = listing.where_sql(Criteria(), False, date.today())
        assert conn.execute(f"SELECT count(*) FROM client c WHERE {where}", params).fetchone()[0] == 0
    from db.mailing import campaigns

    assert "c.archived_at IS NULL AND {audience}" in campaigns._ENQUEUE


def test_delete_for_good_takes_everything_of_the_client(admin_session):
    card = make_client()
    activity.add_purchase(card.id, datetime(2026, 1, 5, 12, tzinfo=timezone.utc), "shop",
                          [(None, "Крем", 1, 500)])
    admin_clients.delete(card.id)
    with admin_session.connect(autocommit=True) as conn:
        for table in ("client", "contact_point", "relative", "purchase"):
            column = "id" if table == "client" else "client_id"
            assert conn.execute(f"SELECT count(*) FROM {table} WHERE {column} = %s", (card.id,)).fetchone()[0] == 0
        assert conn.execute("SELECT action FROM audit_log WHERE table_name = 'client' AND row_id = %s"
                            " ORDER BY id DESC LIMIT 1", (str(card.id),)).fetchone() == ("delete",)
    with pytest.raises(UserError):
        admin_clients.delete(card.id)


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_readers_may_not_archive_delete_or_forget(admin_session, role):
    card = make_client()
    with admin_session.connect(role, autocommit=True) as conn:
        assert not _allowed(conn, f"UPDATE client SET archived_at = now() WHERE id = {card.id}")
        assert not _allowed(conn, f"DELETE FROM client WHERE id = {card.id}")
        assert not _allowed(conn, f"SELECT public.client_forget({card.id})")
    with admin_session.connect("admin", autocommit=True) as conn:
        # Forgotten is the definer function's to say: the administrator cannot mark someone without erasing them.
        assert not _allowed(conn, f"UPDATE client SET forgotten_at = now() WHERE id = {card.id}")
    session.bind(admin_session.target(role))
    with pytest.raises(UserError):
        admin_clients.set_archived(card.id, True)
    with pytest.raises(UserError):
        admin_clients.forget(card.id)


def _text_columns(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c"
        "  JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        "   AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')").fetchall()


def _traces(conn: psycopg.Connection) -> list[tuple[str, str, str]]:
    found = []
    for table, column in _text_columns(conn):
        for trace in TRACES:
            hits = conn.execute(f'SELECT count(*) FROM public."{table}" WHERE "{column}"::text ILIKE %s',
                                (f"%{trace}%",)).fetchone()[0]
            if hits:
                found.append((table, column, trace))
    return found


def _totals(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        # The movement between two refreshes exists only after the second one.
        "SELECT kind, class, clients, revenue, purchases FROM analytics_class WHERE kind NOT LIKE 'move%%'"
        " AND slot = (SELECT slot FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1)"
        " ORDER BY kind, class").fetchall() + conn.execute(
        "SELECT count(*), sum(amount), sum(cost), (SELECT sum(total_spent) FROM client) FROM purchase").fetchall()


def test_forget_leaves_no_trace_of_the_person_and_the_analytics_add_up(admin_session):
    other = make_client(last_name="Сидоров", first_name="Пётр", birth_date="", contacts=(), relatives=())
    card = make_client()
    activity.add_purchase(card.id, datetime(2026, 1, 5, 12, tzinfo=timezone.utc), "shop",
                          [(None, "Крем", 2, 500)], note="позвонить Анне Петровой")
    activity.add_purchase(other.id, datetime(2026, 2, 5, 12, tzinfo=timezone.utc), "shop", [(None, "Мыло", 1, 90)])
    # A corrected purchase: its first line's audit rows know only the purchase, not the client.
    (bought,) = activity.load_purchases(card.id)
    activity.update_purchase(bought.id, bought.version, bought.purchased_at, "shop",
                             [(None, "Крем, заказ Петрова А.", 2, 500)], note=bought.note)
    with admin_session.connect("admin", autocommit=True) as admin:
        admin.execute("UPDATE purchase_line SET description = 'Крем' WHERE purchase_id = %s", (bought.id,))
    activity.add_interaction(card.id, "call", "Анна Петрова просила перезвонить")
    activity.add_reminder(card.id, date(2026, 7, 1), "Поздравить Анну")
    with admin_session.connect("admin", autocommit=True) as admin:
        # Edits and a deleted contact leave audit rows that hold the old values.
        admin.execute("UPDATE client SET city = 'Пермь', notes = 'Петрова любит розы' WHERE id = %s", (card.id,))
        admin.execute("INSERT INTO contact_point (client_id, kind, value, normalized)"
                      " VALUES (%s, 'email', 'old.anna.petrova@mail.ru', 'old.anna.petrova@mail.ru')", (card.id,))
        admin.execute("DELETE FROM contact_point WHERE value = 'old.anna.petrova@mail.ru'")
        admin.execute("INSERT INTO suppression (channel, address, reason) VALUES ('email', 'anna.petrova@mail.ru',"
                      " 'unsubscribed')")
    with admin_session.connect(autocommit=True) as owner:
        # A birthday greeting queued for her daughter: the message holds the address and the child's name.
        campaign = owner.execute("INSERT INTO campaign (name, channel) VALUES ('Дни рождения', 'email')"
                                 " RETURNING id").fetchone()[0]
        owner.execute("INSERT INTO message (campaign_id, client_id, channel, address, extra) VALUES"
                      " (%s, %s, 'email', 'anna.petrova@mail.ru', '{\"child_name\": \"Маша\"}')",
                      (campaign, card.id))
        owner.execute("INSERT INTO trigger_occasion (trigger, client_id, occasion, campaign_id) VALUES"
                      " ('child_birthday', %s, '2026-06-01', %s)", (card.id, campaign))
    with admin_session.connect("admin", autocommit=True) as admin:
        refresh(admin, as_of=date(2026, 6, 30))
    with admin_session.connect(autocommit=True) as owner:
        before = _totals(owner)
        assert _traces(owner)  # the probe finds the person before

    admin_clients.forget(card.id)

    with admin_session.connect("admin", autocommit=True) as admin:
        refresh(admin, as_of=date(2026, 6, 30))
    with admin_session.connect(autocommit=True) as owner:
        assert _traces(owner) == []
        occasions = owner.execute("SELECT count(*) FROM trigger_occasion WHERE client_id = %s", (card.id,))
        assert occasions.fetchone() == (0,)
        assert _totals(owner) == before
        assert owner.execute("SELECT count(*), sum(amount) FROM purchase WHERE client_id = %s",
                             (card.id,)).fetchone() == (1, 1000)
        rows = owner.execute("SELECT login, action, old_values, new_values FROM audit_log"
                             " WHERE table_name = 'client' AND row_id = %s", (str(card.id),)).fetchall()
        assert rows == [("t_admin", "forget", None, None)]
        # The other client's history is untouched.
        assert owner.execute("SELECT count(*) FROM audit_log WHERE table_name = 'client' AND row_id = %s",
                             (str(other.id),)).fetchone()[0] >= 1
    assert card.id not in _ids(Criteria())
    assert admin_clients.state(card.id).forgotten_at is not None


def _app(db, role: str) -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


async def test_the_admin_archives_restores_and_deletes_from_the_list(admin_session, monkeypatch):
    import screens.clients.screen

    monkeypatch.setattr(screens.clients.screen, "COUNT_AFTER_SECONDS", 0.001)
    card = make_client()
    make_client(last_name="Сидоров", first_name="Пётр", contacts=(), relatives=())
    app = _app(admin_session, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "a")  # Петрова sorts first
        await settle(pilot)
        assert "Петрова Анна" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert {row.id for row in app.screen.list.cached_rows()} == {card.id + 1}
        assert admin_clients.state(card.id).archived_at is not None

        # The archived filter finds it; A restores it.
        await pilot.press("f", "shift+tab", "shift+tab")  # the archived choice is last, below the scroll
        await settle(pilot)
        assert app.screen.focused.id == "archived"
        await pilot.press("enter", "down", "enter", "ctrl+s")
        await settle(pilot)
        assert [row.id for row in app.screen.list.cached_rows()] == [card.id]
        await pilot.press("a", "a")
        await settle(pilot)
        assert admin_clients.state(card.id).archived_at is None

        await pilot.press("x")
        await settle(pilot)
        await pilot.press("a", "d")
        await settle(pilot)
        assert t("Delete {name}?", name="Петрова Анна") in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert {row.id for row in app.screen.list.cached_rows()} == {card.id + 1}
    with pytest.raises(UserError):
        session.read(admin_clients.state, card.id)


async def test_the_admin_forgets_a_person_after_a_confirmation(admin_session):
    card = make_client()
    app = _app(admin_session, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "a", "f")
        await settle(pilot)
        assert t("Forget {name}?", name="Петрова Анна") in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.list.cached_rows() == [] or card.id not in {r.id for r in app.screen.list.cached_rows()}
    assert session.read(admin_clients.state, card.id).forgotten_at is not None


async def test_a_salesperson_has_no_archive_key(admin_session):
    make_client()
    app = _app(admin_session, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("tab", "a")
        await settle(pilot)
        assert len(app.screen_stack) == 1 and t("Forget this person…") not in screen_text(app)


def test_an_archived_client_is_in_no_list_of_today(admin_session):
    from db.today import reads as today

    on = date(2026, 6, 15)
    with admin_session.connect(autocommit=True) as conn:  # the owner, who may set created_at
        ids = [conn.execute("INSERT INTO client (last_name, birth_date, created_at) VALUES (%s, '1980-06-16', %s)"
                            " RETURNING id", (name, datetime(2026, 6, 15, 9, tzinfo=timezone.utc))).fetchone()[0]
               for name in ("Kept", "Hidden")]
        for client_id in ids:
            conn.execute("INSERT INTO relative (client_id, name, birth_date) VALUES (%s, 'Kid', '2015-06-17')",
                         (client_id,))
            conn.execute("INSERT INTO subscription (client_id, starts_on, ends_on) VALUES (%s, '2026-05-20',"
                         " '2026-06-18')", (client_id,))
        admin_clients.set_archived(ids[1], True)
        view = today.load(conn, "t_admin", today=on)
    for listed in (view.birthdays, view.endings, view.new):
        assert {row.client_id for row in listed.shown} == {ids[0]}
        assert listed.total == len(listed.shown)
