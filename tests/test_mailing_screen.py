"""The mailing mode as the administrator and a salesperson meet it: real keys at 80x24, checked against the
database. Campaigns here: the list, the new-campaign form, the audience before starting, live progress,
start/pause/resume/cancel, "did this client get it?", the preview and a test through a local SMTP server."""

from __future__ import annotations

import email
import email.policy

import pytest

from db import session
from db.i18n import t
from db.mailing import campaigns
from screens.mailing import campaign as campaign_screen
from screens.mailing.campaign import CampaignScreen
from screens.mailing.campaign_form import CampaignForm
from screens.mailing.dialogs import PreviewDialog, SendTestDialog
from screens.mailing.screen import MailingScreen
from tests.pilot import screen_lines, screen_text, settle, wait_for
from tests.test_mailing_fixtures import (GREETING_EMAIL, add_client, email_campaign, save_template,  # noqa: F401
                                         set_setting, smtp_sink)
from tests.test_roles import _allowed
from tui.app import ClientbaseApp
from tui.textual_compat import notification_messages


@pytest.fixture(autouse=True)
def quick_progress(monkeypatch):
    monkeypatch.setattr(campaign_screen, "PROGRESS_SECONDS", 0.2)


class Shop:
    """The test's database, with the ids of the clients the tests look for."""

    def __init__(self, db, anna: int, boris: int) -> None:
        self.db, self.anna, self.boris = db, anna, boris

    def __getattr__(self, name: str):
        return getattr(self.db, name)


@pytest.fixture
def shop(fresh_db):
    """Four clients: two who may get e-mail, one without consent, one without a first name."""
    with fresh_db.connect() as setup:
        anna = add_client(setup, "Анна", "Иванова", email="anna@example.com")
        boris = add_client(setup, "Борис", "Петров", email="boris@example.com")
        add_client(setup, "Вера", "Сидорова", email="vera@example.com", consent_email=False)
        add_client(setup, None, "Безымянный", email="noname@example.com")
        set_setting(setup, "mail_from", "Shop <news@shop.example>")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        save_template(conn, "Осенняя скидка", GREETING_EMAIL)
    yield Shop(fresh_db, anna, boris)
    from db.models import database

    database.close_all()


def make_app(db, role: str = "admin") -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


async def open_mailing(app: ClientbaseApp, pilot) -> MailingScreen:
    await settle(pilot)
    await pilot.press("ctrl+b")
    await settle(pilot)
    assert isinstance(app.screen, MailingScreen)
    return app.screen


def flat(app: ClientbaseApp) -> str:
    """The screen's words in one line, so that a wrapped sentence is found whole."""
    return " ".join(screen_text(app).split())


def footer(app: ClientbaseApp) -> str:
    return screen_lines(app)[-1]


async def test_a_new_campaign_from_the_form_shows_its_audience_then_starts_and_pauses(shop):
    app = make_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        assert t("Mailing") not in footer(app) and t("New") in footer(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CampaignForm)
        await pilot.press(*"Осень")
        # The only e-mail template is chosen already; audience all, marketing, now.
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        with shop.connect() as conn:
            [(campaign_id, status)] = conn.execute("SELECT id, status FROM campaign").fetchall()
            assert status == "draft"
            assert conn.execute("SELECT count(*) FROM message").fetchone() == (0,), "counting enqueues nothing"
        text = screen_text(app)
        assert t("Starting now: {total} clients in the audience, {to_send} to send to.", total="4", to_send="2") in text
        assert t("no consent") + " 1" in text and "missing first_name 1" in text
        assert t("Start") in footer(app) and t("Pause") not in footer(app)

        await pilot.press("s")
        await settle(pilot)
        with shop.connect() as conn:
            assert conn.execute("SELECT status FROM campaign WHERE id = %s", (campaign_id,)).fetchone() == ("sending",)
        await wait_for(pilot, lambda: f"{t(('message', 'queued'))} 2" in screen_text(app))
        assert t("Pause") in footer(app) and t("Start") not in footer(app)

        await pilot.press("p")
        await settle(pilot)
        with shop.connect() as conn:
            assert conn.execute("SELECT status FROM campaign WHERE id = %s", (campaign_id,)).fetchone() == ("paused",)
        await pilot.press("u")
        await settle(pilot)
        with shop.connect() as conn:
            assert conn.execute("SELECT status FROM campaign WHERE id = %s", (campaign_id,)).fetchone() == ("sending",)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")  # "Cancel the campaign" is the first answer, focused
        await settle(pilot)
        with shop.connect() as conn:
            assert conn.execute("SELECT status FROM campaign WHERE id = %s", (campaign_id,)).fetchone() == (
                "cancelled",)
            assert conn.execute("SELECT count(*) FROM message WHERE status = 'cancelled'").fetchone() == (2,)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MailingScreen)
        # The list is read again once the campaign closes.
        await wait_for(pilot, lambda: t(("campaign", "cancelled")) in screen_text(app))


