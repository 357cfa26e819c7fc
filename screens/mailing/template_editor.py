"""A template's editor with a live preview for a chosen client.

The left side is the template: name, channel, and for e-mail a subject, the plain body, an optional HTML body
and the call to action's label and link; for SMS the text alone, with a live count of characters and
segments. The right side renders it for a client picked by id or by name, phone or e-mail, as it types, in
the app (rendering is the delivery's own code, tui/mailing/preview.py, and needs no database). Ctrl+S checks
the template first: a syntax error, an unknown variable or an unsafe attribute is said with its part and
line, and the draft stays as typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from jinja2 import TemplateError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input, Label, Select, Static, TextArea

from db import session
from db.i18n import N_, t, tn
from db.mailing import reads, templates
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.confirm import ConfirmScreen
from screens.mailing import CHANNEL, CSS
from tui.mailing import preview, render
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter

EMAIL_ONLY = ("#tpl-subject", "#tpl-html", "#tpl-cta-label", "#tpl-cta-url", ".email-only")
# How a check's part is said: the part names match render.TemplateText.parts().
PART = {"body": N_("Text"), "subject": N_("Subject"), "html": N_("HTML"), "cta": N_("Link"),
        "template": N_("Template")}


class TemplateEditor(DatabaseScreen, Screen):
    @dataclass
    class Opened(Message):
        data: reads.EditorData

    @dataclass
    class ClientFound(Message):
        text: str
        found: reads.PreviewClient

    @dataclass
    class Saved(Message):
        template: templates.Template

    CSS_PATH = CSS
    BINDINGS = [
        Binding("ctrl+s", "save", t("Save"), tooltip=t("Check the template and save it"), id="template.save"),
        Binding("escape", "back", t("Back"), tooltip=t("Back to the templates"), id="template.back"),
    ]

    def __init__(self, identity: Identity, template_id: int | None) -> None:
        super().__init__()
        self.identity = identity
        self.template_id = template_id
        self.data: reads.EditorData | None = None
        self.client: templates.ClientValues | None = None
        self.saved_text: render.TemplateText | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Horizontal(id="tpl-main"):
            with VerticalScroll(id="tpl-form"):
                yield Label(t("Name"), classes="tpl-label")
                yield Input(id="tpl-name", compact=True)
                yield Select([(t(word), key) for key, word in CHANNEL.items()], value="email", allow_blank=False,
                             id="tpl-channel", compact=True)
                yield Label(t("Subject"), classes="tpl-label email-only")
                yield Input(id="tpl-subject", compact=True)
                yield Label(t("Text"), classes="tpl-label")
                yield TextArea(id="tpl-body", soft_wrap=True, show_line_numbers=True)
                yield Label(t("HTML (optional)"), classes="tpl-label email-only")
                yield TextArea(id="tpl-html", soft_wrap=True, show_line_numbers=True)
                yield Label(t("Call to action: label, then link"), classes="tpl-label email-only")
                yield Input(id="tpl-cta-label", compact=True)
                yield Input(placeholder="https://", id="tpl-cta-url", compact=True)
            with Vertical(id="tpl-side"):
                yield Input(placeholder=t("Preview for: client No. or name, phone, e-mail"), id="tpl-client",
                            compact=True)
                yield Static("", id="tpl-client-name")
                yield Static("", id="tpl-counter")
                yield Static("", id="tpl-errors", classes="mail-error")
                with VerticalScroll(id="tpl-preview-scroll"):
                    yield Static("", id="tpl-preview", markup=False)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#tpl-errors").display = False
        self.query_one("#tpl-name", Input).focus()
        self._open()

    @database_work(group="template-open")
    def _open(self) -> Opened:
        return self.Opened(session.read(reads.run, reads.editor_data, self.template_id))

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        self.data = message.data
        self.client = message.data.client
        template = message.data.template
        if template is not None:
            self.query_one("#tpl-name", Input).value = template.name
            self.query_one("#tpl-channel", Select).value = template.channel
            self.query_one("#tpl-subject", Input).value = template.subject
            self.query_one("#tpl-body", TextArea).text = template.body
            self.query_one("#tpl-html", TextArea).text = template.html_body
            self.query_one("#tpl-cta-label", Input).value = template.cta_label
            self.query_one("#tpl-cta-url", Input).value = template.cta_url
        self.saved_text = self.text() if template is not None else render.TemplateText(channel="email", body="")
        self._show_client()
        self._channel_shown()
        self.update_preview()

    # --- the draft and its preview ----------------------------------------------------------------

    def text(self) -> render.TemplateText:
        channel = str(self.query_one("#tpl-channel", Select).value)
        body = self.query_one("#tpl-body", TextArea).text
        if channel == "sms":
            return render.TemplateText(channel="sms", body=body)
        return render.TemplateText(channel="email", body=body, subject=self.query_one("#tpl-subject", Input).value,
                                   html=self.query_one("#tpl-html", TextArea).text,
                                   cta_label=self.query_one("#tpl-cta-label", Input).value.strip(),
                                   cta_url=self.query_one("#tpl-cta-url", Input).value.strip())

    @on(Select.Changed, "#tpl-channel")
    def _channel_shown(self) -> None:
        email = self.query_one("#tpl-channel", Select).value == "email"
        for selector in EMAIL_ONLY:
            for widget in self.query(selector):
                widget.display = email
        self.query_one("#tpl-counter").display = not email
        self.update_preview()

    @on(Input.Changed, "#tpl-subject, #tpl-cta-label, #tpl-cta-url")
    @on(TextArea.Changed)
    def update_preview(self) -> None:
        if self.data is None:
            return
        draft = self.text()
        shown = self.query_one("#tpl-preview", Static)
        rendered_text = draft.body
        if self.client is None:
            shown.update(t("There is no client to preview for."))
        else:
            as_saved = templates.Template(
                id=0, name="", channel=draft.channel, subject=draft.subject, body=draft.body, html_body=draft.html,
                cta_label=draft.cta_label, cta_url=draft.cta_url, required_fields=[], version=0,
                updated_at=datetime.now(timezone.utc), updated_by="")
            try:
                rendered = preview.preview(as_saved, self.client)
            except render.MissingValue as missing:
                shown.update(t("This client would be skipped: the template needs {field} and gives no default.",
                               field=missing.name))
            except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
                shown.update(t("Cannot be shown yet: {reason}", reason=str(exc)))
            else:
                rendered_text = rendered.text
                subject = f"{t('Subject')}: {rendered.subject}\n\n" if rendered.subject else ""
                shown.update(subject + rendered.text)
        if draft.channel == "sms":
            length = render.sms_length(rendered_text)
            self.query_one("#tpl-counter", Static).update(
                tn("{characters} characters, {count} segment ({encoding}, {per} a segment)",
                   "{characters} characters, {count} segments ({encoding}, {per} a segment)", length.segments,
                   characters=length.characters, encoding=length.encoding, per=length.per_segment))

    @on(Input.Changed, "#tpl-client")
    def _client_typed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._find_client(event.value)

    @database_work(group="template-client")
    def _find_client(self, text: str) -> ClientFound:
        return self.ClientFound(text, session.read(reads.run, reads.preview_client, text))

    @on(ClientFound)
    def _client_found(self, message: ClientFound) -> None:
        if message.text != self.query_one("#tpl-client", Input).value:
            return
        if message.found.values is None:
            self.query_one("#tpl-client-name", Static).update(t("No client matches “{text}”.", text=message.text))
            return
        self.client = message.found.values
        self._show_client(message.found.matches)
        self.update_preview()

    def _show_client(self, matches: int = 1) -> None:
        client = self.client
        if client is None:
            return
        name = " ".join(part for part in (client.last_name, client.first_name, client.middle_name) if part)
        said = t("For: {name} (No. {id})", name=name, id=client.client_id)
        if matches > 1:
            said += " · " + tn("and {count} other", "and {count} others", matches - 1, count=matches - 1)
        self.query_one("#tpl-client-name", Static).update(said)

    # --- saving -----------------------------------------------------------------------------------

    def action_save(self) -> None:
        if self.data is None:
            return
        draft, name = self.text(), self.query_one("#tpl-name", Input).value.strip()
        problems: list[str] = []
        if not name:
            problems.append(t("A template needs a name."))
        elif self.data.names.get(name, self.template_id) != self.template_id:
            problems.append(t("Another template is named “{name}”; choose another name.", name=name))
        try:
            needed = render.check(draft, self.data.custom_fields)
        except render.TemplateProblems as found:
            problems += [t("{part}, line {line}: {reason}", part=t(PART.get(problem.part, problem.part)),
                           line=problem.line, reason=problem.reason) for problem in found.problems]
            needed = []
        errors = self.query_one("#tpl-errors", Static)
        errors.update("\n".join(problems))
        errors.display = bool(problems)
        if not problems:
            self._save(name, draft, needed)

    @database_work(group="template-save")
    def _save(self, name: str, draft: render.TemplateText, needed: list[str]) -> Saved:
        return self.Saved(reads.run(templates.save, name=name, channel=draft.channel, subject=draft.subject,
                                    body=draft.body, html_body=draft.html, cta_label=draft.cta_label,
                                    cta_url=draft.cta_url, required_fields=needed))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.template_id = message.template.id
        self.saved_text = self.text()
        if self.data is not None:
            self.data.names[message.template.name] = message.template.id
        if message.template.required_fields:
            self.notify(t("Template “{name}” saved; a client lacking {fields} will be skipped.",
                          name=message.template.name, fields=", ".join(message.template.required_fields)))
        else:
            self.notify(t("Template “{name}” saved.", name=message.template.name))

    def action_back(self) -> None:
        if not self.identity.can_write or self.saved_text is None or self.text() == self.saved_text:
            self.dismiss(None)
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(t("Leave without saving?"), t("The changes to this template are lost."),
                                           [(t("Leave"), True), (t("Stay"), False)]), answered)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "save":
            return self.identity.can_write
        return True
