"""The run's totals under the date, one line: each number drills like a cell of the tables (← → choose,
Enter or a click opens its clients), and after them, dimmed, how to drill.

Not a DrillTable: as a one-row DataTable the totals made every opening of the dashboard cost 107-109 ms of
CPU instead of 87-94 ms without them (tests/bench_dashboard.py on the 2,000-client smoke base, medians of 30);
this line cost 94-97 ms (load average about 4; its two nodes fewer since, the hint drawn in the line, were
within the noise of a load of 6)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from db.i18n import t

_GAP = "   "


@dataclass(frozen=True)
class Total:
    label: str
    number: str
    # Where Enter leads (screens/dashboard/tables.Drill); None: a total of no clients leads nowhere.
    target: object | None


class TotalsLine(Widget, can_focus=True):
    DEFAULT_CSS = """
    TotalsLine { height: 1; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", t("Previous total"), show=False, id="dashboard.totals.previous"),
        Binding("right", "move(1)", t("Next total"), show=False, id="dashboard.totals.next"),
        Binding("enter", "drill", t("Clients"), tooltip=t("The clients behind the chosen total"),
                id="dashboard.totals.drill"),
    ]

    chosen = reactive(0)

    @dataclass
    class Drill(Message):
        line: "TotalsLine"
        target: object

        @property
        def control(self) -> "TotalsLine":
            return self.line

    def __init__(self, hint: str, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self.hint = hint
        self.totals: list[Total] = []

    def set_totals(self, totals: list[Total]) -> None:
        self.totals = totals
        self.chosen = min(self.chosen, max(len(totals) - 1, 0))
        self.refresh()

    def _spans(self) -> list[tuple[int, int]]:
        """Each total's cells on the line, from its label to its number."""
        spans, start = [], 0
        for total in self.totals:
            width = cell_len(total.label) + 1 + cell_len(total.number)
            spans.append((start, start + width))
            start += width + len(_GAP)
        return spans

    def get_content_height(self, container, viewport, width: int) -> int:
        return 1

    def watch_chosen(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.totals:
            self.chosen = min(max(self.chosen + step, 0), len(self.totals) - 1)

    def action_drill(self) -> None:
        if self.totals and self.totals[self.chosen].target is not None:
            self.post_message(self.Drill(self, self.totals[self.chosen].target))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        for index, (start, end) in enumerate(self._spans()):
            if start <= offset.x < end:
                self.chosen = index
                self.action_drill()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        base = self.rich_style
        segments: list[Segment] = []
        for index, total in enumerate(self.totals):
            if index:
                segments.append(Segment(_GAP, base))
            mark = base
            if index == self.chosen and self.has_focus:
                mark = base + Style(reverse=True)
            segments.append(Segment(total.label + " ", mark))
            segments.append(Segment(total.number, mark + Style(bold=True)))
        segments.append(Segment(_GAP + self.hint, base + Style(dim=True)))
        width = self.size.width
        used = sum(segment.cell_length for segment in segments)
        segments.append(Segment(" " * max(width - used, 0), base))
        return Strip(segments).crop(0, width)