async def test_the_progress_refreshes_by_itself_while_messages_are_sent_elsewhere(shop):
    with shop.connect("admin", autocommit=True) as conn:
        campaign_id = email_campaign(conn, template=GREETING_EMAIL, name="Зима")
        campaigns.start(conn, campaign_id)
    app = make_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert f"{t(('message', 'queued'))} 2" in screen_text(app)
        # A delivery worker elsewhere sends one: the screen shows it without a key being pressed.
        with shop.connect() as conn:
            conn.execute("UPDATE message SET status = 'sent', sent_at = now(), attempts = 1,"
                         " last_reply = '250 2.0.0 Ok: queued' WHERE client_id = %s", (shop.anna,))
            conn.commit()
        await wait_for(pilot, lambda: f"{t(('message', 'sent'))} 1" in screen_text(app))
        await wait_for(pilot, lambda: f"{t(('message', 'queued'))} 1" in screen_text(app))


async def test_did_this_client_get_it_finds_the_recipient_with_state_attempts_and_reply(shop):
    with shop.connect("admin", autocommit=True) as conn:
        campaign_id = email_campaign(conn, template=GREETING_EMAIL, name="Зима")
        campaigns.start(conn, campaign_id)
    with shop.connect() as conn:
        conn.execute("UPDATE message SET status = 'sent', sent_at = now(), attempts = 2,"
                     " last_reply = '250 2.0.0 Ok: queued as 42' WHERE client_id = %s", (shop.anna,))
        conn.commit()
    app = make_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("slash", *"иванова")
        await settle(pilot)
        row = next(line for line in screen_lines(app) if "anna@example.com" in line)
        assert "Иванова Анна" in row and t(("message", "sent")) in row and " 2 " in row and "250 2.0.0 Ok" in row
        assert "boris@example.com" not in screen_text(app)

        # By e-mail, the client left out for want of a first name, with the reason.
        await pilot.press(*["backspace"] * 7, *"noname@")
        await settle(pilot)
        row = next(line for line in screen_lines(app) if "noname@example.com" in line)
        assert t(("message", "skipped")) in row and "missing first_name" in row

        # Enter on a recipient previews the message that client gets.
        await pilot.press("backspace", *["backspace"] * 6, *"anna@")
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PreviewDialog)
        text = screen_text(app)
        assert "Скидка для вас, Анна" in text and "Здравствуйте, Анна!" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)


async def test_a_test_message_goes_through_the_delivery_code_to_the_typed_address(shop, smtp_sink, monkeypatch):
    with shop.connect("admin", autocommit=True) as conn:
        email_campaign(conn, template=GREETING_EMAIL, name="Зима")
    app = make_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        # Without CLIENTBASE_SMTP_URL the admin is told what to set, and nothing is sent.
        monkeypatch.delenv("CLIENTBASE_SMTP_URL", raising=False)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, SendTestDialog)
        await pilot.press(*"boss@shop.example", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: any("CLIENTBASE_SMTP_URL" in said for said in notification_messages(app)))
        assert smtp_sink.received == []

        monkeypatch.setenv("CLIENTBASE_SMTP_URL", f"smtp://127.0.0.1:{smtp_sink.port}")
        await pilot.press("t")
        await settle(pilot)
        await pilot.press(*"boss@shop.example", "enter")
        await settle(pilot)
        await wait_for(pilot, lambda: any("250" in said for said in notification_messages(app)))
    [(recipients, raw)] = smtp_sink.received
    assert recipients == ["boss@shop.example"]
    sent = email.message_from_bytes(raw, policy=email.policy.default)
    # Written for the campaign's first client (Анна), as delivery would write it.
    assert sent["Subject"] == "Скидка для вас, Анна"
    assert "Здравствуйте, Анна!" in sent.get_body(("plain",)).get_content()
    assert sent["List-Unsubscribe"]


