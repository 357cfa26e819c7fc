"""The names of a screen's tabs on one line, the shown one marked; Left/Right or a click shows another.

One widget drawing one line. Textual's Tabs mounts a container, a bar, a row and a widget per tab, and a
screen pays for laying out and painting each of them the first time it is shown: for the card editor's
eight tabs that was a quarter of its widgets and about ten milliseconds of its first card. The panes
themselves are the owner's (a ContentSwitcher, say), told by `TabStrip.Changed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich.cells import cell_len
from textual import events
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from db.i18n import t


class TabStrip(Widget, can_focus=True):
    DEFAULT_CSS = """
    TabStrip { height: 1; width: 1fr; }
    TabStrip > .tab-strip--tab { color: $foreground 60%; }
    TabStrip > .tab-strip--active { color: $foreground; text-style: bold underline; }
    TabStrip:focus > .tab-strip--active {
        color: $block-cursor-foreground; background: $block-cursor-background; text-style: bold;
    }
    """
    COMPONENT_CLASSES = {"tab-strip--tab", "tab-strip--active"}
    BINDINGS = [
        Binding("left", "step(-1)", t("Previous tab"), tooltip=t("Show the tab on the left"), show=False,
                id="tabs.previous"),
        Binding("right", "step(1)", t("Next tab"), tooltip=t("Show the tab on the right"), show=False, id="tabs.next"),
    ]

    active: reactive[str] = reactive("")

    @dataclass
    class Changed(Message):
        """The user chose another tab (the owner's own changes of `active` are not announced)."""

        tab_strip: "TabStrip"
        tab: str

        @property
        def control(self) -> "TabStrip":
            return self.tab_strip

    def __init__(self, tabs: Sequence[tuple[str, str]], active: str, id: str | None = None) -> None:
        """`tabs` are (id, label) pairs in the order shown."""
        super().__init__(id=id)
        self.tabs = list(tabs)
        self.set_reactive(TabStrip.active, active)
        # Where each tab's label starts and ends on the line as last drawn, for clicks.
        self._spans: list[tuple[int, int, str]] = []

    def _choose(self, tab: str) -> None:
        if tab != self.active:
            self.active = tab
            self.post_message(self.Changed(self, tab))

    def action_step(self, by: int) -> None:
        ids = [tab for tab, _ in self.tabs]
        self._choose(ids[(ids.index(self.active) + by) % len(ids)])

    def render(self) -> Content:
        labels = [(tab, f" {label} ", cell_len(label) + 2) for tab, label in self.tabs]
        # Too narrow for every label: the first ones give way until the shown tab fits.
        first = 0
        active_end = 0
        for tab, _, cells in labels:
            active_end += cells
            if tab == self.active:
                break
        width = self.size.width
        while first < len(labels) - 1 and active_end > width and labels[first][0] != self.active:
            active_end -= labels[first][2]
            first += 1
        plain = self.get_visual_style("tab-strip--tab")
        marked = self.get_visual_style("tab-strip--active")
        parts: list[tuple[str, object]] = []
        self._spans = []
        x = 0
        for tab, label, cells in labels[first:]:
            parts.append((label, marked if tab == self.active else plain))
            self._spans.append((x, x + cells, tab))
            x += cells
        return Content.assemble(*parts)

    def _on_click(self, event: events.Click) -> None:
        for start, end, tab in self._spans:
            if start <= event.x < end:
                self._choose(tab)
                return
