"""What the mailing screen reads and does, each call on a pooled connection of its own (screens/mailing/).

The rules live in db/mailing/{templates,campaigns,queue}.py; this module opens the connection, turns the
database's refusal of a reading role into one sentence, and adds the reads only the screen needs: the
audience of a draft counted by what enqueueing would do, and "did this client get it?".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import psycopg
from psycopg.rows import class_row

from db import rows
from db.clients import search
from db.clients.listing import Criteria
from db.errors import UserError
from db.i18n import N_
from db.mailing import campaigns, templates, triggers
from db.models import database

T = TypeVar("T")

# The most recipients a search shows: a name shared by more clients is narrowed by typing more of it.
RECIPIENTS_SHOWN = 50
CLIENTS_SHOWN = 8


def run(action: Callable[..., T], *args: object, **kwargs: object) -> T:
    """`action(conn, ...)` on a pooled connection; what it did not commit is rolled back, so a read leaves
    no transaction open on the pool."""
    with database.connection_context():
        conn: psycopg.Connection = database.connection()
        try:
            return action(conn, *args, **kwargs)
        except psycopg.errors.InsufficientPrivilege:
            raise UserError(N_("Your role may not see this part of the mailing; an administrator or a manager "
                               "can.")) from None
        finally:
            conn.rollback()


@dataclass(frozen=True)
class Audience:
    """What starting a draft would enqueue now: everyone in the audience, those who would be sent to, and
    those left out, by reason."""

    total: int
    to_send: int
    skipped: dict[str, int]


def audience(conn: psycopg.Connection, campaign_id: int, now: datetime | None = None) -> Audience:
    """Counted by the enqueueing statement itself, inside a transaction that is always rolled back: the
    reasons are exactly those a start would record, and nothing is kept (administrator only, like a start).
    Costs what a start costs: 2.5 s on a million recipients (DESIGN.md)."""
    try:
        with conn.transaction(force_rollback=True):
            campaigns._enqueue(conn, campaign_id, now or campaigns._now(None))
            counted = rows.dicts(conn.execute(
                "SELECT status, skip_reason, count(*) AS messages FROM message WHERE campaign_id = %s"
                " GROUP BY status, skip_reason", (campaign_id,)))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change templates and campaigns.")) from None
    skipped = {row["skip_reason"] or "": row["messages"] for row in counted if row["status"] == "skipped"}
    to_send = sum(row["messages"] for row in counted if row["status"] == "queued")
    return Audience(to_send + sum(skipped.values()), to_send, skipped)


@dataclass(frozen=True)
class Recipient:
    """One message of a campaign, as "did this client get it?" shows it."""

    message_id: int
    client_id: int
    name: str
    address: str
    status: str
    skip_reason: str | None
    attempts: int
    sent_at: datetime | None
    last_reply: str | None
    error: str | None


def find_recipients(conn: psycopg.Connection, campaign_id: int, text: str) -> list[Recipient]:
    """The campaign's messages to the clients the text finds (name, phone or e-mail, as the clients list
    searches). The clients are found by the list's own indexes, then their message by the unique
    (campaign_id, client_id) index: a million-message campaign costs what a search of the list costs."""
    where, params = search.search_sql(text, fuzzy=False)
    with conn.cursor(row_factory=class_row(Recipient)) as cur:
        return cur.execute(
            "SELECT m.id AS message_id, c.id AS client_id,"
            "       btrim(concat_ws(' ', c.last_name, c.first_name, c.middle_name)) AS name, m.address, m.status,"
            "       m.skip_reason, m.attempts, m.sent_at, m.last_reply, m.error"
            "  FROM client c JOIN message m ON m.campaign_id = %s AND m.client_id = c.id"
            f" WHERE {where}"
            " ORDER BY c.last_name, c.first_name, c.id LIMIT %s",
            [campaign_id, *params, RECIPIENTS_SHOWN]).fetchall()


@dataclass(frozen=True)
class ClientChoice:
    id: int
    name: str


def find_clients(conn: psycopg.Connection, text: str) -> list[ClientChoice]:
    """Clients for the preview: an id typed as a number (`#42` or `42` when no phone matches), or the list's
    search by name, phone or e-mail."""
    typed = text.strip().lstrip("#")
    with conn.cursor(row_factory=class_row(ClientChoice)) as cur:
        name = "btrim(concat_ws(' ', c.last_name, c.first_name, c.middle_name)) AS name"
        if typed.isdigit():
            found = cur.execute(f"SELECT c.id, {name} FROM client c WHERE c.id = %s", (int(typed),)).fetchall()
            if found or text.strip().startswith("#"):
                return found
        where, params = search.search_sql(text, fuzzy=False)
        # An archived client (0018) is in no campaign's audience, so it is offered for no preview either.
        return cur.execute(f"SELECT c.id, {name} FROM client c WHERE {where} AND c.archived_at IS NULL"
                           " ORDER BY c.last_name, c.first_name, c.id LIMIT %s", [*params, CLIENTS_SHOWN]).fetchall()


def recipient_client(conn: psycopg.Connection, campaign_id: int, message_id: int) -> int:
    found = rows.value(conn.execute("SELECT client_id FROM message WHERE id = %s AND campaign_id = %s",
                                    (message_id, campaign_id)))
    if found is None:
        raise UserError(N_("That message is no longer in the campaign."))
    return found


@dataclass(frozen=True)
class Overview:
    """The mailing screen's lists: every campaign, and the templates when the role may read them (sales may
    not, by 0003's grants)."""

    campaigns: list[campaigns.Campaign]
    templates: list[templates.Template] | None
    filtered: frozenset[int]  # the campaigns for a search and filters copied from the clients list
    triggers: list[triggers.TriggerState] = field(default_factory=list)


