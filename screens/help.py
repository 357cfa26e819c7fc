"""F1 on any screen: what the screen is for, in one paragraph, and every key it answers to now, those off the
footer included. A screen says what it is for in its HELP (a message id); the keys are read from the screen's
active bindings, so the list is always the one the login really has (no write key for a reader)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Label, Static

from db.i18n import N_, t
from tui.widgets.footer import SteadyFooter

GENERIC = N_("The keys this screen answers to now. Ctrl+P lists every command by name.")


def keys_of(screen: Screen) -> list[tuple[str, str]]:
    """(key, what it does) for the screen's and the app's bindings that apply now; a text box's editing keys
    (Home, Ctrl+A, ...) are left out, as everyone knows them."""
    shown: dict[str, tuple[str, str]] = {}
    for active in screen.active_bindings.values():
        if isinstance(active.node, Widget) and not isinstance(active.node, Screen):
            continue
        binding = active.binding
        if binding.action in ("help",) or not (binding.description or binding.tooltip):
            continue
        display = binding.key_display or screen.app.get_key_display(binding)
        said = t(binding.tooltip or binding.description)
        shown.setdefault(f"{display}\x00{said}", (display, said))
    return sorted(shown.values(), key=lambda pair: (len(pair[0]) > 2, pair[0].lower()))


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("confirm.tcss")
    BINDINGS = [Binding("escape,f1", "close", t("Close"), tooltip=t("Close the help"), id="help-close")]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.paragraph = t(getattr(screen, "HELP", "") or GENERIC)
        self.keys = keys_of(screen)
        self.heading = screen.title or screen.app.title

    def compose(self) -> ComposeResult:
        width = max((len(key) for key, _ in self.keys), default=4)
        with Vertical(id="help"):
            yield Label(t("Help: {screen}", screen=self.heading), classes="title")
            yield Static(self.paragraph, id="help-paragraph")
            with VerticalScroll(id="help-keys"):
                yield Static("\n".join(f"{key:<{width}}  {said}" for key, said in self.keys), markup=False)
        yield SteadyFooter()

    def action_close(self) -> None:
        self.dismiss(None)
