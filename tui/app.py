"""The Textual app: a thin shell over the screens in screens/."""

from __future__ import annotations

from textual.app import App
from textual.binding import Binding

from db.connection import Target
from db.i18n import t
from db.session import Identity
from screens.home import HomeScreen


class ClientbaseApp(App):
    TITLE = t("app.title")
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("q", "quit", t("app.quit"), tooltip=t("app.quit.tooltip"), id="quit"),
        Binding("ctrl+q", "quit", t("app.quit"), show=False, priority=True, id="quit-anywhere"),
    ]

    def __init__(self, target: Target, identity: Identity) -> None:
        super().__init__()
        self.target = target
        self.identity = identity

    def on_mount(self) -> None:
        role = t(f"role.{self.identity.role}") if self.identity.role else t("role.none")
        readonly = "" if self.identity.can_write else f" · {t('app.readonly')}"
        self.sub_title = f"{self.identity.login} · {role}{readonly}"
        self.push_screen(HomeScreen(self.identity))
