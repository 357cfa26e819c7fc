"""The card editor: all of one client's data in tabs, saved with Ctrl+S under optimistic locking.

`CardScreen(identity, client_id)` dismisses with the id of the saved client (None if nothing was saved);
`client_id=None` creates a client. Read-only logins see the card with every editor disabled and no write
key in the footer; a write key or palette command tells them why. Every database call runs in a worker,
so the card keeps its draft whatever the database does.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import psycopg
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Checkbox, ContentSwitcher, Input, Select, Static, TextArea

from db import session
from db.card import cards

from db.card import edit_lock
from db.card.draft import CardDraft
from db.errors import ConflictError, ConnectionLost, UserError
from db.i18n import N_, t
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from screens.card.actions import CardActions, CardCommands
from screens.card.tabs.extra import ConsentTab, CustomTab
from tui.widgets.field_grid import FieldGrid
from screens.card.tabs.history import ActivityTab, PurchasesTab, RemindersTab
from screens.card.tabs.main import MainTab
from screens.card.tabs.people import ContactsTab, FamilyTab
from screens.confirm import ConfirmScreen
from screens.card.conflict import ConflictScreen
from tui import textual_compat
from tui.widgets.connection import ClientsChanged, ConnectionBack
from tui.widgets.app_header import AppHeader
from tui.widgets.footer import SteadyFooter
from tui.widgets.tab_strip import TabStrip
from db import labels

TABS = ("main", "contacts", "family", "purchases", "activity", "reminders", "custom", "consent")
TAB_BODIES: dict[str, Callable[[bool], Widget]] = {
    "main": MainTab, "contacts": ContactsTab, "family": FamilyTab, "purchases": PurchasesTab,
    "activity": lambda _: ActivityTab(), "reminders": lambda _: RemindersTab(), "custom": CustomTab,
    "consent": ConsentTab,
}
EDITORS_EVERY_SECONDS = 20
REUSED = "clientbase-card-editor"
# A reused editor waits this long for its card before it shows itself with "Loading…".
SHOW_LOADING_AFTER = 0.15
TAB_KEYS = dict(zip(TABS, ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"), strict=True))


def tab_of(field: str) -> str:
    if field.startswith("contact."):
        return "contacts"
    if field.startswith("relative."):
        return "family"
    if field.startswith("custom."):
        return "custom"
    if field.startswith("consent_"):
        return "consent"
    return "main"


class CardScreen(DatabaseScreen, CardActions, Screen[int | None]):
    HELP = N_("One client's whole story, in tabs (F2-F9): details, contacts, family, purchases, activity, reminders, "
              "custom fields and consent. The administrator edits and saves with Ctrl+S; if someone else saved first, "
              "both versions are shown and nothing is lost. Other logins read.")

    class BuiltAhead(Message):
        """The editor `prepare` started is built: the app has made what it keeps for the session."""

    @dataclass
    class Loaded(Message):
        card: cards.Card

    @dataclass
    class Saved(Message):
        card: cards.Card

    @dataclass
    class DuplicatesFound(Message):
        """A new client looks like these existing ones: nothing was saved, the user chooses."""

        found: list[cards.Duplicate]

    @dataclass
    class EditorsSeen(Message):
        editors: list[edit_lock.Editor]

    @dataclass
    class Refreshed(Message):
        """The card as another terminal saved it."""

        card: cards.Card

    # The focus is put in the first field of the card once it is filled (see `focus_first_field`); left to
    # Textual, the reused editor would come back to whichever field the previous card was left in.
    AUTO_FOCUS = ""
    # Absolute, because Textual resolves a relative CSS_PATH against the module of a subclass.
    CSS_PATH = Path(__file__).with_name("card.tcss")
    COMMANDS = {CardCommands}
    BINDINGS = [
        Binding("ctrl+s", "save", t("Save"), tooltip=t("Save the card "
                                                                "(only when every field is valid)"), id="card-save"),
        Binding("escape", "close", t("Close"), tooltip=t("Close the card; asks first if there are unsaved "
                                                                  "changes"), id="card-close"),
        # One footer entry stands for the eight tab keys; in the palette each tab is found by its name.
        *[Binding(key, f"tab('{tab}')", t("Tabs") if tab == "main" else t(labels.CARD_TAB[tab]),
                  key_display="F2–F9" if tab == "main" else None, show=(tab == "main"),
                  tooltip=t(labels.CARD_TAB_TOOLTIP[tab]), id=f"card-tab-{tab}")
          for tab, key in TAB_KEYS.items()],
        *CardActions.ACTION_BINDINGS,
    ]

    def __init__(self, identity: Identity, client_id: int | None) -> None:
        super().__init__()
        self.identity = identity
        self.read_only = not identity.can_write
        self.claim: edit_lock.EditClaim | None = None
        self._start_card(client_id)
        self.styled_for_theme: str | None = None
        self.built_ahead = False
        # Set by `reopen` until the editor is pushed, with the callback to push it with.
        self._waiting_to_show = False
        self._returned: Callable[[int | None], None] | None = None
        self._show_timer: Timer | None = None
        # What was typed while the card was loading, for its first field once it is there.
        self._typed_ahead: list[str] = []

    # --- layout -------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(t("Connecting…"), id="card-title")
        # Only the Main tab is built now; each other tab is built the first time it is shown, so that
        # opening a card costs one tab's widgets, not eight.
        yield TabStrip([(tab, t(labels.CARD_TAB[tab])) for tab in TABS], "main", id="card-tabs")
        with ContentSwitcher(id="card-body", initial="main"):
            for tab in TABS:
                with Vertical(id=tab, classes="card-pane"):
                    if tab == "main":
                        yield MainTab(self.read_only)
        yield Static("", id="card-status")
        yield SteadyFooter()

    @classmethod
    def open(cls, app: App, identity: Identity, client_id: int | None,
             returned: Callable[[int | None], None] | None = None) -> CardScreen:
        """Shows the card of `client_id` (None: a new client) in the app's one card editor, and calls
        `returned` with the saved id (None if nothing was saved) when it closes.

        The editor is built once per session (see `prepare`); building its widgets costs Textual far more
        than loading a card. The next card is loaded and put into the widgets first, and the editor shown
        after, so that the first frame holds the whole card and the layout is worked out once. A load
        slower than SHOW_LOADING_AFTER shows the editor at once with "Loading…"."""
        if app.is_screen_installed(REUSED):
            screen = app.get_screen(REUSED)
            if screen in app.screen_stack or (screen.identity == identity and not screen.is_mounted):
                # Still being built in the background: this one card gets an editor of its own.
                one_off = cls(identity, client_id)
                app.push_screen(one_off, returned)
                return one_off
            if screen.identity == identity:
                screen.reopen(client_id, returned)
                if client_id is None:
                    # A new client is typed in at once: shown now, the editor keeps what is typed before the
                    # blank card arrives (see `on_key`); left under the list, the letters would go to the list.
                    screen._show_editor()
                return screen
            app.uninstall_screen(REUSED)
        screen = cls(identity, client_id)
        app.install_screen(screen, REUSED)
        app.push_screen(screen, returned)
        return screen

    @classmethod
    def prepare(cls, app: App, identity: Identity, sample_client_id: int | None = None) -> None:
        """Builds the app's card editor in the background, so that even the first card of a session only
        loads and fills. Call it once the first screen is showing; `open` then finds the editor ready.
        With `sample_client_id`, that card is also read once and dropped (see `rehearse`)."""
        if app.is_screen_installed(REUSED):
            return
        # Built for an existing client, like most cards opened, so that its footer already holds their keys
        # (merging, say, which a new client has not) and the first card does not rebuild it. No card goes
        # in before the first one asked for: the first real card would pay for replacing it.
        screen = cls(identity, sample_client_id)
        screen.built_ahead = True
        app.install_screen(screen, REUSED)
        textual_compat.build_screen_unseen(app, screen, REUSED)
        # Its widgets were styled as they were mounted, under the stylesheet it will be shown with.
        screen.styled_for_theme = app.theme
        if sample_client_id is not None:
            screen.rehearse(sample_client_id)

    def _start_card(self, client_id: int | None) -> None:
        """What the editor knows of the card it is about to show: only which one it is."""
        self.client_id = client_id
        self.card: cards.Card | None = None
        self.shown_draft = CardDraft()
        self.saved_id: int | None = None
        self.editors: list[edit_lock.Editor] = []
        self.duplicates_cleared = False
        self._close_when_saved = False
        self._forget_touches()

    def _forget_touches(self) -> None:
        """A card just shown says nothing about fields the user has not been to (see `validate_draft`)."""
        self._edited_editors: set[Widget] = set()
        self._left_editors: set[Widget] = set()
        self._showing_errors: set[str] = set()
        self._save_tried = False

    def reopen(self, client_id: int | None, returned: Callable[[int | None], None] | None) -> None:
        """Forgets the previous card, loads the next one and shows the editor once it holds it."""
        self._start_card(client_id)
        self.show_tab("main")
        self.set_focus(None, scroll_visible=False)
        self._typed_ahead = []
        self.query_one("#card-title", Static).update(t("Connecting…"))
        self.say("")
        self._waiting_to_show, self._returned = True, returned
        if self._show_timer is not None:
            self._show_timer.stop()
        self._show_timer = self.set_timer(SHOW_LOADING_AFTER, self._show_editor)
        self.load(client_id)

    def _show_editor(self) -> None:
        """Pushes the reused editor that `reopen` is filling, if it is not on screen yet."""
        if self._show_timer is not None:
            self._show_timer.stop()
            self._show_timer = None
        if self._waiting_to_show:
            if self.card is None:
                # Shown before its card arrived: the previous client's values must not be seen meanwhile.
                self.query_one("#card-body", ContentSwitcher).display = False
            self._waiting_to_show = False
            self.app.push_screen(self, self._returned)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        # Textual restyles every widget of a screen it pushes, in case the theme changed while the screen
        # was away: for the reused editor that is the largest part of opening a card. Only a theme change
        # needs it.
        theme = self.app.theme
        if self.styled_for_theme == theme:
            event.refresh_styles = False
        self.styled_for_theme = theme

    def on_mount(self) -> None:
        if self.built_ahead:
            # With nothing focused (AUTO_FOCUS), no focus change would announce the keys: the footer is
            # built now, ahead, like the rest.
            self.refresh_bindings()
            self.post_message(self.BuiltAhead())
        else:
            self.load(self.client_id)
        # Someone may open the card after this one did: look again now and then.
        self.set_interval(EDITORS_EVERY_SECONDS, self._look_for_editors)

    def _look_for_editors(self) -> None:
        if self.card is not None and self.card.id is not None and self in self.app.screen_stack:
            self.watch_editors(self.card.id)

    def on_unmount(self) -> None:
        self._release_claim()

    def close(self) -> None:
        # A reused editor is not unmounted when it closes, so the card it held is released here.
        self._release_claim()
        self.dismiss(self.saved_id)

    def _release_claim(self) -> None:
        if self.claim is not None:
            # Closing a connection may wait on the network; the card is already closed.
            threading.Thread(target=self.claim.release, daemon=True).start()
            self.claim = None

    # --- showing ------------------------------------------------------------------------------------

    def body(self, tab: str) -> Widget | None:
        pane = self.query_one(f"#{tab}", Vertical)
        return pane.children[0] if pane.children else None

    def bodies(self) -> list[Widget]:
        return [body for tab in TABS if (body := self.body(tab)) is not None]

    async def ensure_tab(self, tab: str) -> Widget:
        """The tab's body, built and filled now if this is the first time it is needed."""
        body = self.body(tab)
        if body is None:
            body = TAB_BODIES[tab](self.read_only)
            await self.query_one(f"#{tab}", Vertical).mount(body)
            if self.card is not None:
                await body.fill(self.card, self.shown_draft)
                self.validate_draft()
        return body

    async def show_card(self, card: cards.Card, draft: CardDraft | None = None) -> None:
        """Shows `card`, with `draft` in the editors when the user's own changes must survive (a merge)."""
        self.card = card
        self.shown_draft = draft or card.draft
        self._forget_touches()
        self.query_one("#card-body", ContentSwitcher).display = True
        for body in self.bodies():
            await body.fill(card, self.shown_draft)
        self._update_title()
        self.validate_draft()
        self.refresh_bindings()

    async def fill_tabs(self, *tabs: str) -> None:
        for tab in tabs:
            body = self.body(tab)
            if body is not None:
                await body.fill(self.card, self.shown_draft)

    def _update_title(self) -> None:
        if self.card is None:
            return
        name = self.card.draft.display_name if self.card.id is not None else t("New client")
        parts = [f"#{self.card.id} {name}" if self.card.id is not None else name]
        if self.card.id is not None:
            parts.append(t(labels.CLIENTS_CATEGORY[self.card.category]))
        if self.read_only:
            parts.append(f"[b reverse] {t('READ-ONLY')} [/]")
        for editor in self.editors:
            since = f"{editor.since.astimezone():%H:%M}"
            being_edited = t("being edited by {login} since {since}", login=editor.login, since=since)
            parts.append(f"[b $warning]{being_edited}[/]")
        self.query_one("#card-title", Static).update(" · ".join(parts))

    def say(self, message: str, error: bool = False) -> None:
        status = self.query_one("#card-status", Static)
        status.set_class(error, "-error")
        status.update(message)

    # --- the draft ----------------------------------------------------------------------------------

    def draft(self) -> CardDraft:
        """What the editors hold; a tab not built yet still holds what was shown."""
        values: dict[str, object] = {}
        for body in self.bodies():
            if hasattr(body, "collect"):
                values.update(body.collect())
        return replace(self.shown_draft, **values)

    @property
    def dirty(self) -> bool:
        return self.card is not None and not self.read_only and self.draft() != self.card.draft

    def validate_draft(self) -> dict[str, str]:
        """Returns every problem by field, and shows beside its field each one the user has met: after a save
        was tried, in a field the user changed and left, or one already shown (which follows the typing until
        it is fixed). A new card or a new row, not yet filled in, is not told it is empty."""
        if self.card is None or self.read_only:
            return {}
        errors: dict[str, str] = {}
        for problem in cards.check(self.card, self.draft()):
            errors.setdefault(problem.field, str(problem))
        shown = {field: reason for field, reason in errors.items()
                 if self._save_tried or field in self._showing_errors or self.editor_of(field) in self._left_editors}
        self._showing_errors = set(shown)
        for grid in self.query(FieldGrid):
            grid.show_errors(shown)
        for body in self.bodies():
            if isinstance(body, (ContactsTab, FamilyTab)):
                body.show_errors(shown)
        return errors

    def editor_of(self, field: str) -> Widget | None:
        """The editor of a field as cards.check names it, if its tab is built."""
        body = self.body(tab_of(field))
        if body is None:
            return None
        if isinstance(body, (ContactsTab, FamilyTab)):
            return body.editor_for(field)
        for grid in body.query(FieldGrid):
            if field in grid.fields:
                return grid.fields[field].editor
        return None

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    def _edited(self, event: Message) -> None:
        self._edited_editors.add(event.control)
        self.validate_draft()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget in self._edited_editors and event.widget not in self._left_editors:
            self._left_editors.add(event.widget)
            self.validate_draft()

    # --- workers ------------------------------------------------------------------------------------

    @database_work(group="card-load")
    def load(self, client_id: int | None) -> Loaded:
        return self.Loaded(session.read(cards.load_card, client_id))

    @database_work(group="card-rehearsal")
    def rehearse(self, client_id: int) -> None:
        """Reads a card and drops it. The first read of a session costs twice the next ones (a connection
        to open, the server's caches of the card's eight tables to fill); paid now, it is not paid by the
        first card the user opens."""
        try:
            session.read(cards.load_card, client_id)
        except (ConnectionLost, UserError):
            pass  # only a head start: the card the user opens reports its own failure

    @database_work(group="card-save")
    def save(self, card: cards.Card, draft: CardDraft, check_duplicates: bool) -> Saved | DuplicatesFound:
        if check_duplicates:
            found = cards.find_duplicates(card, draft)
            if found:
                return self.DuplicatesFound(found)
        return self.Saved(cards.save_card(card, draft))

    @database_work(group="card-lock")
    def watch_editors(self, client_id: int) -> EditorsSeen:
        """Administrators claim the card, so others see them; everyone sees who else is editing it."""
        try:
            if self.read_only:
                return self.EditorsSeen(edit_lock.editors(client_id))
            if self.claim is not None and self.claim.client_id != client_id:
                self.claim.release()
                self.claim = None
            if self.claim is None:
                self.claim = edit_lock.claim(client_id)
            return self.EditorsSeen(self.claim.others())
        except (ConnectionLost, psycopg.Error):
            # Who else is editing is a courtesy: a server out of connections, or gone, must not stop the
            # editing; the card's own reads and saves say so when it matters.
            return self.EditorsSeen([])

    @database_work(group="card-refresh")
    def refresh_card(self, client_id: int) -> Refreshed:
        return self.Refreshed(session.read(cards.load_card, client_id))

    @on(Loaded)
    async def _loaded(self, message: Loaded) -> None:
        self.say("")
        await self.show_card(message.card)
        self._show_editor()
        self.focus_first_field()
        if message.card.id is not None:
            self.watch_editors(message.card.id)

    @on(DuplicatesFound)
    def _duplicates_found(self, message: DuplicatesFound) -> None:
        self._close_when_saved = False
        self.ask_duplicate(message.found)

    @on(Saved)
    async def _saved(self, message: Saved) -> None:
        self.saved_id = message.card.id
        self.duplicates_cleared = False
        await self.show_card(message.card)
        self.say(t("Saved."))
        self.watch_editors(message.card.id)
        if self._close_when_saved:
            self._close_when_saved = False
            self.close()

    @on(EditorsSeen)
    def _editors_seen(self, message: EditorsSeen) -> None:
        self.editors = message.editors
        self._update_title()

    @on(Refreshed)
    async def _refreshed(self, message: Refreshed) -> None:
        if self.card is None or message.card.version == self.card.version:
            return
        if self.dirty:
            self.say(t("Someone else saved this card a moment ago; your save will show both versions."))
        else:
            await self.show_card(message.card)
            self.say(t("Someone else saved this card; it now shows their version."))

    def worker_failed(self, error: BaseException) -> None:
        self._show_editor()  # the reason is said in the editor, which must be on screen to say it
        self._close_when_saved = False
        if isinstance(error, ConflictError) and self.card is not None:
            # The one special case: someone saved the card first; the user chooses, nothing is overwritten.
            self.resolve_conflict(self.draft(), self.card.draft, error.current)
        else:
            super().worker_failed(error)

    def connection_lost(self) -> None:
        # The draft stays in the editors: saved again once the banner says the database is back.
        self.say(t("The database "
                   "cannot be reached; your changes are kept in the editor, save again once it is back."), error=True)
        super().connection_lost()

    def show_user_error(self, error: UserError) -> None:
        self.say(str(error), error=True)

    # --- saving and closing -------------------------------------------------------------------------

    async def action_save(self) -> None:
        if self.card is None:
            return
        self._save_tried = True
        errors = self.validate_draft()
        if errors:
            self._close_when_saved = False
            field, reason = next(iter(errors.items()))
            self.say(t("Not saved: {reason}", reason=reason), error=True)
            await self.action_tab(tab_of(field), field)
            return
        self.say("")
        self.save(self.card, self.draft(), self.card.id is None and not self.duplicates_cleared)

    def ask_duplicate(self, found: list[cards.Duplicate]) -> None:
        first = found[0]
        body = "\n".join(t("{matched} already "
                           "belongs to {name} (#{id}).", matched=d.matched, name=d.name, id=d.client_id) for d in found)

        def answered(answer: str | None) -> None:
            if answer == "open":
                self.client_id = first.client_id
                self.load(first.client_id)
            elif answer == "save" and self.card is not None:
                self.duplicates_cleared = True
                self.save(self.card, self.draft(), False)

        self.app.push_screen(ConfirmScreen(t("Possible duplicate"), body,
                                           [(t("Open that card"), "open"), (t("Save anyway"), "save"),
                                            (t("Back"), None)]), answered)

    def resolve_conflict(self, mine: CardDraft, base: CardDraft, current: cards.Card) -> None:
        async def answered(answer: tuple[str, CardDraft] | None) -> None:
            if answer is None:
                return  # back to editing: the draft stays, and the next save meets the conflict again
            choice, draft = answer
            if choice == "take":
                await self.show_card(current)
            else:
                await self.show_card(current, draft)
                self.save(current, draft, False)

        self.app.push_screen(ConflictScreen(mine, base, current), answered)

    async def action_close(self) -> None:
        if not self.dirty:
            self.close()
            return

        async def answered(answer: str) -> None:
            if answer == "discard":
                self.close()
            elif answer == "save":
                # Closed once saved; refused (a field, a conflict, a possible duplicate), the card stays open
                # with the reason shown and the draft as it was.
                self._close_when_saved = True
                await self.action_save()

        # Saving first: the Enter of a hurried user keeps the changes.
        self.app.push_screen(ConfirmScreen(t("Save the changes?"), t("This card has unsaved changes. Save them "
                                                                          "before closing, or close and lose them?"),
                                           [(t("Save and close"), "save"), (t("Keep editing"), "stay"),
                                            (t("Discard"), "discard")], cancel="stay"), answered)

    async def action_tab(self, tab: str, field: str | None = None) -> None:
        """Shows `tab` and puts the focus in it: on `field`'s editor if it has one, else on its first field."""
        self.show_tab(tab)
        body = await self.ensure_tab(tab)
        named = [widget for widget in body.query(f"#f-{field.replace('.', '-')}") if widget.focusable] if field else []
        if not named and field and hasattr(body, "editor_for"):
            named = [body.editor_for(field)]
        if named and named[0] is not None:
            named[0].focus()
        else:
            self._focus_first_in(body)
        self.refresh_bindings()

    def focus_first_field(self) -> None:
        """Puts the focus in the shown tab's first field, with what was typed while the card loaded."""
        body = self.body(self.active_tab)
        first = self._focus_first_in(body) if body is not None else None
        typed, self._typed_ahead = "".join(self._typed_ahead), []
        if typed and isinstance(first, Input):
            first.insert_text_at_cursor(typed)

    def _focus_first_in(self, body: Widget) -> Widget:
        # Every time the first field, never the one used last (on this card or the previous one): a name
        # typed at once after a tab key must land in the name.
        first = next((widget for widget in body.query("*") if widget.focusable), None) or self.query_one(TabStrip)
        first.focus(scroll_visible=False)
        body.scroll_home(animate=False)
        return first

    def on_key(self, event: events.Key) -> None:
        # Reaches the screen only when no editor took the key: while a new card loads nothing has the focus,
        # and what a fast typist types after `n` belongs in its first field. (An existing client's name is
        # not typed over that way.)
        if (self.card is None and self.client_id is None and not self.read_only and event.is_printable
                and event.character):
            self._typed_ahead.append(event.character)
            event.stop()
            event.prevent_default()

    def show_tab(self, tab: str) -> None:
        self.query_one(TabStrip).active = tab
        self.query_one("#card-body", ContentSwitcher).current = tab

    @on(TabStrip.Changed, "#card-tabs")
    async def _tab_changed(self, event: TabStrip.Changed) -> None:
        # Left/Right or a click on the strip: the pane follows, and the focus stays on the strip.
        self.show_tab(event.tab)
        await self.ensure_tab(event.tab)
        self.refresh_bindings()

    def on_clients_changed(self, message: ClientsChanged) -> None:
        """Another terminal saved clients: if this one is among them, show their version (or, with unsaved
        changes here, say that the next save will meet it)."""
        if self.card is not None and self.card.id is not None and (
                message.changes.everything or self.card.id in message.changes.ids):
            self.refresh_card(self.card.id)

    def on_connection_back(self, message: ConnectionBack) -> None:
        if self not in self.app.screen_stack:
            return  # an editor kept for the next card: that card is loaded when it is opened
        if self.card is None:
            self.load(self.client_id)
        elif self.dirty:
            self.say(t("Connected again; press Ctrl+S to save your changes."))
        elif self.card.id is not None:
            self.say("")
            self.refresh_card(self.card.id)
