"""Textual's Footer, rebuilt only when the keys it shows change.

Textual's Footer throws away and mounts all its keys again every time a screen's bindings are refreshed:
on every focus move, every push of a screen and every tab switch. Its keys cost about ten milliseconds
to mount, which is a fifth of the time to open a card, and on a slow SSH link every rebuild repaints the
bottom line. Most refreshes change nothing the footer shows, so this one compares first.

F1 comes first. Textual lays the keys out in binding order, the focused widget's first and the app's last, so
on a busy screen at 80 columns the key that lists all the others was cut off at the right edge. The app's mode
keys are in the header (tui/widgets/app_header.py), not here.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.compose import compose
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tui import textual_compat


class SteadyFooter(Footer):
    def __init__(self, compact: bool = True) -> None:
        super().__init__(compact=compact)
        self._shown: tuple | None = None

    def compose(self) -> ComposeResult:
        # Footer.compose nests grouped keys with `with` blocks; textual.compose builds them (as the mount would)
        # into the top-level widgets, which are then only reordered.
        keys = compose(self, super().compose())
        yield from sorted(keys, key=lambda widget: not self._is_help_key(widget))

    @staticmethod
    def _is_help_key(widget: Widget) -> bool:
        # The action is read by name because FooterKey, the only widget here that has one, is not public in
        # Textual.
        return str(getattr(widget, "action", "")) in ("help", "app.help")

    def _what_it_shows(self, screen: Screen) -> tuple:
        palette_key = self.app.COMMAND_PALETTE_BINDING
        return tuple((key, binding.action, binding.description, binding.key_display, binding.group,
                      enabled, tooltip)
                     for key, (_node, binding, enabled, tooltip) in screen.active_bindings.items()
                     if binding.show or key == palette_key)

    def bindings_changed(self, screen: Screen) -> None:
        if self.is_attached and screen is self.screen and screen.app.app_focus:
            shown = self._what_it_shows(screen)
            if textual_compat.footer_has_drawn_keys(self) and shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)
