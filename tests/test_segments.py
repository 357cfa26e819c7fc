"""Saved segments: renamed and deleted by the administrator only, in db/ and from the picker's keys."""

from __future__ import annotations

import pytest

from db import session
from db.clients import segments
from db.clients.listing import Criteria, Filters
from db.errors import UserError
from db.i18n import N_, t
from screens.confirm import ConfirmScreen
from screens.clients.segments import SegmentNameDialog, SegmentPicker
from tests.card_helpers import identity
from tests.pilot import screen_lines, settle
from tui.app import ClientbaseApp

WOMEN = Criteria(text="ова", filters=Filters(gender="f"))


def test_rename_keeps_the_criteria_and_refuses_a_taken_or_empty_name(admin_session):
    women = segments.save("Women", WOMEN)
    segments.save("Men", Criteria(filters=Filters(gender="m")))
    renamed = segments.rename(women.id, "  Women who buy  ")
    assert (renamed.id, renamed.name, renamed.criteria) == (women.id, "Women who buy", WOMEN)
    with pytest.raises(UserError) as taken:
        segments.rename(women.id, "Men")
    assert taken.value.key == N_("Another segment already has that name; choose another one.")
    with pytest.raises(UserError) as empty:
        segments.rename(women.id, "   ")
    assert empty.value.key == N_("A segment needs a name.")
    assert [s.name for s in segments.list_segments()] == ["Men", "Women who buy"]


def test_delete_removes_it_and_a_second_delete_says_it_is_gone(admin_session):
    women = segments.save("Women", WOMEN)
    segments.delete(women.id)
    assert segments.list_segments() == []
    with pytest.raises(UserError) as gone:
        segments.delete(women.id)
    assert gone.value.key == N_("That segment no longer exists; someone may have deleted it.")
    with pytest.raises(UserError):
        segments.rename(women.id, "Again")


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_only_the_administrator_renames_or_deletes(admin_session, role):
    women = segments.save("Women", WOMEN)
    session.bind(admin_session.target(role))
    for attempt in (lambda: segments.rename(women.id, "Mine"), lambda: segments.delete(women.id)):
        with pytest.raises(UserError) as refused:
            attempt()
        assert refused.value.key == N_("Only an administrator may save segments.")
    assert [s.name for s in segments.list_segments()] == ["Women"]


def _app(db, role: str = "admin") -> ClientbaseApp:
    session.bind(db.target(role))
    return ClientbaseApp(db.target(role), identity(role), listen=False)


async def test_the_picker_opens_on_the_first_segment_and_enter_loads_it(admin_session):
    segments.save("Alpha", WOMEN)
    segments.save("Beta", Criteria(text="ев"))
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "g")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "ClientsScreen"
        assert app.screen.query_one("#search").value == "ова" and app.screen.segment_name == "Alpha"


async def test_rename_and_delete_from_the_picker(admin_session):
    segments.save("Alpha", WOMEN)
    segments.save("Beta", Criteria(text="ев"))
    app = _app(admin_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "g")
        await settle(pilot)
        shown = "\n".join(screen_lines(app))
        assert t("Rename") in shown and t("Delete") in shown
        await pilot.press("down", "r")
        await settle(pilot)
        assert isinstance(app.screen, SegmentNameDialog)
        await pilot.press("ctrl+u", *"Gamma", "enter")
        await settle(pilot)
        assert [s.name for s in segments.list_segments()] == ["Alpha", "Gamma"]
        picker = app.screen
        assert isinstance(picker, SegmentPicker) and picker.highlighted.name == "Gamma"
        # A name another segment has is said, and nothing changes.
        await pilot.press("r", "ctrl+u", *"Alpha", "enter")
        await settle(pilot)
        assert t("Another segment "
                 "already has that name; choose another one.")[:30] in "\n".join(screen_lines(app))  # the rest wraps
        assert [s.name for s in segments.list_segments()] == ["Alpha", "Gamma"]
        # Delete asks first; Enter alone keeps the segment.
        await pilot.press("up", "delete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert [s.name for s in segments.list_segments()] == ["Alpha", "Gamma"]
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("tab", "enter")
        await settle(pilot)
        assert [s.name for s in segments.list_segments()] == ["Gamma"]
        assert picker.highlighted.name == "Gamma" and "Alpha" not in "\n".join(screen_lines(app))


async def test_a_read_only_login_sees_no_rename_or_delete_and_the_keys_do_nothing(admin_session):
    segments.save("Alpha", WOMEN)
    app = _app(admin_session, "sales")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", "g")
        await settle(pilot)
        shown = "\n".join(screen_lines(app))
        assert "Alpha" in shown
        assert t("Rename") not in shown and t("Delete") not in shown
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert t("Rename") not in titles
        await pilot.press("r", "delete")
        await settle(pilot)
        assert isinstance(app.screen, SegmentPicker)
        assert [s.name for s in segments.list_segments()] == ["Alpha"]
