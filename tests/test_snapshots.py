"""The layouts at 80x24, as SVG snapshots (pytest-textual-snapshot) in tests/__snapshots__/: the client list, a
card and the filter panel, each reached by keys. Refresh them after a deliberate change of layout with
`pytest tests/test_snapshots.py --snapshot-update`, and look at the report before committing.

The data is built in the test's own database and nothing shown depends on the day: the clients have no
purchases (no "last purchase", no category that ages) and the header names a fixed database."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from db.card.draft import ContactDraft, RelativeDraft
from tests.card_helpers import identity, make_client
from tests.pilot import settle
from tui.app import ClientbaseApp


@pytest.fixture(autouse=True)
def count_at_once(monkeypatch):
    """The list counts after a pause in the typing; a snapshot waits for no pause."""
    import screens.clients.screen

    monkeypatch.setattr(screens.clients.screen, "COUNT_AFTER_SECONDS", 0.001)


@pytest.fixture
def three_clients(admin_session):
    make_client()
    make_client(last_name="Ионеску", first_name="Ștefan", birth_date="30.11.1979",
                contacts=(ContactDraft(None, "mobile", "+373 69 123 456", True),
                          ContactDraft(None, "email", "stefan@example.md", True)),
                relatives=())
    make_client(last_name="Смирнов", first_name="Олег", middle_name="Петрович", city="Тверь",
                contacts=(ContactDraft(None, "work", "8 4822 12-34-56", True),),
                relatives=(RelativeDraft(None, "child", "Ваня", "m", "14.02.2012"),))
    return admin_session


def app_for(db) -> ClientbaseApp:
    return ClientbaseApp(db.target("admin"), identity("admin"), listen=False)


def after_keys(*keys: str):
    async def run(pilot: Pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        # A blinking cursor is drawn or not depending on the moment of the shot.
        for editor in pilot.app.screen.query(Input):
            editor.cursor_blink = False
        await pilot.pause()

    return run


def test_the_client_list(snap_compare, three_clients):
    assert snap_compare(app_for(three_clients), run_before=after_keys("tab"), terminal_size=(80, 24))


def test_a_card(snap_compare, three_clients):
    # Tab to the list, down to the second client (Петрова, whose card has a birth date), Enter opens it.
    assert snap_compare(app_for(three_clients), run_before=after_keys("tab", "down", "enter"), terminal_size=(80, 24))


def test_the_filter_panel(snap_compare, three_clients):
    assert snap_compare(app_for(three_clients), run_before=after_keys("tab", "f"), terminal_size=(80, 24))
