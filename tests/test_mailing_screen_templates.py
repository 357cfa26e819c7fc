"""The template editor at 80x24 with real keys: the live preview for a client picked by name or number, the SMS
counter, errors at save time with their line and the draft kept, and a reading role that cannot save."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static, TextArea

from db.i18n import t
from screens.mailing.screen import MailingScreen
from screens.mailing.template_editor import TemplateEditor
from tests.pilot import screen_text, settle, wait_for
from tests.test_mailing_fixtures import GREETING_EMAIL, add_client, save_template
from tests.test_mailing_screen import flat, footer, make_app, open_mailing
from tests.test_roles import _allowed


@pytest.fixture
def base(fresh_db):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", "Иванова", email="anna@example.com", gender="f")
        add_client(setup, "Борис", "Петров", email="boris@example.com", gender="m", city="Тверь")
        setup.commit()
    yield fresh_db
    from db.models import database

    database.close_all()


def shown(editor: TemplateEditor, part: str = "preview") -> str:
    """What a part of the editor's right side says (the preview wraps at the side's width on the terminal)."""
    return str(editor.query_one(f"#tpl-{part}", Static).content)


async def new_template(app, pilot) -> TemplateEditor:
    await open_mailing(app, pilot)
    await pilot.press("2", "n")
    await settle(pilot)
    assert isinstance(app.screen, TemplateEditor)
    return app.screen


async def test_an_email_template_previews_live_for_a_chosen_client_and_saves_what_it_needs(base):
    app = make_app(base)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_template(app, pilot)
        await pilot.press(*"Весна")
        await pilot.press("tab", "tab")  # past the channel (e-mail) to the subject
        await pilot.press(*"Для вас, {{ first_name }}")
        await pilot.press("tab")
        await pilot.press(*"{{ greeting }} {{ first_name }}, в {{ city | default('вашем городе') }} весна!")
        await settle(pilot)
        # The first client of the base, until another is picked.
        assert "Уважаемая Анна, в вашем городе весна!" in shown(editor)
        assert "Для вас, Анна" in shown(editor) and "Уважаемая Анна, в вашем городе" in screen_text(app)
        editor.query_one("#tpl-client", Input).focus()
        await pilot.press(*"петров")
        await settle(pilot)
        await wait_for(pilot, lambda: "Уважаемый Борис, в Тверь весна!" in shown(editor))
        assert "Петров Борис" in shown(editor, "client-name")

        await pilot.press("ctrl+s")
        await settle(pilot)
    with base.connect() as conn:
        saved = conn.execute("SELECT channel, subject, required_fields FROM template WHERE name = 'Весна'").fetchone()
        assert saved == ("email", "Для вас, {{ first_name }}", ["first_name", "greeting"])


async def test_an_sms_counts_characters_and_segments_as_it_is_typed(base):
    app = make_app(base)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_template(app, pilot)
        await pilot.press(*"СМС", "tab", "enter", "down", "enter")  # the channel: SMS
        await settle(pilot)
        assert editor.query_one("#tpl-subject", Input).display is False
        editor.query_one("#tpl-body", TextArea).focus()
        await pilot.press(*"Hello {{ first_name }}")
        await settle(pilot)
        # Rendered for Анна: Cyrillic forces UCS-2, "Hello Анна" is 10 characters, one segment of 70.
        assert t("{characters} characters, {count} segment ({encoding}, {per} a segment)", characters=10, count=1,
                 encoding="UCS-2", per=70) in shown(editor, "counter")
        await pilot.press(*("x" * 61))
        await settle(pilot)
        assert t("{characters} characters, {count} segments ({encoding}, {per} a segment)", characters=71, count=2,
                 encoding="UCS-2", per=67) in shown(editor, "counter")


async def test_errors_are_said_at_save_with_their_line_and_the_draft_stays(base):
    app = make_app(base)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_template(app, pilot)
        await pilot.press(*"Ошибки", "tab", "tab", *"Тема", "tab")
        await pilot.press(*"Здравствуйте!", "enter", *"{{ frist_name }}", "enter", *"{% if %}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        said = shown(editor, "errors")
        assert t("{part}, line {line}: {reason}", part=t("Text"), line=3, reason="") in said
        assert "syntax error" in said
        assert isinstance(app.screen, TemplateEditor)
        assert editor.query_one("#tpl-body", TextArea).text == "Здравствуйте!\n{{ frist_name }}\n{% if %}"

        # The syntax mended, the unknown variable is named with its line.
        await pilot.press("backspace", "backspace", "backspace", *" true %}x{% endif %}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        said = shown(editor, "errors")
        unknown = t("{part}, line {line}: {reason}", part=t("Text"), line=2, reason="unknown variable 'frist_name'")
        assert unknown in said
        # Escape asks before the unsaved draft is dropped; Stay keeps it.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert isinstance(app.screen, TemplateEditor)
    with base.connect() as conn:
        assert conn.execute("SELECT count(*) FROM template").fetchone() == (0,)


async def test_a_reader_previews_templates_but_cannot_save_and_the_database_refuses(base):
    with base.connect("admin", autocommit=True) as conn:
        save_template(conn, "Осень", GREETING_EMAIL)
    app = make_app(base, "manager")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("2")
        await settle(pilot)
        assert t("New") not in footer(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TemplateEditor)
        assert "Скидка для вас, Анна" in shown(app.screen)
        assert t("Save") not in footer(app)
        await pilot.press("ctrl+s", "escape")
        await settle(pilot)
        assert isinstance(app.screen, MailingScreen)
    app = make_app(base, "sales")  # since 0024 salespeople read the templates too, and write none
    async with app.run_test(size=(80, 24)) as pilot:
        await open_mailing(app, pilot)
        await pilot.press("2")
        await settle(pilot)
        assert t("Your role reads the campaigns and their counts, not the templates.") not in flat(app)
        assert t("New") not in footer(app)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, TemplateEditor)
        assert "Скидка для вас, Анна" in shown(app.screen)
        assert t("Save") not in footer(app)
        await pilot.press("ctrl+s", "escape")
        await settle(pilot)
        assert isinstance(app.screen, MailingScreen)
    for role in ("manager", "sales"):
        with base.connect(role, autocommit=True) as conn:
            assert not _allowed(conn, "UPDATE template SET body = 'x'")
            assert not _allowed(conn, "INSERT INTO template (name, channel, body) VALUES ('x', 'sms', 'x')")


async def test_the_preview_client_is_picked_by_number(base):
    with base.connect() as conn:
        boris = conn.execute("SELECT id FROM client WHERE first_name = 'Борис'").fetchone()[0]
    app = make_app(base)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_template(app, pilot)
        editor.query_one("#tpl-body", TextArea).focus()
        await pilot.press(*"Привет, {{ first_name }}!")
        await settle(pilot)
        assert shown(editor) == "Привет, Анна!"
        editor.query_one("#tpl-client", Input).focus()
        await pilot.press(*f"#{boris}")
        await settle(pilot)
        await wait_for(pilot, lambda: shown(editor) == "Привет, Борис!")
        assert shown(editor, "client-name") == t("For: {name} (No. {id})", name="Петров Борис", id=boris)


async def test_an_archived_client_is_offered_for_no_preview(base):
    with base.connect() as conn:
        conn.execute("UPDATE client SET archived_at = now() WHERE first_name = 'Анна'")
        conn.commit()
    app = make_app(base)
    async with app.run_test(size=(80, 24)) as pilot:
        editor = await new_template(app, pilot)
        editor.query_one("#tpl-body", TextArea).focus()
        await pilot.press(*"Привет, {{ first_name }}!")
        await settle(pilot)
        assert shown(editor) == "Привет, Борис!", "the first client in use, not the archived one"
        editor.query_one("#tpl-client", Input).focus()
        await pilot.press(*"иванова")
        await settle(pilot)
        await wait_for(pilot, lambda: t("No client matches “{text}”.", text="иванова") == shown(editor, "client-name"))
        assert shown(editor) == "Привет, Борис!"
