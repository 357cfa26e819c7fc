"""A checkbox whose glyph says whether it is ticked, not only its colour."""

from __future__ import annotations

from textual.widgets import Checkbox


class TickBox(Checkbox):
    """Textual's ToggleButton always draws its X and tells on from off by colour alone, which a 16-colour or
    monochrome terminal (or `NO_COLOR`) cannot show: every box there looks ticked. Here an unticked box is
    empty. BUTTON_INNER is the ToggleButton's documented hook for the glyph; the value is reactive and
    repaints the widget when it changes."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 (Textual's name)
        return "X" if self.value else " "
