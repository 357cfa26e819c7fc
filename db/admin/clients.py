"""The administrator's hand on a whole client: archive and restore, delete for good, forget the person.

Archiving hides a client from the list and from mailings (db/clients/listing.py leaves archived clients out
unless the "archived" filter asks for them); forgetting runs public.client_forget (migration 0018), which
erases the person everywhere, the audit log included, and keeps their purchases anonymous. The database
refuses all three to every login but the administrator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db import rows
from db.card.tx import writing
from db.errors import UserError
from db.i18n import N_
from db.models import database

_GONE = N_("This client no longer exists; someone may have deleted or merged it.")


@dataclass(frozen=True)
class ClientState:
    id: int
    name: str
    archived_at: datetime | None
    forgotten_at: datetime | None


def state(client_id: int) -> ClientState:
    found = rows.one_dict(database.execute_sql(
        "SELECT id, btrim(concat_ws(' ', nullif(last_name, ''), nullif(first_name, ''), nullif(middle_name, ''),"
        "       (SELECT name FROM company WHERE id = client.company_id))) AS name, archived_at, forgotten_at"
        "  FROM client WHERE id = %s", (client_id,)))
    if found is None:
        raise UserError(_GONE)
    return ClientState(**found)


def set_archived(client_id: int, archived: bool) -> None:
    """Archives the client (now), or restores an archived one to the list and the mailings."""
    with writing():
        cursor = database.execute_sql(
            "UPDATE client SET archived_at = CASE WHEN %s THEN coalesce(archived_at, now()) END "
            "WHERE id = %s AND forgotten_at IS NULL", (archived, client_id))
        if cursor.rowcount == 0:
            raise UserError(_GONE)


def delete(client_id: int) -> None:
    """Deletes the client with everything of theirs (contacts, relatives, purchases, history). The audit log
    keeps what was deleted, as it does for any deletion; forgetting is the way to erase it from there too."""
    with writing():
        cursor = database.execute_sql("DELETE FROM client WHERE id = %s", (client_id,))
        if cursor.rowcount == 0:
            raise UserError(_GONE)


def forget(client_id: int) -> None:
    """Erases the person's data everywhere and leaves one audit row saying who forgot them, and when."""
    with writing():
        if rows.value(database.execute_sql("SELECT count(*) FROM client WHERE id = %s", (client_id,))) == 0:
            raise UserError(_GONE)
        database.execute_sql("SELECT public.client_forget(%s)", (client_id,))
