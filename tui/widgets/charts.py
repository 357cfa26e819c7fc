"""Terminal charts whose every number can be drilled into.

textual-plotext (1.0.1, which declares textual >= 0.86.2) draws a picture: its points cannot take the
cursor, so a chart there could not lead to the clients behind a bar. The dashboard's charts are therefore
tables whose cells hold a number and a bar of block characters, with the cell cursor on them, and
Textual's own Sparkline for a trend at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, maximum: float, width: int) -> str:
    """A horizontal bar of `width` cells at most, in eighths of a cell, for value/maximum."""
    if maximum <= 0 or value <= 0:
        return ""
    eighths = round(min(value / maximum, 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


class DrillTable(DataTable):
    """A table whose cells may each lead somewhere: Enter (or a click) on such a cell posts Drill with what
    was registered for it; the arrows move between cells."""

    DEFAULT_CSS = """
    DrillTable { height: auto; max-height: 16; margin-bottom: 1; }
    """

    @dataclass
    class Drill(Message):
        table: "DrillTable"
        target: object

        @property
        def control(self) -> "DrillTable":
            return self.table

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's own name
        super().__init__(id=id, cursor_type="cell", zebra_stripes=True, show_cursor=True)
        self._targets: dict[tuple[int, int], object] = {}

    def clear_all(self) -> None:
        self.clear(columns=True)
        self._targets.clear()

    def add_drill_row(self, cells: list[str | Text], targets: object | list[object] | None = None) -> None:
        """A row; `targets` is one target for every cell, or one per cell (None: that cell leads nowhere)."""
        row = self.row_count
        self.add_row(*cells)
        per_cell = targets if isinstance(targets, list) else [targets] * len(cells)
        for column, target in enumerate(per_cell):
            if target is not None:
                self._targets[(row, column)] = target

    def target_at(self, row: int, column: int) -> object | None:
        return self._targets.get((row, column))

    def on_data_table_cell_selected(self, event: DataTable.CellSelected) -> None:
        event.stop()
        target = self.target_at(event.coordinate.row, event.coordinate.column)
        if target is not None:
            self.post_message(self.Drill(self, target))
