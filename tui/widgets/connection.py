"""The connection banner, and the app-wide messages about the database that screens receive."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.widgets import Static

from db.notify import Changes


class ConnectionBanner(Static):
    """One line across the top of the screen while the database is out of reach, and briefly after."""

    DEFAULT_CSS = """
    ConnectionBanner {
        dock: top;
        height: 1;
        width: 100%;
        padding: 0 1;
        background: $error;
        color: $text;
        text-style: bold;
    }
    ConnectionBanner.-back { background: $success; }
    """


class ConnectionBack(Message):
    """The database answers again: fetch again whatever failed."""


@dataclass
class ClientsChanged(Message):
    """Another terminal (or this one) saved these clients; `changes.everything` means reload all."""

    changes: Changes
