"""The mailing screen's triggers tab, by real keys at 80x24: each trigger with its state, channel and template;
the administrator switches one to SMS and off, and a reading role sees no key that writes."""

from __future__ import annotations

import pytest

from db.i18n import t
from db.mailing import triggers
from tests.pilot import screen_lines, screen_text, settle
from tests.test_mailing_screen import make_app, open_mailing
from tui.mailing import trigger_templates


@pytest.fixture
def db(fresh_db):
    yield fresh_db
    from db.models import database

    database.close_all()


def row_of(app, label: str) -> str:
    return next(line for line in screen_lines(app) if line.strip().startswith(label))


async def test_the_administrator_sends_reactivation_by_sms_then_switches_it_off(db):
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        for name in triggers.TRIGGERS:
            assert t(triggers.LABEL[name]) in screen_text(app)
        assert t("e-mail") in row_of(app, t("reactivation")) and t("on") in row_of(app, t("reactivation")).split()
        footer = screen_lines(app)[-1]
        assert t("On/off") in footer and t("Channel") in footer and t("New") not in footer
        for _ in range(4):
            await pilot.press("down")
        await pilot.press("c")
        await settle(pilot)
        line = row_of(app, t("reactivation"))
        # The template's fixed name (stored in English so that the run finds it) in the reader's words.
        stored = trigger_templates.SMS_TEMPLATE_NAME["reactivation"]
        assert t("SMS") in line and trigger_templates.shown_name(stored) in line and stored not in line
        await pilot.press("o")
        await settle(pilot)
        assert t("off") in row_of(app, t("reactivation")).split()
        # Only the selected trigger changed.
        assert t("e-mail") in row_of(app, t("birthdays")) and t("on") in row_of(app, t("birthdays")).split()
        # Back on the campaigns, the trigger keys leave the footer and n returns.
        await pilot.press("1")
        await settle(pilot)
        assert t("On/off") not in screen_lines(app)[-1] and t("New") in screen_lines(app)[-1]
    with db.connect() as conn:
        settings = triggers.read_settings(conn)
    assert settings.channel("reactivation") == "sms" and "reactivation" not in settings.enabled
    assert settings.channel("birthday") == "email" and "birthday" in settings.enabled


async def test_a_reading_role_sees_the_triggers_and_no_key_that_changes_them(db):
    app = make_app(db, "manager")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        assert t(triggers.LABEL["holiday"]) in screen_text(app)
        assert t("On/off") not in screen_lines(app)[-1] and t("Channel") not in screen_lines(app)[-1]
        await pilot.press("c", "o")
        await settle(pilot)
    with db.connect() as conn:
        settings = triggers.read_settings(conn)
    assert settings.channel("birthday") == "email" and settings.enabled == frozenset(triggers.TRIGGERS)
    # And the database refuses the manager anyway.
    with db.connect("manager", autocommit=True) as conn:
        from db.errors import UserError

        with pytest.raises(UserError):
            triggers.configure(conn, "birthday", channel="sms")


async def test_enter_on_a_trigger_opens_its_template_of_its_channel(db):
    from datetime import date

    from screens.mailing.template_editor import TemplateEditor
    from tests.test_triggers import run
    from tui.textual_compat import notification_messages

    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")  # no run yet: the default is used until the first run saves it
        await settle(pilot)
        assert any(t("The trigger's template is made by its first run; until then the default is used.") == said
                   for said in notification_messages(app))
    run(db, date(2026, 3, 8))  # saves every trigger's e-mail template
    with db.connect() as conn:
        [(birthday_template,)] = conn.execute("SELECT id FROM template WHERE name = %s",
                                              (trigger_templates.TEMPLATE_NAME["birthday"],)).fetchall()
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("3")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TemplateEditor) and app.screen.template_id == birthday_template
