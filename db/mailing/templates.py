"""Templates: saved once checked (tui/mailing/render.py finds the problems and the fields a template needs)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row

from db import rows
from db.errors import UserError
from db.i18n import N_


@dataclass(frozen=True)
class Template:
    id: int
    name: str
    channel: str
    subject: str
    body: str
    html_body: str
    cta_label: str
    cta_url: str
    required_fields: list[str]
    version: int
    updated_at: datetime
    updated_by: str


_COLUMNS = ("id, name, channel, subject, body, html_body, cta_label, cta_url, required_fields, version, "
            "updated_at, updated_by")


def custom_field_names(conn: psycopg.Connection) -> set[str]:
    return set(rows.values(conn.execute("SELECT name FROM custom_field")))


def save(conn: psycopg.Connection, *, name: str, channel: str, subject: str, body: str, html_body: str,
         cta_label: str, cta_url: str, required_fields: list[str]) -> Template:
    """Creates the template or replaces the one of the same name (administrator only)."""
    name = name.strip()
    if not name:
        raise UserError(N_("A template needs a name."))
    try:
        with conn.transaction(), conn.cursor(row_factory=class_row(Template)) as cur:
            cur.execute(
                "INSERT INTO template (name, channel, subject, body, html_body, cta_label, cta_url, required_fields)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE SET channel = excluded.channel, subject = excluded.subject,"
                "   body = excluded.body, html_body = excluded.html_body, cta_label = excluded.cta_label,"
                "   cta_url = excluded.cta_url, required_fields = excluded.required_fields"
                f" RETURNING {_COLUMNS}",
                (name, channel, subject, body, html_body, cta_label, cta_url, required_fields))
            saved = cur.fetchone()
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Only an administrator may change templates and campaigns.")) from None
    assert saved is not None
    return saved


def id_by_name(conn: psycopg.Connection, name: str) -> int | None:
    return rows.value(conn.execute("SELECT id FROM template WHERE name = %s", (name,)))


def load(conn: psycopg.Connection, template_id: int) -> Template:
    with conn.cursor(row_factory=class_row(Template)) as cur:
        found = cur.execute(f"SELECT {_COLUMNS} FROM template WHERE id = %s", (template_id,)).fetchone()
    if found is None:
        raise UserError(N_("There is no template {id}."), id=template_id)
    return found


def list_templates(conn: psycopg.Connection) -> list[Template]:
    with conn.cursor(row_factory=class_row(Template)) as cur:
        return cur.execute(f"SELECT {_COLUMNS} FROM template ORDER BY name").fetchall()


@dataclass(frozen=True)
class ClientValues:
    """What a template may show of one client, for a preview or a test message."""

    client_id: int
    first_name: str
    middle_name: str
    last_name: str
    gender: str | None
    birth_date: date | None
    city: str
    total_spent: Decimal
    custom: dict
    favourite_product: str | None
    email: str | None
    phone: str | None


# The sender's and the administrator's favourite product: public.mailing_favourite_product (0013).
FAVOURITE_BY_FUNCTION = "public.mailing_favourite_product(c.id)"


def client_values(conn: psycopg.Connection, client_id: int, favourite_sql: str = FAVOURITE_BY_FUNCTION) -> ClientValues:
    """`favourite_sql`: a constant SQL expression of the client `c` (never input), for readers who may not run
    the function."""
    with conn.cursor(row_factory=class_row(ClientValues)) as cur:
        found = cur.execute(
            "SELECT c.id AS client_id, c.first_name, c.middle_name, c.last_name, c.gender, c.birth_date, c.city,"
            f"       c.total_spent, c.custom, {favourite_sql} AS favourite_product,"
            "       (SELECT normalized FROM contact_point WHERE client_id = c.id AND kind = 'email'"
            "         ORDER BY is_primary DESC, id LIMIT 1) AS email,"
            "       (SELECT normalized FROM contact_point WHERE client_id = c.id AND kind = 'mobile'"
            "         ORDER BY is_primary DESC, id LIMIT 1) AS phone"
            "  FROM client c WHERE c.id = %s", (client_id,)).fetchone()
    if found is None:
        raise UserError(N_("There is no client {id}."), id=client_id)
    return found
