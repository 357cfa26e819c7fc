"""The campaign view at 80x24 as an SVG snapshot (pytest-textual-snapshot, as tests/test_snapshots.py): a
started campaign, its counts with the skip reasons, and a recipient found by name with the server's reply.
Refresh it after a deliberate change of layout with `--snapshot-update`, and look at the report first.

Nothing shown depends on the day or the machine: the campaign sends "now", the reply is fixed, and the header
names a fixed database."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from db.mailing import campaigns
from screens.mailing import campaign as campaign_screen
from tests.card_helpers import identity
from tests.pilot import settle
from tests.test_mailing_fixtures import GREETING_EMAIL, add_client, email_campaign
from tui.app import ClientbaseApp


@pytest.fixture
def started(admin_session, monkeypatch):
    # One read of the counts, none while the shot is taken.
    monkeypatch.setattr(campaign_screen, "PROGRESS_SECONDS", 3600)
    with admin_session.connect() as setup:
        anna = add_client(setup, "Анна", "Иванова", email="anna@example.com")
        add_client(setup, "Борис", "Петров", email="boris@example.com")
        add_client(setup, "Вера", "Сидорова", email="vera@example.com", consent_email=False)
        add_client(setup, None, "Безымянный", email="noname@example.com")
        setup.commit()
    with admin_session.connect("admin", autocommit=True) as conn:
        campaigns.start(conn, email_campaign(conn, template=GREETING_EMAIL, name="Осень"))
    with admin_session.connect() as conn:
        conn.execute("UPDATE message SET status = 'sent', attempts = 1, sent_at = now(),"
                     " last_reply = '250 2.0.0 Ok: queued as 4F2A' WHERE client_id = %s", (anna,))
        conn.commit()
    return admin_session


def test_the_campaign_view(snap_compare, started):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in ("ctrl+b", "enter", "slash", *"иванова", "enter"):
            await pilot.press(key)
            await settle(pilot)
        for editor in pilot.app.screen.query(Input):
            editor.cursor_blink = False
        await pilot.pause()

    app = ClientbaseApp(started.target("admin"), identity("admin"), listen=False)
    assert snap_compare(app, run_before=run_before, terminal_size=(80, 24))
