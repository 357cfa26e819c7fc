"""Reading clients and purchases out for export: who may, which clients, and a stream of plain rows.

The stream is a server-side cursor in one REPEATABLE READ transaction, so an export of a million clients
holds a batch in memory, not the base, and sees one consistent moment even while others keep working.
Which clients is the clients list's own filter (db.clients.listing): the whole base, a saved segment or a search.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Iterator

import phonenumbers
import psycopg

from psycopg.rows import dict_row

from db import rows, session, settings
from db.clients import listing as clients
from db.errors import UserError
from db.models import database
from db.i18n import N_

BATCH = 2000


@dataclass(frozen=True)
class ClientOut:
    key: str
    kind: str
    last_name: str
    first_name: str
    middle_name: str
    gender: str | None
    birth_date: date | None
    company: str
    position: str
    region: str
    city: str
    address: str
    postal_address: str
    tags: list[str]
    notes: str
    source: str
    assigned_to: str | None
    consent_email: bool
    consent_sms: bool
    custom: dict
    purchase_count: int
    total_spent: Decimal
    last_purchase_at: datetime | None
    contacts: list[tuple[str, str]]  # (kind, value as written), primary first


@dataclass(frozen=True)
class PurchaseOut:
    client_key: str
    client_name: str
    purchased_at: datetime
    amount: Decimal
    cost: Decimal | None
    product: str
    quantity: Decimal | None
    channel: str
    receipt: str | None
    note: str


@dataclass(frozen=True)
class Recipient:
    name: str
    address: str


def check_may_export(mailing_list: bool = False) -> str:
    """The caller's role if it may export; salespeople only when the `sales_may_export` setting says yes,
    and a mailing list (which must honour the suppression list) only for the administrator and manager."""
    login, role = session.current_login_and_role()
    if role in ("admin", "manager"):
        return role
    if role == "sales" and not mailing_list and settings.get("sales_may_export") == "yes":
        return role
    if role == "sales" and mailing_list:
        raise UserError(N_("Mailing lists are exported by the administrator or the manager, because they must leave "
                           "out unsubscribed addresses."))
    raise UserError(N_("The login '{login}' ({role}) may not export client lists; an administrator can allow "
                       "salespeople "
                       "with 'clientbase settings set sales_may_export yes'."), login=login, role=role or "-")


def _criteria_sql(segment: str | None, search: str | None,
                  criteria: clients.Criteria | None = None) -> tuple[str, list]:
    if criteria is not None:
        return clients.where_sql(criteria, False, None)
    segment_id = None
    if segment is not None:
        segment_id = rows.value(database.execute_sql("SELECT id FROM segment WHERE name = %s", (segment,)))
        if segment_id is None:
            names = rows.values(database.execute_sql("SELECT name FROM segment ORDER BY name"))
            raise UserError(N_("There is no segment "
                               "'{name}'; the segments are: {names}."), name=segment, names=", ".join(names) or "-")
    criteria = clients.Criteria(text=search or "", filters=clients.Filters(segment_id=segment_id))
    return clients.where_sql(criteria, False, None)


CLIENTS_SQL = """
SELECT coalesce(c.external_key, 'cb-' || c.id) AS key, c.kind, c.last_name, c.first_name, c.middle_name, c.gender,
       c.birth_date, coalesce(co.name, '') AS company, c.position, c.region, c.city, c.address, c.postal_address,
       c.tags, c.notes, c.source, c.assigned_to, c.consent_email, c.consent_sms, c.custom, c.purchase_count,
       c.total_spent, c.last_purchase_at,
       coalesce(cp.kinds, '{{}}') AS contact_kinds, coalesce(cp.written, '{{}}') AS contact_values
  FROM client c LEFT JOIN company co ON co.id = c.company_id
  LEFT JOIN LATERAL (SELECT array_agg(kind ORDER BY is_primary DESC, id) AS kinds,
                            array_agg({phone_as_written} ORDER BY is_primary DESC, id) AS written
                       FROM contact_point WHERE client_id = c.id) cp ON true
 WHERE {where}
 ORDER BY c.id
