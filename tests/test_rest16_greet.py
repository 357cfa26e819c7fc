"""Today's greeting key: "g" on a birthday row queues that client's birthday greeting (the triggers' template, a
one-recipient greeting campaign) for the administrator; consent and suppression are respected, the nightly run
does not greet the same birthday again, and the database refuses a reader."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest

from db import session
from db.i18n import t
from db.mailing import triggers
from screens.today.screen import TodayScreen
from tests.pilot import settle, wait_for
from tui.app import ClientbaseApp
from tui.mailing import trigger_templates


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@pytest.fixture
def shop(fresh_db):
    """Olga's birthday is today; she has an e-mail. Her child Vanya's is tomorrow. Pavel's is tomorrow too, but
    he refused e-mail. Irina's is today and her address is suppressed."""
    with fresh_db.connect(autocommit=True) as conn:
        today = conn.execute("SELECT (now() AT TIME ZONE 'Europe/Moscow')::date").fetchone()[0]
        made = {}
        for name, day, email, refused in (("Olga", today, "olga@example.com", False),
                                          ("Pavel", today + timedelta(days=1), "pavel@example.com", True),
                                          ("Irina", today, "irina@example.com", False)):
            made[name] = conn.execute(
                "INSERT INTO client (last_name, first_name, birth_date, consent_email, consent_email_at)"
                " VALUES ('Test', %s, %s, false, CASE WHEN %s THEN now() END) RETURNING id",
                (name, _years_before(day, 30), refused)).fetchone()[0]
            conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized, is_primary)"
                         " VALUES (%s, 'email', %s, %s, true)", (made[name], email, email))
        conn.execute("INSERT INTO relative (client_id, relation, name, birth_date) VALUES (%s, 'child', 'Vanya', %s)",
                     (made["Olga"], _years_before(today + timedelta(days=1), 6)))
        conn.execute("INSERT INTO suppression (channel, address, reason) VALUES ('email', 'irina@example.com', "
                     "'unsubscribed')")
    yield fresh_db, made, today
    from db.models import database

    database.close_all()


def _messages(db) -> list[tuple]:
    with db.connect() as conn:
        return conn.execute(
            "SELECT c.first_name, m.status, k.purpose, k.status, t.name, m.extra ->> 'child_name'"
            "  FROM message m JOIN campaign k ON k.id = m.campaign_id JOIN client c ON c.id = m.client_id"
            "  JOIN campaign_variant v ON v.id = m.variant_id JOIN template t ON t.id = v.template_id"
            " ORDER BY m.id").fetchall()


def test_a_greeting_is_one_recipient_and_the_nightly_run_does_not_repeat_it(shop):
    db, made, today = shop
    session.bind(db.target("admin"))
    now = datetime.now(timezone.utc)
    queued = trigger_templates.greet_birthday(made["Olga"], today, child=False, now=now)
    assert queued.campaign_id is not None and queued.skip_reason is None
    assert _messages(db) == [("Olga", "queued", "greeting", "sending", "trigger: birthday", None)]
    child = trigger_templates.greet_birthday(made["Olga"], today + timedelta(days=1), child=True, now=now)
    assert child.campaign_id is not None
    assert _messages(db)[-1] == ("Olga", "queued", "greeting", "sending", "trigger: child_birthday", "Vanya")
    # Not twice by hand...
    with pytest.raises(Exception) as refused:
        trigger_templates.greet_birthday(made["Olga"], today, child=False, now=now)
    assert "already greeted" in str(refused.value)
    # ...nor again by the nightly run of the same day (birthdays greeted on the day itself).
    with db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('birthday_days_ahead', '0') "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        settings = triggers.read_settings(conn)
        template_id = trigger_templates.ensure_template(conn, "birthday", settings.language)
        outcome = triggers.run_trigger(conn, "birthday", today, template_id=template_id, campaign_name="nightly",
                                       settings=settings, now=now)
        nightly = conn.execute("SELECT c.first_name, m.skip_reason FROM message m JOIN client c ON c.id = m.client_id"
                               " WHERE m.campaign_id = %s ORDER BY 1", (outcome.campaign_id,)).fetchall()
    assert nightly == [("Irina", "suppressed")]


def test_refusal_and_suppression_leave_no_campaign(shop):
    db, made, today = shop
    session.bind(db.target("admin"))
    now = datetime.now(timezone.utc)
    refused = trigger_templates.greet_birthday(made["Pavel"], today + timedelta(days=1), child=False, now=now)
    suppressed = trigger_templates.greet_birthday(made["Irina"], today, child=False, now=now)
    assert (refused.campaign_id, refused.skip_reason) == (None, "no consent")
    assert (suppressed.campaign_id, suppressed.skip_reason) == (None, "suppressed")
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM campaign").fetchone()[0] == 0


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_the_database_refuses_a_reader(shop, role):
    db, made, today = shop
    settings_conn = db.connect(autocommit=True)
    with settings_conn as conn:
        settings = triggers.read_settings(conn)
        template_id = trigger_templates.ensure_template(conn, "birthday", settings.language)
    with psycopg.connect(db.target(role).url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            triggers.greet_one(conn, "birthday", made["Olga"], today, template_id=template_id,
                               campaign_name="by hand", settings=settings, now=datetime.now(timezone.utc))


def _make_app(db, role: str) -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


async def test_g_on_a_birthday_row_queues_the_greeting(shop):
    db, made, today = shop
    app = _make_app(db, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, TodayScreen)
        await wait_for(pilot, lambda: app.screen.view is not None)
        screen = app.screen
        olga = next(i for i, b in enumerate(screen.birthday_rows)
                    if b.client_id == made["Olga"] and not b.relative_name)
        screen.query_one("#birthdays-table").focus()
        await pilot.press(*["down"] * olga)
        await pilot.press("g")
        await settle(pilot)
        await wait_for(pilot, lambda: bool(_messages(db)))
        assert _messages(db) == [("Olga", "queued", "greeting", "sending", "trigger: birthday", None)]
        irina = next(i for i, b in enumerate(screen.birthday_rows) if b.client_id == made["Irina"])
        await pilot.press(*(["up"] * olga + ["down"] * irina))
        await pilot.press("g")
        await settle(pilot)
        said = [n.message for n in app._notifications]
        assert t("No greeting queued for {name}: {reason}.", name="Test Irina", reason=t("suppressed")) in said


async def test_a_salesperson_has_no_greeting_key(shop):
    db, made, today = shop
    app = _make_app(db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        await wait_for(pilot, lambda: app.screen.view is not None)
        assert app.screen.check_action("greet", ()) is False
        await pilot.press("g")
        await settle(pilot)
    assert _messages(db) == []
