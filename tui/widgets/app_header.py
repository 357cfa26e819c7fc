"""The top line of every screen: the app's modes with their keys, the one shown marked, and who is logged in.

The mode keys used to lead the footer. At 80 columns five of them took two thirds of its width, and the keys
of the screen itself (what the user came to press) were cut off after three. Here they cost no line of their
own: Textual's Header spent this one on a centred title, an icon and a clock space.

The shown mode is reversed and bold, so it stays visible with NO_COLOR and in 16 colours. Who is logged in
sits on the right and gives way first when the line is too narrow; the modes give way last.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widget import Widget

from db.i18n import t


class AppHeader(Widget):
    DEFAULT_CSS = """
    AppHeader {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    AppHeader > .app-header--key {
        color: $accent;
        text-style: bold;
    }
    AppHeader > .app-header--shown {
        text-style: bold reverse;
    }
    AppHeader > .app-header--who {
        color: $foreground-muted;
    }
    """
    COMPONENT_CLASSES = {"app-header--key", "app-header--shown", "app-header--who"}

    def __init__(self) -> None:
        super().__init__()
        # Where each mode's name was drawn, for a click: (first column, column after, mode name).
        self._spans: list[tuple[int, int, str]] = []

    def on_mount(self) -> None:
        for owner in (self.app, self.screen):
            self.watch(owner, "title", self.refresh, init=False)
            self.watch(owner, "sub_title", self.refresh, init=False)
        # A focused field may take a mode's key for itself (the card's Ctrl+O): the key is then not drawn.
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, _screen) -> None:
        taken = self._taken_keys()
        if taken != getattr(self, "_taken", None):
            self._taken = taken
            self.refresh()

    def _taken_keys(self) -> frozenset[str]:
        """Mode keys that the screen or its focused widget binds to something else just now."""
        active = self.screen.active_bindings
        return frozenset(mode.key for mode in self._modes()
                         if mode.key in active and not active[mode.key].binding.action.startswith("switch_mode("))

    def _modes(self) -> list:
        return list(getattr(self.app, "modes", []))

    def _who(self) -> str:
        screen_title, app_title = self.screen.title, self.app.title
        parts = [screen_title] if screen_title and screen_title != app_title else []
        sub_title = self.screen.sub_title or self.app.sub_title
        if sub_title:
            parts.append(sub_title)
        return " · ".join(parts)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("app-header--key")
        shown_style = self.get_component_rich_style("app-header--shown")
        who_style = self.get_component_rich_style("app-header--who")
        line = Text(no_wrap=True, overflow="ellipsis")
        self._spans = []
        shown = self.app.current_mode
        after_shown = False
        taken = self._taken_keys()
        for mode in self._modes():
            key = "" if mode.key in taken else self.app.get_key_display(Binding(mode.key, ""))
            start = line.cell_len
            if mode.name == shown:
                # Its own padding, reversed, is the space on either side.
                line.append(f" {key} {t(mode.label)} " if key else f" {t(mode.label)} ", shown_style)
            else:
                if not after_shown:
                    line.append(" ")
                if key:
                    line.append(key, key_style)
                    line.append(" ")
                line.append(t(mode.label))
            after_shown = mode.name == shown
            self._spans.append((start, line.cell_len, mode.name))
        who = Text(self._who(), style=who_style)
        room = self.size.width - line.cell_len - 1
        if who.cell_len and room > 3:
            who.truncate(room, overflow="ellipsis")
            line.append(" " * (room - who.cell_len + 1))
            line.append_text(who)
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, name in self._spans:
            if start <= event.x < end and name != self.app.current_mode:
                event.stop()
                self.app.switch_mode(name)
                return
