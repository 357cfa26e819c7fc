"""The one-line tab strip: what it shows when the terminal is too narrow for every tab."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.tab_strip import TabStrip

TABS = [(name.lower(), name) for name in ("Main", "Contacts", "Family", "Purchases", "Activity", "Reminders")]


class StripApp(App):
    def compose(self) -> ComposeResult:
        yield TabStrip(TABS, "main")


async def test_the_shown_tab_stays_visible_on_a_narrow_terminal_and_a_click_still_finds_its_tab():
    app = StripApp()
    async with app.run_test(size=(30, 5)) as pilot:
        strip = app.query_one(TabStrip)
        assert strip.render().plain.startswith(" Main  Contacts  Family ")
        strip.focus()
        await pilot.press("left")  # round to the last tab, far beyond 30 columns
        await pilot.pause()
        shown = strip.render().plain
        assert strip.active == "reminders" and shown == " Activity  Reminders "
        # The first labels gave way: a click on the first one drawn shows that tab, not "Main".
        await pilot.click(strip, offset=(1, 0))
        assert strip.active == "activity"