@pytest.mark.parametrize("role", ["sales", "manager"])
async def test_a_reading_role_sees_the_progress_and_no_write_key_and_the_database_refuses_it(shop, role):
    with shop.connect("admin", autocommit=True) as conn:
        campaign_id = email_campaign(conn, template=GREETING_EMAIL, name="Зима")
        draft_id = email_campaign(conn, template=GREETING_EMAIL, name="Весна")
        campaigns.start(conn, campaign_id)
    app = make_app(shop, role)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        assert t("New") not in footer(app)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, MailingScreen), "n makes nothing for a reading role"
        await pilot.press("down")  # the list is newest first: Зима is the second row
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        await wait_for(pilot, lambda: f"{t(('message', 'queued'))} 2" in screen_text(app))
        for word in (t("Start"), t("Pause"), t("Cancel"), t("Test")):
            assert word not in footer(app)
        await pilot.press("p", "c")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        # Did this client get it? Readers search the recipients and preview their message, as the admin does.
        await pilot.press("slash", *"иванова")
        await settle(pilot)
        await wait_for(pilot, lambda: any("anna@example.com" in line for line in screen_lines(app)))
        row = next(line for line in screen_lines(app) if "anna@example.com" in line)
        assert "Иванова Анна" in row and t(("message", "queued")) in row
        await pilot.press("enter", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PreviewDialog)
        assert "Здравствуйте, Анна!" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        for word in (t("Start"), t("Pause"), t("Cancel"), t("Test")):
            assert word not in footer(app)
    with shop.connect(role, autocommit=True) as conn:
        assert not _allowed(conn, f"UPDATE message SET status = 'cancelled' WHERE campaign_id = {campaign_id}")
        assert not _allowed(conn, f"UPDATE campaign SET status = 'paused' WHERE id = {campaign_id}")
        assert not _allowed(conn, "INSERT INTO template (name, channel, body) VALUES ('x', 'sms', 'x')")
        assert not _allowed(conn, "INSERT INTO campaign (name, channel) VALUES ('x', 'email')")
    with shop.connect() as conn:
        assert conn.execute("SELECT id, status FROM campaign ORDER BY id").fetchall() == [
            (campaign_id, "sending"), (draft_id, "draft")]


async def test_m_on_the_clients_list_makes_a_campaign_for_the_clients_it_shows(shop):
    app = make_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press(*"Петров")
        await settle(pilot)
        await pilot.press("escape", "m")
        await settle(pilot)
        assert app.current_mode == "mailing" and isinstance(app.screen, CampaignForm)
        assert t("The clients list's current search and filters") in screen_text(app)
        await pilot.press(*"Только Борис", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        await wait_for(pilot, lambda: t("Starting now: {total} clients in the audience, {to_send} to send to.",
                                        total="1", to_send="1") in screen_text(app))
        await pilot.press("s")
        await settle(pilot)
    with shop.connect() as conn:
        assert conn.execute("SELECT client_id, status FROM message").fetchall() == [(shop.boris, "queued")]


async def test_the_form_offers_saved_segments_as_the_audience(shop):
    with shop.connect() as conn:
        conn.execute("INSERT INTO segment (name, filter) VALUES ('Анны', %s)",
                     ('{"text": "Анна", "filters": {}}',))
        conn.commit()
    app = make_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Для Анн", "tab", "tab", "enter", "down", "enter")  # the audience: the segment
        await settle(pilot)
        assert "Анны" in screen_text(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert "Анны" in screen_text(app)
    with shop.connect() as conn:
        assert conn.execute("SELECT s.name FROM campaign k JOIN segment s ON s.id = k.segment_id").fetchall() == [
            ("Анны",)]


async def test_the_form_schedules_a_weekly_campaign_and_says_a_bad_time_in_place(shop):
    app = make_app(shop)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Каждый понедельник", "tab", "tab", "tab", "tab", "tab")  # to the schedule
        await pilot.press("enter", "down", "down", "enter", "tab", *"MONDAY 10", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignForm), "the form stays with what was typed"
        assert "MONDAY 10" in screen_text(app) and "MON 10:00" in flat(app)
        await pilot.press(*["backspace"] * 9, *"MON 10:00", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CampaignScreen)
        assert t("every {weekly}", weekly="MON 10:00") in screen_text(app)
    with shop.connect() as conn:
        assert conn.execute("SELECT weekly_day, weekly_time::text, status FROM campaign").fetchall() == [
            (0, "10:00:00", "draft")]
