"""One campaign: what it is, its live progress, and "did this client get it?".

The counts refresh on a timer, each time in a worker, so a slow link or a busy database never freezes the
keys. A draft shows its audience before it starts: how many would be sent to and how many are left out, by
reason, counted by the enqueueing statement itself. The search below finds the campaign's recipients by
name, phone or e-mail and shows each message's state, attempts and the server's last reply; Enter on one
previews the message that client gets.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static

from db import labels, session
from db.clients.listing import Criteria
from db.errors import UserError
from db.i18n import N_, t
from db.mailing import campaigns, reads, rules, templates
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.clients.screen import describe_filters
from screens.confirm import ConfirmScreen
from screens.mailing import CHANNEL, CSS, PURPOSE
from screens.mailing.dialogs import PreviewDialog, SendTestDialog
from tui.mailing import preview
from tui.mailing.render import MissingValue, Rendered
from tui.widgets.connection import ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter

# How often the counts are read again while the screen is up: a count is one indexed GROUP BY
# (message_campaign_status), cheap enough every two seconds from every terminal.
PROGRESS_SECONDS = 2.0
ACTIONS = {"start": campaigns.start, "pause": campaigns.pause, "resume": campaigns.resume,
           "cancel": campaigns.cancel}
# The campaign states each action applies to (db/mailing/campaigns.py refuses the others anyway).
ACTION_FROM = {"start": ("draft",), "pause": ("sending", "scheduled"), "resume": ("paused",),
               "cancel": ("draft", "scheduled", "sending", "paused")}


def describe_reasons(counts: dict[str, int]) -> str:
    # "missing first_name" names a field of the template: it stays as it is.
    return ", ".join(f"{t(labels.SKIP_REASON[reason]) if reason in labels.SKIP_REASON else reason} {count:,}"
                     for reason, count in sorted(counts.items(), key=lambda item: -item[1]))


def describe_audience(segment: str | None, criteria: Criteria | None) -> str:
    if segment:
        return t("segment “{name}”", name=segment)
    if criteria is None:
        return t("all clients")
    parts = [t("search “{text}”", text=criteria.text.strip())] if criteria.text.strip() else []
    parts.append(describe_filters(criteria.filters))
    return " · ".join(part for part in parts if part) or t("all clients")


class CampaignScreen(DatabaseScreen, Screen):
    @dataclass
    class Loaded(Message):
        view: reads.CampaignView

    @dataclass
    class AudienceCounted(Message):
        audience: reads.Audience

    @dataclass
    class Found(Message):
        text: str
        recipients: list[reads.Recipient]

    @dataclass
    class Previewed(Message):
        client: str
        rendered: Rendered | None
        missing: str

    @dataclass
    class Done(Message):
        """An action or a test message went through; `said` is the sentence to show."""

        said: str

    CSS_PATH = CSS
    BINDINGS = [
        # Off the footer, which the mode keys and the campaign's own fill at 80 columns.
        Binding("escape", "back", t("Back"), tooltip=t("Back to the campaigns"), show=False, id="campaign.back"),
        Binding("s", "change('start')", t("Start"), tooltip=t("Enqueue the audience and start sending"),
                id="campaign.start"),
        Binding("p", "change('pause')", t("Pause"), tooltip=t("Stop sending for now; nothing is lost"),
                id="campaign.pause"),
        Binding("u", "change('resume')", t("Resume"), tooltip=t("Go on sending"), id="campaign.resume"),
        Binding("c", "change('cancel')", t("Cancel"), tooltip=t("Stop the campaign for good"),
                id="campaign.cancel"),
        # Off the footer for want of room beside the mode keys: Enter on a recipient previews too, and the
        # search box is on screen; both are in the palette.
        Binding("v", "preview", t("Preview"), tooltip=t("The message the selected recipient gets"), show=False,
                id="campaign.preview"),
        Binding("r", "results", t("Results"), tooltip=t("Results per arm: buyers and revenue 30, 60 and 90 days "
                                                         "after sending, against the holdout"), id="campaign.results"),
        Binding("t", "test", t("Test"), tooltip=t("Send the message to an address you type"), id="campaign.test"),
        Binding("slash", "search", t("Search"), tooltip=t("Find a recipient by name, phone or e-mail"), show=False,
                id="campaign.search"),
    ]

    def __init__(self, identity: Identity, campaign_id: int) -> None:
        super().__init__()
        self.identity = identity
        self.campaign_id = campaign_id
        self.progress: campaigns.Progress | None = None
        self.audience: reads.Audience | None = None
        self.recipients: list[reads.Recipient] = []

    @property
    def reads_queue(self) -> bool:
        """Whether the login reads who got which message: every person's role does since 0024 (a mailer
        meets no mailing mode)."""
        return self.identity.role in ("admin", "manager", "sales")

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(t("Reading the campaign…"), id="camp-info", markup=False)
        yield Static("", id="camp-progress", markup=False)
        yield Static("", id="camp-audience")
        if self.reads_queue:
            yield Input(placeholder=t("Did this client get it? Type a name, phone or e-mail"), id="recipient-search",
                        compact=True)
            yield DataTable(id="recipients", cursor_type="row", zebra_stripes=True)
        else:
            yield Static(t("Your role sees the counts; who got which message is for the administrator and "
                           "managers."), id="recipients-note")
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#camp-audience").display = False
        if self.reads_queue:
            self.query_one("#recipients", DataTable).add_columns(
                t("Client"), t("Address"), t("State"), t("Tries"), t("Server's reply"))
            self.query_one("#recipients", DataTable).focus()
        self._load()
        self.set_interval(PROGRESS_SECONDS, self._poll)

    # --- progress ---------------------------------------------------------------------------------

    def _poll(self) -> None:
        # Only while the campaign is what the user looks at: a campaign left open in the mode, or under a
        # dialog, does not cost the link and the database a read every two seconds.
        if self.is_current and not any(worker.node is self and worker.group == "campaign-progress" and worker.is_running
                   for worker in self.app.workers):
            self._load()

    @database_work(group="campaign-progress")
    def _load(self) -> Loaded:
        return self.Loaded(session.read(reads.run, reads.campaign_view, self.campaign_id))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        progress = message.view.progress
        first = self.progress is None
        status_changed = self.progress is None or self.progress.campaign.status != progress.campaign.status
        self.progress = progress
        campaign = progress.campaign
        if campaign.weekly is not None:
            when = t("every {weekly}", weekly=str(campaign.weekly))
            if campaign.next_run_at:
                when += " · " + t("next {at}", at=campaign.next_run_at.strftime("%Y-%m-%d %H:%M"))
        else:
            when = campaign.scheduled_at.strftime("%Y-%m-%d %H:%M") if campaign.scheduled_at else t("now")
        info = t("No. {id} · {name} · {channel}, {purpose} · audience: {audience}", id=campaign.id,
                 name=campaign.name, channel=t(CHANNEL[campaign.channel]), purpose=t(PURPOSE[campaign.purpose]),
                 audience=describe_audience(campaign.segment_name, message.view.criteria))
        info += "\n" + t("Status: {status} · sending from: {when}", status=t(labels.CAMPAIGN_STATUS[campaign.status]),
                         when=when)
        if campaign.paused_reason:
            info += " · " + campaign.paused_reason
        self._show("#camp-info", info)
        counts = " · ".join(f"{t(labels.MESSAGE_STATE[state])} {count:,}"
                            for state, count in progress.by_state.items())
        if progress.by_skip_reason:
            counts += "\n" + t("Skipped: {reasons}", reasons=describe_reasons(progress.by_skip_reason))
        self._show("#camp-progress", counts if campaign.status != "draft" else t("Not started yet."))
        if campaign.status == "draft" and first and self.identity.can_write:
            self.query_one("#camp-audience", Static).update(t("Counting the audience…"))
            self.query_one("#camp-audience").display = True
            self._count_audience()
        elif campaign.status != "draft":
            self.query_one("#camp-audience").display = False
        if status_changed:
            self.refresh_bindings()

    def _show(self, selector: str, text: str) -> None:
        """Updates only what changed: the counts are read every two seconds, and an unchanged text need not
        be laid out and drawn again over a slow link."""
        shown = self.query_one(selector, Static)
        if str(shown.content) != text:
            shown.update(text)

    @database_work(group="campaign-audience")
    def _count_audience(self) -> AudienceCounted:
        return self.AudienceCounted(session.read(reads.run, reads.audience, self.campaign_id))

    @on(AudienceCounted)
    def _audience_counted(self, message: AudienceCounted) -> None:
        self.audience = message.audience
        said = t("Starting now: {total} clients in the audience, {to_send} to send to.",
                 total=f"{message.audience.total:,}", to_send=f"{message.audience.to_send:,}")
        if message.audience.skipped:
            said += "\n" + t("Left out: {reasons}", reasons=describe_reasons(message.audience.skipped))
        self.query_one("#camp-audience", Static).update(said)

    # --- recipients -------------------------------------------------------------------------------

    def action_search(self) -> None:
        if self.reads_queue:
            self.query_one("#recipient-search", Input).focus()

    @on(Input.Changed, "#recipient-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if event.value.strip():
            self._find(event.value)
        else:
            self.recipients = []
            self.query_one("#recipients", DataTable).clear()

    @on(Input.Submitted, "#recipient-search")
    def _to_results(self) -> None:
        self.query_one("#recipients", DataTable).focus()

    @database_work(group="campaign-find")
    def _find(self, text: str) -> Found:
        return self.Found(text, session.read(reads.run, reads.find_recipients, self.campaign_id, text))

    @on(Found)
    def _found(self, message: Found) -> None:
        if message.text != self.query_one("#recipient-search", Input).value:
            return  # a newer search is on its way
        self.recipients = message.recipients
        table = self.query_one("#recipients", DataTable)
        table.clear()
        for recipient in message.recipients:
            state = t(labels.MESSAGE_STATE[recipient.status])
            if recipient.skip_reason:
                reason = recipient.skip_reason
                said = t(labels.SKIP_REASON[reason]) if reason in labels.SKIP_REASON else reason
                state += f" ({said})"
            table.add_row(recipient.name, recipient.address or "—", state, str(recipient.attempts),
                          recipient.last_reply or recipient.error or "", key=str(recipient.message_id))
        if not message.recipients:
            self.notify(t("No recipient of this campaign matches “{text}”.", text=message.text), timeout=3)

    @on(DataTable.RowSelected, "#recipients")
    def _recipient_chosen(self) -> None:
        self.action_preview()

    def _selected_client(self) -> int | None:
        if not self.reads_queue or not self.recipients:
            return None
        table = self.query_one("#recipients", DataTable)
        if not (self.focused is table or self.focused is self.query_one("#recipient-search", Input)):
            return None
        return self.recipients[min(table.cursor_row, len(self.recipients) - 1)].client_id

    # --- preview and test -------------------------------------------------------------------------

    def action_preview(self) -> None:
        if self.progress is not None:
            self._preview(self.progress.campaign, self._selected_client())

    @database_work(group="campaign-preview")
    def _preview(self, campaign: campaigns.Campaign, client_id: int | None) -> Previewed:
        def read(conn):
            chosen = client_id or reads.sample_client(conn, campaign.id)
            return templates.load(conn, campaign.template_id), reads.client_values(conn, chosen)

        template, client = session.read(reads.run, read)
        name = " ".join(part for part in (client.last_name, client.first_name, client.middle_name) if part)
        try:
            return self.Previewed(name, preview.preview(template, client, campaign.purpose), "")
        except MissingValue as missing:
            return self.Previewed(name, None, missing.name)

    @on(Previewed)
    def _previewed(self, message: Previewed) -> None:
        self.app.push_screen(PreviewDialog(message.client, message.rendered, message.missing))

    def action_test(self) -> None:
        if self.progress is None:
            return
        campaign, client_id = self.progress.campaign, self._selected_client()

        def typed(address: str | None) -> None:
            if address:
                self._send_test(campaign, client_id, address)

        self.app.push_screen(SendTestDialog(), typed)

    @database_work(group="campaign-test")
    def _send_test(self, campaign: campaigns.Campaign, client_id: int | None, address: str) -> Done:
        from tui.mailing.delivery import SmtpServer, SmtpTransport

        url = os.environ.get("CLIENTBASE_SMTP_URL", "")
        if not url:
            raise UserError(N_("A test is sent through the mail server named by CLIENTBASE_SMTP_URL "
                               "(smtp://user:password@host:587 or smtps://...), which is not set for this app."))
        server = SmtpServer.from_url(url)

        def read(conn):
            chosen = client_id or reads.sample_client(conn, campaign.id)
            return (rules.read(conn), templates.load(conn, campaign.template_id),
                    reads.client_values(conn, chosen))

        settings, template, client = session.read(reads.run, read)
        try:
            reply = preview.send_test(SmtpTransport(server), settings, template, client, address)
        except MissingValue as missing:
            raise UserError(N_("This client lacks {field}, which the template needs without a default: the test "
                               "was not sent."), field=missing.name) from None
        return self.Done(t("A test went to {address}; the server replied: {reply}", address=address, reply=reply))

    def action_results(self) -> None:
        from screens.mailing.results import ResultsScreen

        self.app.push_screen(ResultsScreen(self.identity, self.campaign_id))

    # --- start, pause, resume, cancel -------------------------------------------------------------

    def action_change(self, action: str) -> None:
        if action != "cancel":
            self._change(action)
            return

        def answered(sure: bool | None) -> None:
            if sure:
                self._change("cancel")

        self.app.push_screen(ConfirmScreen(t("Cancel the campaign?"), t("What is still queued will not be sent; "
                                                                        "this cannot be undone."),
                                           [(t("Cancel the campaign"), True), (t("Keep it"), False)]), answered)

    @database_work(group="campaign-change")
    def _change(self, action: str) -> Done:
        def change(conn) -> str:
            ACTIONS[action](conn, self.campaign_id)
            return campaigns.get(conn, self.campaign_id).status

        # A write: not retried on a new connection as a read would be (database_work guards it).
        status = reads.run(change)
        return self.Done(t("Campaign {id} is now {status}.", id=self.campaign_id,
                           status=t(labels.CAMPAIGN_STATUS[status])))

    @on(Done)
    def _done(self, message: Done) -> None:
        self.notify(message.said)
        self._load()

    def action_back(self) -> None:
        if self.reads_queue and self.focused is self.query_one("#recipient-search", Input):
            self.query_one("#recipients", DataTable).focus()
            return
        self.dismiss(None)

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "change":
            status = self.progress.campaign.status if self.progress else None
            return self.identity.can_write and status in ACTION_FROM[str(parameters[0])]
        if action == "test":
            return self.identity.can_write and self.progress is not None and self.progress.campaign.channel == "email"
        if action in ("preview", "search"):
            return self.reads_queue
        if action == "results":
            return self.progress is not None and self.progress.campaign.status != "draft"
        return True
