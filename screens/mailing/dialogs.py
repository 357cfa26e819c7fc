"""The mailing's small modals: a recipient's message as it would go out, and the address of a test."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from db.i18n import t
from screens.mailing import CSS
from tui.mailing.render import Rendered
from tui.widgets.footer import SteadyFooter


class PreviewDialog(ModalScreen[None]):
    """Esc closes; the arrows scroll a long message."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "close", t("Close"), tooltip=t("Close the preview"), id="mailing.preview.close")]

    def __init__(self, client: str, rendered: Rendered | None, missing: str) -> None:
        super().__init__()
        self.client = client
        self.rendered = rendered
        self.missing = missing

    def compose(self) -> ComposeResult:
        with Vertical(id="preview-dialog", classes="mail-dialog"):
            yield Label(t("The message for {client}", client=self.client), classes="mail-dialog-title")
            if self.rendered is None:
                yield Static(t("This client is skipped: the template needs {field}, which the client lacks, and "
                               "gives no default.", field=self.missing), id="preview-text", classes="mail-error")
            else:
                with VerticalScroll(id="preview-scroll"):
                    if self.rendered.subject:
                        yield Static(f"{t('Subject')}: {self.rendered.subject}", id="preview-subject",
                                     markup=False)
                    yield Static(self.rendered.text, id="preview-text", markup=False)
                    if self.rendered.html:
                        yield Static(t("(and an HTML part of {count} characters)", count=len(self.rendered.html)),
                                     classes="mail-note")
        yield SteadyFooter()

    def on_mount(self) -> None:
        for scroll in self.query("#preview-scroll"):
            scroll.focus()

    def action_close(self) -> None:
        self.dismiss(None)


class SendTestDialog(ModalScreen[str | None]):
    """Enter sends to the typed address; Esc cancels."""

    CSS_PATH = CSS
    BINDINGS = [Binding("escape", "close", t("Cancel"), tooltip=t("Close without sending"),
                        id="mailing.test.close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="test-dialog", classes="mail-dialog"):
            yield Label(t("Send a test of this message"), classes="mail-dialog-title")
            yield Static(t("It is written for the selected recipient (or the first one) and sent through the "
                           "same delivery code, to the address you type."), classes="mail-note")
            yield Input(placeholder=t("e-mail address"), id="test-address")
            yield Static("", id="test-error", classes="mail-error")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#test-address", Input).focus()

    @on(Input.Submitted, "#test-address")
    def _submitted(self, event: Input.Submitted) -> None:
        address = event.value.strip()
        local, at, domain = address.partition("@")
        if not (local and at and "." in domain) or any(ch.isspace() for ch in address):
            self.query_one("#test-error", Static).update(t("Type an e-mail address such as you@example.com."))
            return
        self.dismiss(address)

    def action_close(self) -> None:
        self.dismiss(None)
