"""The app's main screens, one Textual mode each, and the key that switches to each.

A mode is registered here once: its name, its key (shown in the footer), what builds its first screen for a
login, and the roles that may open it. The app makes a mode and a key only for the modes its login's role may
open, so a role that may not open a mode never sees its key; PostgreSQL still refuses what the role may not
read. The admin screens will be registered below the mailing.

Mode keys are Ctrl+letters: letters alone are typed into the search box and the card's fields, and the
function keys F2-F9 switch the card's tabs. Nearly every Ctrl+letter is taken by a text box, the card or the
terminal: Ctrl+Y (the dashboard's) is used by nothing on the screens a mode key is pressed from, only by the
undo/redo of the card's notes box. Ctrl+T (today's) and Ctrl+O (the audit's) are, likewise, taken only inside the
card, by its reminders tab (tick) and its main tab (referred by); no text box binds them. Ctrl+B (the mailing's)
is taken only by the card's purchases tab (add a subscription); inside tmux, whose prefix it is, the palette
(Ctrl+P) opens every mode by its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from textual.screen import Screen

from db.session import Identity
from db.i18n import N_

READING_ROLES = frozenset({"admin", "manager", "sales"})


@dataclass(frozen=True)
class Mode:
    name: str
    key: str
    factory: Callable[[Identity], Screen]
    roles: frozenset[str]
    # Message ids (db/i18n.py): the footer's word and the palette's sentence.
    label: str = ""
    tooltip: str = ""

    def opens_for(self, identity: Identity) -> bool:
        return identity.role in self.roles


REGISTRY: dict[str, Mode] = {}


def register(mode: Mode) -> Mode:
    """Adds a mode; a second mode of the same name or key is a programming error, said at import time."""
    if mode.name in REGISTRY:
        raise ValueError(f"mode {mode.name!r} is registered twice")
    clash = next((other.name for other in REGISTRY.values() if other.key == mode.key), None)
    if clash is not None:
        raise ValueError(f"mode {mode.name!r} takes {mode.key!r}, already the key of {clash!r}")
    REGISTRY[mode.name] = mode
    return mode


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def modes_for(identity: Identity) -> list[Mode]:
    return [mode for mode in REGISTRY.values() if mode.opens_for(identity)]


def _clients(identity: Identity) -> Screen:
    # Imported when the mode opens: the registry is read by the app and tests that need no screen.
    from screens.clients.screen import ClientsScreen

    return ClientsScreen(identity)


CLIENTS = register(Mode("clients", "ctrl+l", _clients, READING_ROLES,
                        label=N_("Clients"), tooltip=N_("The client list: search, filters, segments and the cards")))


def _dashboard(identity: Identity) -> Screen:
    from screens.dashboard.screen import DashboardScreen

    return DashboardScreen(identity)


DASHBOARD = register(Mode("dashboard", "ctrl+y", _dashboard, READING_ROLES,
                          label=N_("Dashboard"), tooltip=N_("ABC, A–E and RFM classes, revenue, lifetime value; "
                                                             "every number leads to its clients")))


def _today(identity: Identity) -> Screen:
    from screens.today.screen import TodayScreen

    return TodayScreen(identity)


TODAY = register(Mode("today", "ctrl+t", _today, READING_ROLES,
                      label=N_("Today"), tooltip=N_("Birthdays this week, subscriptions running out, reminders due, "
                                                    "clients gone quiet and new ones")))

# The database refuses salespeople the audit log; the key is not even shown to them.
AUDIT_ROLES = frozenset({"admin", "manager"})


def _audit(identity: Identity) -> Screen:
    from screens.audit.screen import AuditScreen

    return AuditScreen(identity)


AUDIT = register(Mode("audit", "ctrl+o", _audit, AUDIT_ROLES,
                      label=N_("Audit"), tooltip=N_("Who changed what and when, and each login's work per day")))


def _mailing(identity: Identity) -> Screen:
    from screens.mailing.screen import MailingScreen

    return MailingScreen(identity)


# Every reading role opens it; only the administrator writes (salespeople see campaigns and their counts).
MAILING = register(Mode("mailing", "ctrl+b", _mailing, READING_ROLES,
                        label=N_("Mailing"), tooltip=N_("Campaigns with their progress and recipients, and the "
                                                        "templates")))
