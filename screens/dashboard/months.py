"""Revenue by month at a glance, one column per month, with a month cursor: ← → (Home, End) choose a month,
Enter (or a click on its column) opens the clients behind that month's revenue, as the months table does.

Textual's Sparkline spreads its data over the width and merges neighbours when there are more values than
cells, so no column of it stands for one month; here each month owns the same few cells, the newest at the
right, and the line under the bars names the chosen month and its revenue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget

from db.i18n import t
from tui.widgets.money import money

_EIGHTHS = " ▁▂▃▄▅▆▇█"
_BAR_LINES = 2


@dataclass(frozen=True)
class Month:
    month: date
    revenue: Decimal

    @property
    def key(self) -> str:
        return self.month.strftime("%Y-%m")


class MonthBars(Widget, can_focus=True):
    """Bars of the months' revenue (a month that lost money has none), the chosen one highlighted."""

    DEFAULT_CSS = """
    MonthBars { height: 3; margin: 0 1; color: $primary; }
    MonthBars:focus { background: $boost; }
    """
    BINDINGS = [
        Binding("left", "move(-1)", t("Earlier month"), show=False, id="dashboard.months.earlier"),
        Binding("right", "move(1)", t("Later month"), show=False, id="dashboard.months.later"),
        Binding("home", "move_to(0)", t("First month"), show=False, id="dashboard.months.first"),
        Binding("end", "move_to(-1)", t("Last month"), show=False, id="dashboard.months.last"),
        Binding("enter", "drill", t("Clients"), tooltip=t("The clients behind the chosen month's revenue"),
                id="dashboard.months.drill"),
    ]

    chosen = reactive(0)

    @dataclass
    class Drill(Message):
        """Enter on a month: the clients behind its revenue, as db/analytics/drill's `month_revenue`."""

        bars: "MonthBars"
        month: str

        @property
        def control(self) -> "MonthBars":
            return self.bars

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id)
        self.months: list[Month] = []

    def set_months(self, months: list[Month]) -> None:
        """The newest month is chosen first: the one a reader most often asks about."""
        self.months = months
        self.chosen = max(len(months) - 1, 0)
        self.refresh()

    @property
    def chosen_month(self) -> Month | None:
        return self.months[self.chosen] if self.months else None

    def _cell_width(self) -> int:
        # At least one cell a month; with few months, wider columns with a gap, easier to aim at.
        return max(1, min(4, self.size.width // max(len(self.months), 1)))

    def _visible(self) -> range:
        """The months on screen: all of them, or the newest that fit, always including the chosen one."""
        fit = max(self.size.width // self._cell_width(), 1)
        end = max(min(len(self.months), fit), self.chosen + 1)
        return range(max(end - fit, 0), end)

    def watch_chosen(self) -> None:
        self.refresh()

    def action_move(self, step: int) -> None:
        if self.months:
            self.chosen = min(max(self.chosen + step, 0), len(self.months) - 1)

    def action_move_to(self, index: int) -> None:
        if self.months:
            self.chosen = index % len(self.months)

    def action_drill(self) -> None:
        month = self.chosen_month
        if month is not None:
            self.post_message(self.Drill(self, month.key))

    def on_click(self, event: events.Click) -> None:
        visible = self._visible()
        index = visible.start + event.x // self._cell_width()
        if index in visible:
            self.chosen = index
            self.action_drill()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y >= _BAR_LINES:
            month = self.chosen_month
            caption = "" if month is None else t("{month}: {revenue} · ← → a month, Enter its clients",
                                                  month=month.key, revenue=money(month.revenue, 0))
            return Strip([Segment(caption[:width].ljust(width), base + Style(dim=not self.has_focus))])
        visible = self._visible()
        top = max((float(self.months[i].revenue) for i in visible), default=0.0)
        cell = self._cell_width()
        gap = 1 if cell > 2 else 0
        # Eighths of a cell stacked over the bar lines, the bottom line first.
        below = (_BAR_LINES - 1 - y) * 8
        segments = []
        for index in visible:
            value = float(self.months[index].revenue)
            eighths = round(value / top * _BAR_LINES * 8) if top > 0 and value > 0 else 0
            # Every month with revenue shows at least the lowest bar, so it can be found and chosen.
            eighths = max(eighths, 1) if value > 0 else 0
            glyph = _EIGHTHS[min(max(eighths - below, 0), 8)]
            style = base + Style(reverse=True) if index == self.chosen and self.has_focus else base
            if index == self.chosen and not self.has_focus:
                style = base + Style(underline=True)
            segments.append(Segment(glyph * (cell - gap), style))
            if gap:
                segments.append(Segment(" ", base))
        used = sum(segment.cell_length for segment in segments)
        segments.append(Segment(" " * max(width - used, 0), base))
        return Strip(segments).crop(0, width)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
