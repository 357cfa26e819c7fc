"""A new campaign: name, channel, audience, template, purpose and when; made as a draft.

Tab moves between the fields, Enter opens a choice, Ctrl+S makes the draft and Esc leaves without one. The
draft opens at once on its campaign screen, which counts the audience and its exclusions before `s` starts
it. From the clients list the audience is that list's segment or current filters.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Select, Static

from db import session
from db.clients.listing import Criteria
from db.errors import UserError
from db.i18n import N_, t
from db.mailing import campaigns, reads
from screens.base import DatabaseScreen, database_work
from screens.mailing import CHANNEL, CSS, PURPOSE
from tui.mailing import trigger_templates
from tui.widgets.footer import SteadyFooter

ALL, FILTERS = "all", "filters"
SCHEDULE = {"now": N_("now"), "at": N_("at a time"), "weekly": N_("every week")}
# What the time box asks for under each schedule.
WHEN_HINT = {"now": "", "at": N_("2026-12-24 10:00 (the shop's clock)"), "weekly": N_("MON 10:00 (weekday and hour)")}


@dataclass(frozen=True)
class Draft:
    name: str
    channel: str
    audience: str  # ALL, FILTERS, or "segment:<name>"
    template_id: int | None
    purpose: str
    schedule: str  # a key of SCHEDULE
    when: str


class CampaignForm(DatabaseScreen, ModalScreen[int | None]):
    @dataclass
    class ChoicesRead(Message):
        choices: reads.FormChoices

    @dataclass
    class Made(Message):
        campaign_id: int

    CSS_PATH = CSS
    BINDINGS = [
        Binding("ctrl+s", "create", t("Create"), tooltip=t("Make the campaign as a draft and open it"),
                id="campaign-form.create"),
        Binding("escape", "close", t("Cancel"), tooltip=t("Close without making a campaign"),
                id="campaign-form.cancel"),
    ]

    def __init__(self, criteria: Criteria | None = None, segment: str | None = None) -> None:
        super().__init__()
        self.criteria = criteria
        self.segment = segment
        self.choices: reads.FormChoices | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="campaign-form", classes="mail-dialog"):
            yield Label(t("New campaign"), classes="mail-dialog-title")
            yield from self._row(t("Name"), Input(id="form-name", compact=True))
            yield from self._row(t("Channel"), Select([(t(word), key) for key, word in CHANNEL.items()],
                                                      value="email", allow_blank=False, id="form-channel",
                                                      compact=True))
            yield from self._row(t("Audience"), Select(self._audiences([]), value=self._first_audience(),
                                                       allow_blank=False, id="form-audience", compact=True))
            yield from self._row(t("Template"), Select([], prompt=t("Choose a template"), id="form-template",
                                                       compact=True))
            yield from self._row(t("Purpose"), Select([(t(word), key) for key, word in PURPOSE.items()],
                                                      value="marketing", allow_blank=False, id="form-purpose",
                                                      compact=True))
            yield from self._row(t("Send"), Select([(t(word), key) for key, word in SCHEDULE.items()], value="now",
                                                   allow_blank=False, id="form-schedule", compact=True))
            yield from self._row(t("When"), Input(id="form-when", compact=True, disabled=True))
            yield Static("", id="form-error", classes="mail-error")
        yield SteadyFooter()

    @staticmethod
    def _row(label: str, widget) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label(label, classes="form-label")
            yield widget

    def _first_audience(self) -> str:
        if self.segment is not None:
            return f"segment:{self.segment}"
        return FILTERS if self.criteria is not None else ALL

    def _audiences(self, segments: list[str]) -> list[tuple[str, str]]:
        options = [(t("All clients"), ALL)]
        if self.criteria is not None and self.segment is None:
            options.append((t("The clients list's current search and filters"), FILTERS))
        named = sorted(set(segments) | ({self.segment} if self.segment else set()))
        return options + [(t("Segment: {name}", name=name), f"segment:{name}") for name in named]

    def on_mount(self) -> None:
        self.query_one("#form-name", Input).focus()
        self._read_choices()

    @database_work(group="campaign-form-choices")
    def _read_choices(self) -> ChoicesRead:
        return self.ChoicesRead(session.read(reads.run, reads.form_choices))

    @on(ChoicesRead)
    def _choices_read(self, message: ChoicesRead) -> None:
        self.choices = message.choices
        audience = self.query_one("#form-audience", Select)
        chosen = audience.value
        audience.set_options(self._audiences(message.choices.segments))
        audience.value = chosen
        self._offer_templates()

    @on(Select.Changed, "#form-channel")
    def _offer_templates(self) -> None:
        if self.choices is None:
            return
        channel = self.query_one("#form-channel", Select).value
        fitting = [(trigger_templates.shown_name(template.name), template.id)
                   for template in self.choices.templates if template.channel == channel]
        select = self.query_one("#form-template", Select)
        select.set_options(fitting)
        if len(fitting) == 1:
            select.value = fitting[0][1]
        if not fitting:
            self._say(t("There is no {channel} template yet: make one in the Templates tab first.",
                        channel=t(CHANNEL[str(channel)])))
        else:
            self._say("")

    @on(Select.Changed, "#form-schedule")
    def _schedule_chosen(self, event: Select.Changed) -> None:
        when = self.query_one("#form-when", Input)
        hint = WHEN_HINT[str(event.value)]
        when.placeholder = t(hint) if hint else ""
        when.disabled = not hint
        if not hint:
            when.value = ""

    def _say(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    def draft(self) -> Draft:
        template = self.query_one("#form-template", Select).value
        return Draft(name=self.query_one("#form-name", Input).value.strip(),
                     channel=str(self.query_one("#form-channel", Select).value),
                     audience=str(self.query_one("#form-audience", Select).value),
                     template_id=None if template is Select.NULL else int(template),  # type: ignore[call-overload]
                     purpose=str(self.query_one("#form-purpose", Select).value),
                     schedule=str(self.query_one("#form-schedule", Select).value),
                     when=self.query_one("#form-when", Input).value)

    @on(Input.Submitted)
    def action_create(self) -> None:
        draft = self.draft()
        if not draft.name:
            self._say(t("A campaign needs a name."))
            self.query_one("#form-name", Input).focus()
        elif draft.template_id is None:
            self._say(t("Choose a template for the campaign."))
            self.query_one("#form-template", Select).focus()
        else:
            self._say("")
            self._create(draft)

    @database_work(group="campaign-form-create")
    def _create(self, draft: Draft) -> Made:
        assert draft.template_id is not None and self.choices is not None
        at = campaigns.scheduled_at(draft.when, self.choices.timezone) if draft.schedule == "at" else None
        weekly = campaigns.Weekly.parse(draft.when) if draft.schedule == "weekly" else None
        if draft.schedule == "at" and at is None:
            raise UserError(N_("Type the time to send at, such as 2026-12-24 10:00."))
        segment = draft.audience.removeprefix("segment:") if draft.audience.startswith("segment:") else None
        made = reads.run(reads.create_campaign, name=draft.name, channel=draft.channel,
                         template_id=draft.template_id, segment=segment, purpose=draft.purpose, scheduled_at=at,
                         criteria=self.criteria if draft.audience == FILTERS else None, weekly=weekly)
        return self.Made(made.id)

    @on(Made)
    def _made(self, message: Made) -> None:
        self.dismiss(message.campaign_id)

    def show_user_error(self, error: UserError) -> None:
        self._say(str(error))

    def action_close(self) -> None:
        self.dismiss(None)
