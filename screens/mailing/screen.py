"""The mailing mode: the campaigns and the templates, each a list in a tab.

Enter opens the campaign (its progress, its recipients) or the template (its editor). The administrator
makes a new one with `n`; every other role reads, and sees no key that writes (the database refuses them
anyway). Salespeople read campaigns but not templates (0003): their templates tab says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from db import labels, session
from db.clients.listing import Criteria
from db.i18n import t
from db.mailing import reads
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.mailing import CHANNEL, CSS
from tui.widgets.connection import ConnectionBack
from tui.widgets.footer import SteadyFooter



def campaign_cells(campaign, filtered: bool) -> tuple[str, ...]:
    audience = campaign.segment_name or (t("a search and filters") if filtered else t("all clients"))
    return (str(campaign.id), campaign.name, t(labels.CAMPAIGN_STATUS[campaign.status]),
            t(CHANNEL[campaign.channel]), audience)


class MailingScreen(DatabaseScreen, Screen):
    @dataclass
    class Loaded(Message):
        overview: reads.Overview

    CSS_PATH = CSS
    BINDINGS = [
        Binding("n", "new", t("New"), tooltip=t("Make a new campaign or template (the one of the tab shown)"),
                id="mailing.new"),
        Binding("l", "reload", t("Reload"), tooltip=t("Read the campaigns and templates again"),
                id="mailing.reload"),
        Binding("f", "forecast", t("Forecast"), tooltip=t("Who gets what over the next days, and who gets two "
                                                          "messages on one day"), id="mailing.forecast"),
        Binding("1", "show_tab('campaigns')", t("Campaigns"), show=False, tooltip=t("Show the campaigns"),
                id="mailing.tab.campaigns"),
        Binding("2", "show_tab('templates')", t("Templates"), show=False, tooltip=t("Show the templates"),
                id="mailing.tab.templates"),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        self.overview: reads.Overview | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="mail-tabs"):
            with TabPane(t("Campaigns"), id="campaigns"):
                yield DataTable(id="campaign-list", cursor_type="row", zebra_stripes=True)
            with TabPane(t("Templates"), id="templates"):
                yield Static("", id="templates-note")
                yield DataTable(id="template-list", cursor_type="row", zebra_stripes=True)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#campaign-list", DataTable).add_columns(
            t("No."), t("Name"), t("Status"), t("Channel"), t("Audience"))
        self.query_one("#template-list", DataTable).add_columns(t("Name"), t("Channel"), t("Changed by"))
        self.query_one("#templates-note", Static).display = False
        self._load()

    @database_work(group="mailing-load")
    def _load(self) -> Loaded:
        return self.Loaded(session.read(reads.run, reads.overview))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        self.overview = message.overview
        table = self.query_one("#campaign-list", DataTable)
        row = table.cursor_row
        table.clear()
        for campaign in message.overview.campaigns:
            table.add_row(*campaign_cells(campaign, campaign.id in message.overview.filtered), key=str(campaign.id))
        if message.overview.campaigns:
            table.move_cursor(row=min(row, table.row_count - 1))
        templates = self.query_one("#template-list", DataTable)
        templates.clear()
        note = self.query_one("#templates-note", Static)
        if message.overview.templates is None:
            note.update(t("Your role reads the campaigns and their counts, not the templates."))
            note.display, templates.display = True, False
        else:
            note.display = False
            for template in message.overview.templates:
                templates.add_row(template.name, t(CHANNEL[template.channel]), template.updated_by,
                                  key=str(template.id))
        if not message.overview.campaigns and self.identity.can_write:
            self.notify(t("No campaign yet: press n to make one."))

    def focus_active_list(self) -> None:
        tab = self.query_one("#mail-tabs", TabbedContent).active
        self.query_one("#campaign-list" if tab == "campaigns" else "#template-list", DataTable).focus()

    @on(TabbedContent.TabActivated, "#mail-tabs")
    def _tab_shown(self) -> None:
        self.focus_active_list()

    def action_show_tab(self, name: str) -> None:
        self.query_one("#mail-tabs", TabbedContent).active = name
        self.focus_active_list()

    def action_reload(self) -> None:
        self._load()

    def action_forecast(self) -> None:
        from screens.mailing.forecast import ForecastScreen

        self.app.push_screen(ForecastScreen(self.identity))

    @on(DataTable.RowSelected, "#campaign-list")
    def _open_campaign(self, event: DataTable.RowSelected) -> None:
        from screens.mailing.campaign import CampaignScreen

        self.app.push_screen(CampaignScreen(self.identity, int(event.row_key.value or 0)))

    @on(DataTable.RowSelected, "#template-list")
    def _open_template(self, event: DataTable.RowSelected) -> None:
        self.open_template(int(event.row_key.value or 0))

    def open_template(self, template_id: int | None) -> None:
        from screens.mailing.template_editor import TemplateEditor

        self.app.push_screen(TemplateEditor(self.identity, template_id))

    def action_new(self) -> None:
        if self.query_one("#mail-tabs", TabbedContent).active == "templates":
            self.open_template(None)
        else:
            self.new_campaign()

    def new_campaign(self, criteria: Criteria | None = None, segment: str | None = None) -> None:
        """The new-campaign form; from the clients list, with its segment or current filters as the audience."""
        from screens.mailing.campaign import CampaignScreen
        from screens.mailing.campaign_form import CampaignForm

        def made(campaign_id: int | None) -> None:
            if campaign_id is not None:
                self.app.push_screen(CampaignScreen(self.identity, campaign_id))

        self.app.push_screen(CampaignForm(criteria, segment), made)

    def on_screen_resume(self) -> None:
        # Back from a campaign, a template or the form, by whatever path (the form may have been opened from
        # the clients list): what they changed is read again. The first showing is on_mount's read.
        if self.overview is not None:
            self._load()

    def on_connection_back(self, message: ConnectionBack) -> None:
        self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new":
            if not self.identity.can_write:
                return False
            return self.overview is not None and self.overview.templates is not None
        return True
