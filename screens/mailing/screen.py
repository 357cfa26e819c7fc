"""The mailing mode: the campaigns, the templates and the triggers, each a list in a tab.

Enter opens the campaign (its progress, its recipients) or the template (its editor); on a trigger, its template
for the trigger's channel. The administrator switches a trigger on or off (`o`) and between e-mail and SMS (`c`);
the change is the settings trigger_<name> and trigger_<name>_channel, which `triggers set` writes too. `f`
opens the forecast of the next days. The administrator
makes a new one with `n`; every other role reads, and sees no key that writes (the database refuses them
anyway). Salespeople read campaigns but not templates (0003): their templates tab says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from db import labels, session
from db.clients.listing import Criteria
from db.i18n import t
from db.mailing import reads, triggers
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.mailing import CHANNEL, CSS
from tui.mailing import trigger_templates
from tui.widgets.connection import ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter



def campaign_cells(campaign, filtered: bool) -> tuple[str, ...]:
    audience = campaign.segment_name or (t("a search and filters") if filtered else t("all clients"))
    return (str(campaign.id), campaign.name, t(labels.CAMPAIGN_STATUS[campaign.status]),
            t(CHANNEL[campaign.channel]), audience)


class MailingScreen(DatabaseScreen, Screen):
    @dataclass
    class Loaded(Message):
        overview: reads.Overview

    @dataclass
    class TriggerChanged(Message):
        state: triggers.TriggerState

    CSS_PATH = CSS
    BINDINGS = [
        Binding("n", "new", t("New"), tooltip=t("Make a new campaign or template (the one of the tab shown)"),
                id="mailing.new"),
        # Before Reload and Forecast: on the triggers tab the footer at 80 columns has room for these first.
        Binding("o", "toggle_trigger", t("On/off"), tooltip=t("Switch the selected trigger on or off"),
                id="mailing.trigger.toggle"),
        Binding("c", "trigger_channel", t("Channel"), tooltip=t("Send the selected trigger by e-mail or by SMS"),
                id="mailing.trigger.channel"),
        Binding("l", "reload", t("Reload"), tooltip=t("Read the campaigns and templates again"),
                id="mailing.reload"),
        Binding("f", "forecast", t("Forecast"), tooltip=t("Who gets what over the next days, and who gets two "
                                                          "messages on one day"), id="mailing.forecast"),
        Binding("1", "show_tab('campaigns')", t("Campaigns"), show=False, tooltip=t("Show the campaigns"),
                id="mailing.tab.campaigns"),
        Binding("2", "show_tab('templates')", t("Templates"), show=False, tooltip=t("Show the templates"),
                id="mailing.tab.templates"),
        Binding("3", "show_tab('triggers')", t("Triggers"), show=False, tooltip=t("Show the automatic mailings"),
                id="mailing.tab.triggers"),
    ]

    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity
        self.overview: reads.Overview | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with TabbedContent(id="mail-tabs"):
            with TabPane(t("Campaigns"), id="campaigns"):
                yield DataTable(id="campaign-list", cursor_type="row", zebra_stripes=True)
            with TabPane(t("Templates"), id="templates"):
                yield Static("", id="templates-note")
                yield DataTable(id="template-list", cursor_type="row", zebra_stripes=True)
            with TabPane(t("Triggers"), id="triggers"):
                yield DataTable(id="trigger-list", cursor_type="row", zebra_stripes=True)
        yield SteadyFooter()

    def on_mount(self) -> None:
        self.query_one("#campaign-list", DataTable).add_columns(
            t("No."), t("Name"), t("Status"), t("Channel"), t("Audience"))
        self.query_one("#template-list", DataTable).add_columns(t("Name"), t("Channel"), t("Changed by"))
        self.query_one("#trigger-list", DataTable).add_columns(t("Trigger"), t("State"), t("Channel"),
                                                               t("Template"))
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
                templates.add_row(trigger_templates.shown_name(template.name), t(CHANNEL[template.channel]),
                                  template.updated_by, key=str(template.id))
        self._show_triggers(message.overview.triggers)
        # Whether `n` applies depends on what was read (a role without templates has nothing to make one of).
        self.refresh_bindings()
        if not message.overview.campaigns and self.identity.can_write:
            self.notify(t("No campaign yet: press n to make one."))

    def _show_triggers(self, states: list[triggers.TriggerState]) -> None:
        table = self.query_one("#trigger-list", DataTable)
        row = table.cursor_row
        table.clear()
        for state in states:
            table.add_row(t(triggers.LABEL[state.trigger]), t("on") if state.enabled else t("off"),
                          t(CHANNEL[state.channel]),
                          trigger_templates.shown_name(trigger_templates.template_name(state.trigger, state.channel)),
                          key=state.trigger)
        if states:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _selected_trigger(self) -> triggers.TriggerState | None:
        if self.overview is None or not self.overview.triggers:
            return None
        table = self.query_one("#trigger-list", DataTable)
        return self.overview.triggers[min(table.cursor_row, len(self.overview.triggers) - 1)]

    def action_toggle_trigger(self) -> None:
        state = self._selected_trigger()
        if state is not None:
            self._configure(state.trigger, enabled=not state.enabled)

    def action_trigger_channel(self) -> None:
        state = self._selected_trigger()
        if state is not None:
            self._configure(state.trigger, channel="sms" if state.channel == "email" else "email")

    @database_work(group="mailing-trigger")
    def _configure(self, trigger: str, enabled: bool | None = None, channel: str | None = None) -> TriggerChanged:
        # A write: not retried on a new connection as a read would be.
        return self.TriggerChanged(reads.run(triggers.configure, trigger, enabled=enabled, channel=channel))

    @on(TriggerChanged)
    def _trigger_changed(self, message: TriggerChanged) -> None:
        state = message.state
        self.notify(t("{trigger}: {state}, by {channel}.", trigger=t(triggers.LABEL[state.trigger]),
                      state=t("on") if state.enabled else t("off"), channel=t(CHANNEL[state.channel])))
        self._load()

    @on(DataTable.RowSelected, "#trigger-list")
    def _open_trigger_template(self, event: DataTable.RowSelected) -> None:
        state = self._selected_trigger()
        if state is None or self.overview is None or self.overview.templates is None:
            return
        name = trigger_templates.template_name(state.trigger, state.channel)
        found = next((template.id for template in self.overview.templates if template.name == name), None)
        if found is None:
            self.notify(t("The trigger's template is made by its first run; until then the default is used."))
        else:
            self.open_template(found)

    def focus_active_list(self) -> None:
        tab = self.query_one("#mail-tabs", TabbedContent).active
        lists = {"campaigns": "#campaign-list", "templates": "#template-list", "triggers": "#trigger-list"}
        self.query_one(lists.get(tab, "#campaign-list"), DataTable).focus()

    @on(TabbedContent.TabActivated, "#mail-tabs")
    def _tab_shown(self) -> None:
        self.focus_active_list()
        self.refresh_bindings()

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

    def _active_tab(self) -> str:
        try:
            return self.query_one("#mail-tabs", TabbedContent).active
        except NoMatches:  # asked before the tabs are composed
            return ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        on_triggers = self._active_tab() == "triggers"
        if action in ("toggle_trigger", "trigger_channel"):
            return self.identity.can_write and on_triggers
        if action == "forecast":
            # The forecast plans in a temporary table and reads the triggers' occasions: the administrator's.
            return self.identity.can_write
        if action == "new":
            if on_triggers:
                return False
            if not self.identity.can_write:
                return False
            return self.overview is not None and self.overview.templates is not None
        return True
