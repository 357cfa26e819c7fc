"""Merge (Ctrl+G) offers the likely duplicates of the open card before anything is typed: the same phone, the
same e-mail, or a very similar name; on a hand-made base where the answer is known."""

from __future__ import annotations

from textual.widgets import OptionList

from db.card import cards, merge
from db.card.draft import CardDraft, ContactDraft
from db.i18n import t
from screens.confirm import ConfirmScreen
from tests.card_helpers import CardApp
from tests.pilot import screen_text, settle


def _client(last: str, first: str, *contacts: tuple[str, str]) -> int:
    draft = CardDraft(last_name=last, first_name=first,
                      contacts=tuple(ContactDraft(None, kind, value, True) for kind, value in contacts))
    return cards.save_card(cards.load_card(None), draft).id


def _base(admin_session) -> dict[str, int]:
    made = {
        "keep": _client("Петрова", "Анна", ("mobile", "+7 912 345-67-89"), ("email", "anna@example.com")),
        "same phone": _client("Смирнов", "Олег", ("whatsapp", "8 (912) 345 67 89")),
        "same e-mail": _client("Кузнецова", "Ольга", ("email", "Anna@Example.com")),
        "similar name": _client("Петрова", "Аня"),
        "same name, archived": _client("Петрова", "Анна"),
        "same surname only": _client("Петров", "Игорь"),
        "someone else": _client("Сидоров", "Пётр", ("mobile", "+7 903 000-11-22")),
        "telegram is no phone": _client("Орлов", "Лев", ("telegram", "@anna")),
    }
    with admin_session.connect(autocommit=True) as conn:
        conn.execute("UPDATE client SET archived_at = now() WHERE id = %s", (made["same name, archived"],))
    return made


def test_likely_duplicates_by_phone_email_and_similar_name(admin_session):
    made = _base(admin_session)
    found = merge.likely_duplicates(made["keep"])
    assert [(s.client_id, s.reason) for s in found] == [
        (made["same phone"], "phone"), (made["same e-mail"], "email"), (made["similar name"], "name")]
    assert found[0].name == "Смирнов Олег"
    # From the other side too, and a card with no contact and a rare name has none.
    assert [s.client_id for s in merge.likely_duplicates(made["same phone"])] == [made["keep"]]
    assert merge.likely_duplicates(made["someone else"]) == []


def test_a_contact_match_is_not_listed_again_for_its_name(admin_session):
    made = _base(admin_session)
    twin = _client("Петрова", "Анна", ("email", "anna@example.com"))
    found = merge.likely_duplicates(made["keep"])
    assert [(s.client_id, s.reason) for s in found if s.client_id == twin] == [(twin, "email")]


async def test_ctrl_g_opens_with_the_suggestions_and_typing_replaces_them(admin_session):
    made = _base(admin_session)
    app = CardApp("admin", made["keep"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        text = screen_text(app)
        assert f"#{made['same phone']}  Смирнов Олег" in text and t("same phone") in text
        assert t("same e-mail") in text and t("similar name") in text
        options = app.screen.query_one("#pick-list", OptionList)
        assert options.option_count == 3
        await pilot.press(*"Сидоров")
        await settle(pilot)
        assert options.option_count == 1 and "Сидоров Пётр" in screen_text(app)
        await pilot.press(*["backspace"] * 7)
        await settle(pilot)
        assert options.option_count == 3
        await pilot.press("down", "down", "down", "enter")  # the first "down" enters the list
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert f"#{made['same e-mail']} Кузнецова Ольга" in app.screen.body
