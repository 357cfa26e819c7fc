"""The Textual app: a thin shell over the screens in screens/, the connection banner and the palette."""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path
from typing import Iterable

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from db import notify, session
from db.connection import Target
from db.errors import ConnectionLost
from db.i18n import N_, t
from db.session import Identity
import screens
from tui import i18n, modes, textual_compat
from tui.widgets.connection import ClientsChanged, ConnectionBack, ConnectionBanner
from db import labels

# Every screen of the app paints through Textual's timers: fixed before the first one is made.
textual_compat.apply()

# Each screen package's stylesheet, beside its screens (each screen names its own in CSS_PATH too). All are
# read at start: a stylesheet first read when its screen is pushed makes Textual restyle every widget the app
# holds, the card editor's included, in the middle of the key that opened the dialog.
SCREEN_STYLESHEETS = sorted(Path(screens.__file__).parent.rglob("*.tcss"))

# Textual's own palette commands, translated in the catalogs like every other sentence.
TEXTUAL_COMMANDS = (
    N_("Theme"), N_("Change the current theme"), N_("Quit"), N_("Quit the application as soon as possible"),
    N_("Keys"), N_("Hide the keys and widget help panel"),
    N_("Show help for the focused widget and a summary of available keys"),
    N_("Minimize"), N_("Minimize the widget and restore to normal size"), N_("Maximize"),
    N_("Maximize the focused widget"), N_("Screenshot"), N_("Save an SVG 'screenshot' of the current screen"),
    N_("Bell"), N_("Ring the bell"), N_("Search for commands…"),
)

# What colour says, also said without it. With NO_COLOR Textual paints in greys (Monochrome) or, on an ANSI
# theme, drops the colours (NoColor); a 16-colour terminal rounds them to the nearest of 16. Either may merge
# the cursor row's background with the rows', or a ticked checkbox's green X with an unticked one's grey X.
# So: the cursor rows are reversed and bold, and an unticked box shows no X at all (its X takes the box's own
# colour, which any filter maps alike) while a ticked one is reversed and bold.
PLAIN_CSS = """
VirtualList:nocolor > .virtual-list--cursor, VirtualList:ansi > .virtual-list--cursor,
DataTable:nocolor > .datatable--cursor, DataTable:ansi > .datatable--cursor,
OptionList:nocolor > .option-list--option-highlighted, OptionList:ansi > .option-list--option-highlighted {
    text-style: bold reverse;
}
ToggleButton:nocolor > .toggle--button, ToggleButton:ansi > .toggle--button {
    color: $panel;
    background: $panel;
    text-style: not bold not reverse;
}
ToggleButton:nocolor.-on > .toggle--button, ToggleButton:ansi.-on > .toggle--button {
    color: $foreground;
    text-style: bold reverse;
}
"""

# Animations off: CLIENTBASE_ANIMATIONS=off (or Textual's own TEXTUAL_ANIMATIONS=none). Over a slow SSH link
# a sliding panel or a smooth scroll costs more frames than it is worth, and some people prefer none.
ANIMATIONS_OFF = ("off", "none", "no", "0")

BACK_BANNER_SECONDS = 3.0
PING_SECONDS = 1.0