def overview(conn: psycopg.Connection) -> Overview:
    found = campaigns.list_campaigns(conn)
    may_read_templates = rows.value(conn.execute("SELECT has_table_privilege('template', 'SELECT')"))
    filtered = frozenset(rows.values(conn.execute(
        "SELECT id FROM campaign WHERE audience IS NOT NULL AND segment_id IS NULL")))
    return Overview(found, templates.list_templates(conn) if may_read_templates else None, filtered,
                    triggers.states(conn))


def create_campaign(conn: psycopg.Connection, *, name: str, channel: str, template_id: int, segment: str | None,
                    purpose: str, scheduled_at: datetime | None, criteria: Criteria | None,
                    weekly: campaigns.Weekly | None = None) -> campaigns.Campaign:
    campaign_id = campaigns.create(conn, name=name, channel=channel, template_id=template_id, segment=segment,
                                   purpose=purpose, scheduled_at=scheduled_at, criteria=criteria, weekly=weekly)
    return campaigns.get(conn, campaign_id)


def sample_client(conn: psycopg.Connection, campaign_id: int) -> int:
    """Whom a preview or a test is written for when no recipient is chosen: the campaign's first recipient
    it does not skip, or the first client of the base for a draft."""
    found = rows.value(conn.execute(
        "SELECT coalesce((SELECT min(client_id) FROM message WHERE campaign_id = %s AND status <> 'skipped'),"
        "                (SELECT min(id) FROM client WHERE archived_at IS NULL))", (campaign_id,)))
    if found is None:
        raise UserError(N_("There is no client yet to write the message for."))
    return found


@dataclass(frozen=True)
class FormChoices:
    """What the new-campaign form offers: the saved segments and the templates."""

    segments: list[str]
    templates: list[templates.Template]
    timezone: str


def form_choices(conn: psycopg.Connection) -> FormChoices:
    from db.mailing import rules

    return FormChoices(rows.values(conn.execute("SELECT name FROM segment ORDER BY name")),
                       templates.list_templates(conn), rules.read(conn).timezone)


@dataclass(frozen=True)
class EditorData:
    """What the template editor opens with: the template (None for a new one), the names it may not take,
    the custom fields a template may use, and a client to preview for."""

    template: templates.Template | None
    names: dict[str, int]
    custom_fields: set[str]
    client: templates.ClientValues | None


def editor_data(conn: psycopg.Connection, template_id: int | None) -> EditorData:
    first = rows.value(conn.execute("SELECT min(id) FROM client WHERE archived_at IS NULL"))
    return EditorData(None if template_id is None else templates.load(conn, template_id),
                      {found.name: found.id for found in templates.list_templates(conn)},
                      templates.custom_field_names(conn),
                      None if first is None else client_values(conn, first))


@dataclass(frozen=True)
class PreviewClient:
    values: templates.ClientValues | None
    matches: int


def preview_client(conn: psycopg.Connection, text: str) -> PreviewClient:
    """The first client the text finds (an id or the list's search), with how many it found."""
    found = find_clients(conn, text)
    first = next(iter(found), None)
    return PreviewClient(client_values(conn, first.id) if first else None, len(found))


# public.mailing_favourite_product's own rule (most units bought, then the latest, then the id), over the
# purchases every reader may read.
_FAVOURITE_FROM_PURCHASES = (
    "(SELECT pr.name FROM purchase p JOIN purchase_line l ON l.purchase_id = p.id"
    "   JOIN product pr ON pr.id = l.product_id WHERE p.client_id = c.id"
    "  GROUP BY pr.id, pr.name ORDER BY sum(l.quantity) DESC, max(p.purchased_at) DESC, pr.id LIMIT 1)")


def client_values(conn: psycopg.Connection, client_id: int) -> templates.ClientValues:
    """templates.client_values for the screen's readers: public.mailing_favourite_product is the sender's
    and the administrator's alone (0013), so a manager's preview reads the favourite product from the
    purchases it may read, by that function's own rule."""
    if rows.value(conn.execute(
            "SELECT has_function_privilege('public.mailing_favourite_product(bigint)', 'EXECUTE')")):
        return templates.client_values(conn, client_id)
    return templates.client_values(conn, client_id, _FAVOURITE_FROM_PURCHASES)


@dataclass(frozen=True)
class CampaignView:
    """A campaign's counts and whom it is for: its segment (named in `progress`), the search and filters
    copied from the clients list (`criteria`), or every client (neither)."""

    progress: campaigns.Progress
    criteria: Criteria | None


def campaign_view(conn: psycopg.Connection, campaign_id: int) -> CampaignView:
    progress = campaigns.progress(conn, campaign_id)
    audience = rows.value(conn.execute("SELECT audience FROM campaign WHERE id = %s", (campaign_id,)))
    criteria = None if audience is None or progress.campaign.segment_name else Criteria.from_json(audience)
    return CampaignView(progress, criteria)