"""

PURCHASES_SQL = """
SELECT coalesce(c.external_key, 'cb-' || c.id) AS client_key,
       concat_ws(' ', nullif(c.last_name, ''), nullif(c.first_name, ''), nullif(c.middle_name, '')) AS client_name,
       p.purchased_at, p.amount, p.cost, coalesce(l.description, '') AS product, l.quantity, p.channel,
       p.external_key AS receipt, p.note
  FROM client c JOIN purchase p ON p.client_id = c.id
  LEFT JOIN LATERAL (SELECT coalesce(nullif(pl.description, ''), pr.name) AS description, pl.quantity
                       FROM purchase_line pl LEFT JOIN product pr ON pr.id = pl.product_id
                      WHERE pl.purchase_id = p.id ORDER BY pl.id LIMIT 1) l ON true
 WHERE {where}
 ORDER BY p.id
"""

# A phone goes out as the user wrote it when that reads back the same under the shop's default country;
# a foreign number written without its +code goes out in E.164, or a re-import would misread it.
PHONE_AS_WRITTEN = ("CASE WHEN kind IN ('mobile', 'home', 'work', 'whatsapp') AND ltrim(value) NOT LIKE '+%%'"
                    " AND normalized NOT LIKE %s THEN normalized ELSE value END")

RECIPIENTS_SQL = {
    "email": """
SELECT DISTINCT ON (c.id) concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')) AS name,
       cp.normalized AS address
  FROM client c JOIN contact_point cp ON cp.client_id = c.id AND cp.kind = 'email'
 WHERE c.consent_email AND ({where})
   AND NOT EXISTS (SELECT 1 FROM suppression s WHERE s.channel = 'email' AND s.address = cp.normalized)
 ORDER BY c.id, cp.is_primary DESC, cp.id
""",
    "sms": """
SELECT DISTINCT ON (c.id) concat_ws(' ', nullif(c.first_name, ''), nullif(c.last_name, '')) AS name,
       cp.normalized AS address
  FROM client c JOIN contact_point cp ON cp.client_id = c.id AND cp.kind IN ('mobile', 'whatsapp')
 WHERE c.consent_sms AND ({where})
   AND NOT EXISTS (SELECT 1 FROM suppression s WHERE s.channel = 'sms' AND s.address = cp.normalized)
 ORDER BY c.id, cp.kind = 'mobile' DESC, cp.is_primary DESC, cp.id
""",
}


def count(segment: str | None = None, search: str | None = None, criteria: clients.Criteria | None = None) -> int:
    with database.connection_context():
        where, params = _criteria_sql(segment, search, criteria)
        return rows.value(database.execute_sql(f"SELECT count(*) FROM client c WHERE {where}", params))


def _stream(sql: str, segment: str | None, search: str | None, criteria: clients.Criteria | None,
            *leading: object) -> Iterator[dict]:
    with database.connection_context():
        conn: psycopg.Connection = database.connection()
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            where, params = _criteria_sql(segment, search, criteria)
            with conn.cursor(name="clientbase_export", row_factory=dict_row) as cursor:
                cursor.itersize = BATCH
                cursor.execute(sql.format(where=where, phone_as_written=PHONE_AS_WRITTEN), [*leading, *params])
                yield from cursor


def stream_clients(segment: str | None = None, search: str | None = None,
                   criteria: clients.Criteria | None = None) -> Iterator[ClientOut]:
    home = f"+{phonenumbers.country_code_for_region(settings.get('phone_country'))}%"
    for row in _stream(CLIENTS_SQL, segment, search, criteria, home):
        kinds, written = row.pop("contact_kinds"), row.pop("contact_values")
        yield ClientOut(**row, contacts=list(zip(kinds, written, strict=True)))


def stream_purchases(segment: str | None = None, search: str | None = None,
                     criteria: clients.Criteria | None = None) -> Iterator[PurchaseOut]:
    for row in _stream(PURCHASES_SQL, segment, search, criteria):
        yield PurchaseOut(**row)


def stream_recipients(channel: str, segment: str | None = None, search: str | None = None,
                      criteria: clients.Criteria | None = None) -> Iterator[Recipient]:
    for row in _stream(RECIPIENTS_SQL[channel], segment, search, criteria):
        yield Recipient(**row)


def custom_keys(segment: str | None = None, search: str | None = None,
                criteria: clients.Criteria | None = None) -> list[str]:
    """Every custom field name in use, defined or not, so that no value is left out of an export."""
    with database.connection_context():
        where, params = _criteria_sql(segment, search, criteria)
        return rows.values(database.execute_sql(
            f"SELECT name FROM custom_field UNION SELECT DISTINCT jsonb_object_keys(c.custom) FROM client c"
            f" WHERE c.custom <> '{{}}' AND {where} ORDER BY 1", params))