class ClientbaseApp(App):
    TITLE = t("clientbase")
    CSS_PATH = SCREEN_STYLESHEETS
    CSS = PLAIN_CSS
    BINDINGS = [
        Binding("ctrl+q", "quit", t("Quit"), tooltip=t("Leave clientbase"), priority=True, id="quit"),
        # Textual adds this binding itself, in English, unless the app has one: here it is translatable.
        Binding("ctrl+p", "command_palette", N_("Commands"), tooltip=N_("Open the command palette"), show=False,
                priority=True, id="palette"),
        # F1 is free everywhere (the card's tabs are F2-F9); what each screen is for lives in its HELP.
        Binding("f1", "help", t("Help"), tooltip=t("What this screen is for, and all its keys"), id="help"),
    ]

    def __init__(self, target: Target, identity: Identity, listen: bool = True) -> None:
        # Before any screen or widget is made: their bindings are in the settled language, and a letter key
        # works from the Russian layout too.
        i18n.ensure_localized()
        super().__init__()
        if os.environ.get("CLIENTBASE_ANIMATIONS", "").strip().lower() in ANIMATIONS_OFF:
            self.animation_level = "none"
        self.target = target
        self.identity = identity
        # A login whose role opens no mode (a mailer's) meets the client list as before modes existed; the
        # database refuses what it may not read.
        self.modes = modes.modes_for(identity) or [modes.CLIENTS]
        for mode in self.modes:
            self.add_mode(mode.name, lambda mode=mode: mode.factory(self.identity))
            textual_compat.add_binding(self, Binding(mode.key, f"switch_mode('{mode.name}')", t(mode.label),
                                                     tooltip=t(mode.tooltip), id=f"mode.{mode.name}",
                                                     # The header shows the modes and their keys.
                                                     show=False))
        self.connection_ok = True
        self._listen = listen
        self._stopping = threading.Event()
        self._banner: ConnectionBanner | None = None
        self._listener: threading.Thread | None = None

    def on_mount(self) -> None:
        identity = self.identity
        role = t(labels.ROLE[identity.role]) if identity.role else t("no clientbase role")
        # First: where the line is too narrow, the header cuts from the right, and this must stay readable.
        readonly = "" if identity.can_write else f"{t('read-only')} · "
        self.sub_title = f"{readonly}{identity.login} · {role} · {identity.database}"
        self.switch_mode(self.modes[0].name)
        if self._listen:
            # A thread of its own rather than a worker: it lasts as long as the app, and waiting for the
            # workers to finish (as tests do) must not wait for it.
            self._listener = threading.Thread(target=self._listen_for_changes, name="clientbase-listen",
                                              daemon=True)
            self._listener.start()

    def on_card_screen_built_ahead(self) -> None:
        # Everything made so far (modules, the clients screen, the card editor) lasts the whole session.
        # Python's full garbage collection walks every object it tracks, 60–80 ms here on two cores, and
        # happens every few hundred keystrokes in the middle of one of them; frozen objects are not walked.
        gc.freeze()

    def on_unmount(self) -> None:
        # Several apps can run in one process (the tests): what this one froze must be collectable again.
        gc.unfreeze()
        self._stopping.set()
        if self._listener is not None:
            self._listener.join(timeout=2)

    # --- the connection -------------------------------------------------------------------------

    def connection_lost(self) -> None:
        """A worker could not reach the database: say so, and try again every second until it answers."""
        if not self.connection_ok:
            return
        self.connection_ok = False
        self._show_banner(t("The connection to the database was lost; reconnecting…"), back=False)
        self._reconnect()

    @work(thread=True, exclusive=True, group="reconnect", exit_on_error=False)
    def _reconnect(self) -> None:
        while not self._stopping.is_set():
            try:
                session.ping()
            except ConnectionLost:
                time.sleep(PING_SECONDS)
                continue
            self.call_from_thread(self._connection_back)
            return

    def _connection_back(self) -> None:
        if self.connection_ok:
            return
        self.connection_ok = True
        self._show_banner(t("Connected again."), back=True)
        self.set_timer(BACK_BANNER_SECONDS, self._hide_banner_if_back)
        for screen in textual_compat.screens_of_every_mode(self):
            screen.post_message(ConnectionBack())

    def _show_banner(self, text: str, back: bool) -> None:
        if self._banner is not None and self._banner.screen is not self.screen:
            self._banner.remove()
            self._banner = None
        if self._banner is None:
            self._banner = ConnectionBanner(id="connection-banner")
            self.screen.mount(self._banner)
        self._banner.update(text)
        self._banner.set_class(back, "-back")

    def _hide_banner_if_back(self) -> None:
        if self.connection_ok and self._banner is not None:
            self._banner.remove()
            self._banner = None

    def _listen_for_changes(self) -> None:
        notify.listen(
            notify.CLIENT_CHANGED,
            deliver=lambda changes: self._from_listener(self._deliver_changes, changes),
            stopped=self._stopping.is_set,
            connected=lambda ok: self._from_listener(self._listener_state, ok),
        )

    def _from_listener(self, callback, value: object) -> None:
        if not self._stopping.is_set():
            self.call_from_thread(callback, value)

    def _deliver_changes(self, changes: notify.Changes) -> None:
        for screen in textual_compat.screens_of_every_mode(self):
            screen.post_message(ClientsChanged(changes))

    def _listener_state(self, ok: bool) -> None:
        if not ok:
            self.connection_lost()

    # --- modes -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The key of the mode on screen is hidden (False; None would show it greyed), as in Textual's demo:
        # it would do nothing, and the footer is short at 80 columns.
        if action == "switch_mode" and parameters and parameters[0] == self.current_mode:
            return False
        return True

    # --- the palette ----------------------------------------------------------------------------

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(placeholder=t("Search for commands…"), id="--command-palette"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The app's commands, then every key of the current screen that applies now, so that whatever
        a key does can also be found by name."""
        for command in super().get_system_commands(screen):
            yield SystemCommand(t(command.title), t(command.help), command.callback, command.discover)
        for mode in self.modes:
            if mode.name != self.current_mode:
                yield SystemCommand(t(mode.label), t(mode.tooltip),
                                    lambda name=mode.name: self.call_later(self.switch_mode, name))
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            if screen.check_action(binding.action, ()) is not True:
                continue
            # BINDINGS holds the English made at import; the palette speaks the language settled since.
            yield SystemCommand(t(binding.description), t(binding.tooltip or binding.description),
                                lambda action=binding.action: self.call_later(screen.run_action, action))
