"""The import and export dialogs, driven from the keyboard as an administrator would."""

from __future__ import annotations

import csv

from textual.app import App
from textual.widgets import Button, Input, Static

from db.clients.listing import Criteria
from screens.transfer.export_dialog import ExportFileScreen
from screens.transfer.import_dialog import ImportFileScreen
from tests.test_import import RU_HEADERS, RU_ROWS, clients, write_csv
from tests.pilot import settle


class Host(App):
    def __init__(self, screen) -> None:
        super().__init__()
        self.dialog = screen
        self.result = None

    def on_mount(self) -> None:
        self.push_screen(self.dialog, lambda changed: setattr(self, "result", changed))


def summary(screen) -> str:
    return str(screen.query_one("#transfer-summary", Static).content)


async def test_check_then_import_from_the_dialog(admin_session, tmp_path):
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS)
    screen = ImportFileScreen()
    app = Host(screen)
    async with app.run_test(size=(100, 40)) as pilot:
        assert screen.query_one("#import-run", Button).disabled
        await pilot.press("ctrl+s")
        assert "Check the file first" in summary(screen)
        screen.query_one("#import-path", Input).value = str(path)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "new clients:                 3" in summary(screen) and "Dry run" in summary(screen)
        assert clients(admin_session) == []
        assert not screen.query_one("#import-run", Button).disabled
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(clients(admin_session)) == 3
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is True


async def test_a_missing_file_is_said_on_the_dialog(admin_session, tmp_path):
    screen = ImportFileScreen(str(tmp_path / "nope.csv"))
    app = Host(screen)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "There is no file" in summary(screen)


async def test_export_the_current_search_from_the_dialog(admin_session, tmp_path):
    write_csv(tmp_path / "in.csv", RU_HEADERS, RU_ROWS)
    from tui.transfer.import_job import ImportOptions, run_import

    run_import(tmp_path / "in.csv", ImportOptions())
    screen = ExportFileScreen(Criteria(text="Иванов"), folder=tmp_path)
    app = Host(screen)
    async with app.run_test(size=(100, 40)) as pilot:
        screen.query_one("#export-path", Input).value = str(tmp_path / "found.csv")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Exported 1 rows" in summary(screen)
    with open(tmp_path / "found.csv", encoding="utf-8-sig") as found:
        rows = list(csv.reader(found, delimiter=";"))
    assert [row[1] for row in rows[1:]] == ["Иванов"]
