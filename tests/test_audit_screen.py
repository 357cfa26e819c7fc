"""The audit screen at 80x24 pressing real keys: the manager reads who changed what, old beside new in words,
filters by keys, pages on, opens the client from a change and reads the summary per day; a salesperson has no
key for it; and the same with NO_COLOR set."""

from __future__ import annotations

import re

import psycopg
import pytest

from db import session
from db.audit import reads
from screens.audit.dialogs import FilterDialog
from screens.audit.screen import AuditScreen
from screens.card.screen import CardScreen
from tests.pilot import screen_text, settle, wait_for
from tui.app import ClientbaseApp


@pytest.fixture
def logged(fresh_db):
    with psycopg.connect(fresh_db.url("t_admin"), autocommit=True) as conn:
        anna = conn.execute("INSERT INTO client (last_name, first_name, city) VALUES ('Ivanova', 'Anna', 'Kazan') "
                            "RETURNING id").fetchone()[0]
        conn.execute("UPDATE client SET city = 'Moscow' WHERE id = %s", (anna,))
        conn.execute("INSERT INTO client (last_name) SELECT 'Many' || g FROM generate_series(1, 80) g")
    yield fresh_db, anna
    from db.models import database

    database.close_all()


def make_app(db, role: str = "manager") -> ClientbaseApp:
    target = db.target(role)
    session.bind(target)
    return ClientbaseApp(target, session.identity(target), listen=False)


async def open_audit(app: ClientbaseApp, pilot) -> AuditScreen:
    await settle(pilot)
    await pilot.press("ctrl+o")
    await settle(pilot)
    assert isinstance(app.screen, AuditScreen)
    await wait_for(pilot, lambda: app.screen.entries)
    return app.screen


@pytest.mark.parametrize("no_color", [False, True])
async def test_the_manager_filters_reads_a_change_in_words_and_opens_the_client(logged, monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    db, anna = logged
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        assert len(screen.entries) == reads.PAGE_SIZE and not screen.complete
        # Down the list: the next page is read before the cursor reaches the end.
        for _ in range(reads.PAGE_SIZE):
            await pilot.press("down")
        await settle(pilot)
        assert len(screen.entries) == 82 and screen.complete
        assert len({entry.id for entry in screen.entries}) == 82

        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FilterDialog)
        await pilot.press(*str(anna), "enter")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen) and screen.audit.client_id == anna
        assert [entry.action for entry in screen.entries] == ["update", "insert"]
        text = screen_text(app)
        assert "Client changed" in text and "Ivanova Anna" in text
        # The highlighted change, old beside new, the field by its name.
        line = next(line for line in text.splitlines() if "City" in line)
        assert line.index("Kazan") < line.index("Moscow")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CardScreen)
        await wait_for(pilot, lambda: app.screen.client_id == anna)


async def test_the_summary_per_day_and_escape_drops_the_filters(logged):
    db, anna = logged
    app = make_app(db, "admin")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        await pilot.press("c")
        await settle(pilot)
        assert screen.audit.client_id is not None
        await pilot.press("escape")
        await settle(pilot)
        assert screen.audit == reads.AuditFilter()
        await pilot.press("2")
        await settle(pilot)
        row = next(line for line in screen_text(app).splitlines() if re.match(r"\s*\d{4}-\d\d-\d\d\s+t_admin", line))
        # 81 clients added, one edited, no purchase, no mailing.
        assert row.split()[-4:] == ["81", "1", "0", "0"]


async def test_a_salesperson_has_no_audit_key(logged):
    db, _ = logged
    app = make_app(db, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Audit" not in screen_text(app)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not isinstance(app.screen, AuditScreen)


async def test_the_client_filter_lists_the_clients_purchase_lines(logged):
    """c on a change of Anna's keeps her changes only, and those include her purchase's lines, which name a
    purchase, not a client."""
    db, anna = logged
    with psycopg.connect(db.url("t_admin"), autocommit=True) as conn:
        purchase = conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, now(), 90) "
                                "RETURNING id", (anna,)).fetchone()[0]
        conn.execute("INSERT INTO purchase_line (purchase_id, description, price) VALUES (%s, 'Soap', 90)",
                     (purchase,))
        conn.execute("UPDATE purchase_line SET description = 'Olive soap' WHERE purchase_id = %s", (purchase,))
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_audit(app, pilot)
        assert screen.entries[0].table_name == "purchase_line"
        await pilot.press("c")
        await settle(pilot)
        await wait_for(pilot, lambda: screen.audit.client_id == anna and screen.complete)
        assert [(entry.table_name, entry.action) for entry in screen.entries] == [
            ("purchase_line", "update"), ("purchase_line", "insert"), ("purchase", "insert"), ("client", "update"),
            ("client", "insert")]
        text = screen_text(app)
        assert "Purchase line changed" in text and "Olive soap" in text
