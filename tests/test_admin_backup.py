"""A backup taken from the app (issue 16), checked by restoring it into a scratch base."""

from __future__ import annotations

import stat

from textual.widgets import Input

from db import session
from db.connection import Target
from db.i18n import t
from screens.admin.backup import BackupScreen
from tests.card_helpers import make_client
from tests.pilot import screen_text, settle
from tui.app import ClientbaseApp
from tui.transfer.backup_job import run_restore


async def test_the_admin_backs_up_from_the_list_and_the_file_restores(admin_session, make_db, tmp_path):
    make_client()
    path = tmp_path / "office.dump"
    app = ClientbaseApp(admin_session.target("admin"), session.identity(admin_session.target("admin")),
                        listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "b")
        await settle(pilot)
        assert isinstance(app.screen, BackupScreen)
        app.screen.query_one("#backup-path", Input).value = str(path)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert t("Back up the whole base") in screen_text(app)
        assert str(path.name) in screen_text(app).replace("\n", "")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    scratch = make_db()
    expected, differences = run_restore(Target(url=scratch.url(), login="t_admin"), path, False, lambda *a: None)
    assert expected and differences == []
    with scratch.connect(autocommit=True) as conn:
        assert conn.execute("SELECT last_name FROM client").fetchall() == [("Петрова",)]


async def test_a_salesperson_has_no_backup_key(admin_session):
    session.bind(admin_session.target("sales"))
    app = ClientbaseApp(admin_session.target("sales"), session.identity(admin_session.target("sales")),
                        listen=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "b")
        await settle(pilot)
        assert not isinstance(app.screen, BackupScreen)
