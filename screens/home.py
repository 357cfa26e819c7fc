"""The home screen: who is connected, as what, to which database."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from db import clients
from db.i18n import t
from db.session import Identity


class HomeScreen(Screen):
    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._describe(t("app.home.loading")), id="identity")
        yield Footer()

    def _describe(self, count: str) -> str:
        identity = self.identity
        role = t(f"role.{identity.role}") if identity.role else t("role.none")
        rows = [
            (t("app.home.login"), identity.login),
            (t("app.home.role"), role + ("" if identity.can_write else f" ({t('app.readonly')})")),
            (t("app.home.database"), identity.database),
            (t("app.home.server"), f"PostgreSQL {identity.server_version}"),
            (t("app.home.schema"), str(identity.schema_version)),
            (t("app.home.clients"), count),
        ]
        width = max(len(label) for label, _ in rows)
        return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)

    def on_mount(self) -> None:
        self.load_count()

    @work(thread=True, exclusive=True, group="home", exit_on_error=False)
    def load_count(self) -> None:
        count = clients.count_estimate()
        self.app.call_from_thread(self.query_one("#identity", Static).update, self._describe(f"{count:,}"))
