"""A client's card: loaded whole in a few queries, validated field by field, saved in one transaction.

The card's version is the client row's `version`. Every save bumps it, also when only contacts or
relatives changed, so that optimistic locking covers the whole card: a save whose version no longer
matches raises `ConflictError` carrying the card as it is now, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from psycopg.types.json import Jsonb

from db import rows
from db.card import activity, custom_fields
from db.card.draft import RELATIONS, CardDraft, ContactDraft, RelativeDraft
from db.card.tx import reading, writing
from db.card.values import CustomFieldDef, custom_to_json, custom_to_text, format_date, parse_date
from db.errors import ConflictError, UserError, ValidationError
from db.models import database
from db.normalize import CONTACT_KINDS, PHONE_KINDS, normalize_contact
from db.i18n import N_


@dataclass(frozen=True)
class Contact:
    id: int
    kind: str
    value: str
    normalized: str
    is_primary: bool
    note: str
    suppressed: str | None  # why mailings skip this address (unsubscribed, bounced...), if they do


@dataclass(frozen=True)
class Card:
    id: int | None
    version: int
    draft: CardDraft
    company_id: int | None
    category: str
    purchase_count: int
    total_spent: Decimal
    total_profit: Decimal
    last_purchase_at: datetime | None
    consent_email_at: datetime | None
    consent_sms_at: datetime | None
    updated_at: datetime | None
    updated_by: str
    contacts: tuple[Contact, ...]
    purchases: tuple[activity.Purchase, ...]
    favourites: tuple[activity.Favourite, ...]
    subscriptions: tuple[activity.Subscription, ...]
    interactions: tuple[activity.Interaction, ...]
    reminders: tuple[activity.Reminder, ...]
    custom_fields: tuple[CustomFieldDef, ...]
    phone_country: str
    day_first: bool
    # The shop's currency (ISO code), written with every amount the card shows.
    currency: str = "RUB"


@dataclass(frozen=True)
class ClientName:
    id: int
    name: str


@dataclass(frozen=True)
class Duplicate:
    client_id: int
    name: str
    matched: str


CLIENT_SQL = """
SELECT c.id, c.version, c.last_name, c.first_name, c.middle_name, coalesce(c.gender, '') AS gender, c.birth_date,
       coalesce(co.name, '') AS company, c.position, c.region, c.city, c.address, c.postal_address, c.source,
       c.referred_by_id, coalesce(nullif(concat_ws(' ', nullif(r.last_name, ''), nullif(r.first_name, '')), ''),
                                  r.id::text, '') AS referred_by_name,
       coalesce(c.assigned_to, '') AS assigned_to, c.tags, c.notes, c.consent_email, c.consent_email_source,
       c.consent_sms, c.consent_sms_source, c.custom, c.company_id, c.category, c.purchase_count,
       c.total_spent, c.total_profit, c.last_purchase_at, c.consent_email_at, c.consent_sms_at,
       c.updated_at, c.updated_by
  FROM client c
  LEFT JOIN company co ON co.id = c.company_id
  LEFT JOIN client r ON r.id = c.referred_by_id
 WHERE c.id = %s
"""

CONTACTS_SQL = """
SELECT cp.id, cp.kind, cp.value, cp.normalized, cp.is_primary, cp.note, s.reason AS suppressed
  FROM contact_point cp
  LEFT JOIN card_suppressions(%s) s ON s.contact_id = cp.id
 WHERE cp.client_id = %s
 ORDER BY array_position(%s::text[], cp.kind), NOT cp.is_primary, cp.id
"""


SETTINGS_SQL = "SELECT key, value FROM settings WHERE key IN ('phone_country', 'date_day_first', 'currency')"
RELATIVES_SQL = """
SELECT id, relation, name, coalesce(gender, '') AS gender, birth_date, note FROM relative
 WHERE client_id = %s ORDER BY birth_date NULLS LAST, id
"""


# The columns of CLIENT_SQL that go into the draft and the card as they are read.
_DRAFT_AS_STORED = (
    "last_name", "first_name", "middle_name", "gender", "company", "position", "region", "city", "address",
    "postal_address", "source", "referred_by_id", "referred_by_name", "assigned_to", "notes", "consent_email",
    "consent_email_source", "consent_sms", "consent_sms_source")
_CARD_AS_STORED = (
    "id", "version", "company_id", "category", "purchase_count", "total_spent", "total_profit", "last_purchase_at",
    "consent_email_at", "consent_sms_at", "updated_at", "updated_by")


def _settings() -> tuple[str, bool, str]:
    stored = {row["key"]: row["value"] for row in rows.dicts(database.execute_sql(SETTINGS_SQL))}
    return (stored.get("phone_country", "RU"), stored.get("date_day_first", "yes") == "yes",
            stored.get("currency", "RUB"))


def load_card(client_id: int | None) -> Card:
    """The whole card in ten reads from one snapshot, whatever its size (no query per row); `None` gives an
    empty card for a new client."""
    with reading():
        country, day_first, currency = _settings()
        definitions = custom_fields.load_definitions()
        if client_id is None:
            return _blank(definitions, country, day_first, currency)
        row = rows.one_dict(database.execute_sql(CLIENT_SQL, (client_id,)))
        if row is None:
            raise UserError(N_("This client no longer exists; someone may have deleted or merged it."))
        contacts = tuple(rows.all_of(Contact, database.execute_sql(
            CONTACTS_SQL, (client_id, client_id, list(CONTACT_KINDS)))))
        relatives = rows.dicts(database.execute_sql(RELATIVES_SQL, (client_id,)))
        purchases = activity.load_purchases(client_id)
        favourites = activity.load_favourites(client_id)
        subscriptions = activity.load_subscriptions(client_id)
        interactions = activity.load_interactions(client_id)
        reminders = activity.load_reminders(client_id)
    stored_custom = row["custom"] or {}
    draft = CardDraft(
        **{name: row[name] for name in _DRAFT_AS_STORED},
        birth_date=format_date(row["birth_date"], day_first), tags=", ".join(row["tags"] or ()),
        custom=tuple(sorted((d.name, custom_to_text(d, stored_custom.get(d.name), day_first))
                            for d in definitions)),
        contacts=tuple(ContactDraft(c.id, c.kind, c.value, c.is_primary, c.note) for c in contacts),
        relatives=tuple(RelativeDraft(id=r["id"], relation=r["relation"], name=r["name"], gender=r["gender"],
                                      birth_date=format_date(r["birth_date"], day_first), note=r["note"])
                        for r in relatives),
    )
    return Card(**{name: row[name] for name in _CARD_AS_STORED}, draft=draft, contacts=contacts,
                purchases=purchases, favourites=favourites, subscriptions=subscriptions,
                interactions=interactions, reminders=reminders, custom_fields=definitions,
                phone_country=country, day_first=day_first, currency=currency)


def _blank(definitions: tuple[CustomFieldDef, ...], country: str, day_first: bool, currency: str) -> Card:
    draft = CardDraft(custom=tuple(sorted((d.name, "") for d in definitions)))
    return Card(None, 0, draft, None, "potential", 0, Decimal(0), Decimal(0), None, None, None, None, "",
                (), (), (), (), (), (), definitions, country, day_first, currency)


# --- validation -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clean:
    birth_date: date | None
    tags: list[str]
    contacts: list[tuple[ContactDraft, str]]  # with the normalised value
    relatives: list[tuple[RelativeDraft, date | None]]
    custom_set: dict[str, object]
    custom_cleared: list[str]


def check(card: Card, draft: CardDraft) -> list[ValidationError]:
    """Every problem in the draft, each naming its field, for the editor to show beside the fields."""
    problems: list[ValidationError] = []
    _clean(card, draft, problems)
    return problems


def _clean(card: Card, draft: CardDraft, problems: list[ValidationError]) -> _Clean:
    def attempt(action, *args):
        try:
            return action(*args)
        except ValidationError as exc:
            problems.append(exc)
            return None

    if not (draft.last_name.strip() or draft.first_name.strip()):
        problems.append(ValidationError("last_name", N_("A last or first name is required.")))
    birth = attempt(parse_date, draft.birth_date, "birth_date", card.day_first)
    if birth is not None and birth > date.today():
        problems.append(ValidationError("birth_date", N_("A birth date cannot be in the future.")))
    elif birth is not None and birth <= date(1900, 1, 1):
        problems.append(ValidationError("birth_date", N_("A birth date must be after 1 January 1900.")))
    if draft.gender not in ("", "m", "f"):
        problems.append(ValidationError("gender", N_("Gender is m, f or empty.")))
    contacts = []
    primaries: dict[str, int] = {}
    stored: dict[tuple[int | None, str, str], str] = {(c.id, c.kind, c.value): c.normalized for c in card.contacts}
    for index, contact in enumerate(draft.contacts):
        # A contact saved earlier and left as it was keeps its stored form: an old import's number that
        # today's rules reject must not stop the administrator from saving the rest of the card.
        normalized = stored.get((contact.id, contact.kind, contact.value)) or attempt(
            normalize_contact, contact.kind, contact.value, card.phone_country, f"contact.{index}.value")
        if normalized is not None:
            contacts.append((contact, normalized))
        if contact.is_primary:
            if contact.kind in primaries:
                problems.append(ValidationError(f"contact.{index}.is_primary", N_("Only one {kind} contact can be the "
                                                                                  "primary one."),
                                                kind=contact.kind))
            primaries[contact.kind] = index
    relatives = []
    for index, relative in enumerate(draft.relatives):
        if not relative.name.strip():
            problems.append(ValidationError(f"relative.{index}.name", N_("This field is required.")))
        if relative.relation not in RELATIONS:
            problems.append(ValidationError(f"relative.{index}.relation", N_("Unknown relation.")))
        born = attempt(parse_date, relative.birth_date, f"relative.{index}.birth_date", card.day_first)
        if born is not None and born > date.today():
            problems.append(ValidationError(f"relative.{index}.birth_date", N_("A "
                                                                               "birth date cannot be in the future.")))
        relatives.append((relative, born))
    custom_set: dict[str, object] = {}
    cleared: list[str] = []
    for definition in card.custom_fields:
        value = attempt(custom_to_json, definition, draft.custom_value(definition.name), card.day_first)
        if value is None:
            cleared.append(definition.name)
        else:
            custom_set[definition.name] = value
    tags = []
    for tag in draft.tags.split(","):
        if tag.strip() and tag.strip() not in tags:
            tags.append(tag.strip())
    return _Clean(birth, tags, contacts, relatives, custom_set, cleared)


def find_duplicates(card: Card, draft: CardDraft) -> list[Duplicate]:
    """Other clients who already have one of the draft's phones or e-mails (by normalised value)."""
    wanted = set()
    for contact in draft.contacts:
        if contact.kind in PHONE_KINDS or contact.kind == "email":
            try:
                wanted.add(normalize_contact(contact.kind, contact.value, card.phone_country))
            except ValidationError:
                continue
    if not wanted:
        return []
    with reading():
        found = database.execute_sql(
            """
            SELECT DISTINCT ON (c.id) c.id AS client_id,
                   concat_ws(' ', nullif(c.last_name, ''), nullif(c.first_name, ''), nullif(c.middle_name, '')) AS name,
                   cp.value AS matched
              FROM contact_point cp JOIN client c ON c.id = cp.client_id
             WHERE cp.normalized = ANY(%s) AND c.id IS DISTINCT FROM %s
             ORDER BY c.id LIMIT 10
            """, (sorted(wanted), card.id))
        return rows.all_of(Duplicate, found)


# --- saving -----------------------------------------------------------------------------------------

_MAIN = ("last_name", "first_name", "middle_name", "position", "region", "city", "address", "postal_address",
         "source", "notes", "consent_email_source", "consent_sms_source")


class _Conflict(Exception):
    """Leaves the write transaction (rolling it back) before the current card is read."""


def save_card(card: Card, draft: CardDraft) -> Card:
    """Saves `draft` over `card` (as loaded) in one transaction and returns the card as saved.

    Raises the first ValidationError of an invalid draft, ConflictError(current card) when someone saved
    since `card` was loaded, UserError for a refused write or a lost connection.
    """
    problems: list[ValidationError] = []
    clean = _clean(card, draft, problems)
    if problems:
        raise problems[0]
    try:
        with writing():
            client_id = _write(card, draft, clean)
    except _Conflict:
        raise ConflictError(load_card(card.id)) from None
    return load_card(client_id)


def _write(card: Card, draft: CardDraft, clean: _Clean) -> int:
    values = {name: getattr(draft, name).strip() for name in _MAIN}
    values.update(
        gender=draft.gender or None, birth_date=clean.birth_date, company_id=_company_id(card, draft.company.strip()),
        referred_by_id=draft.referred_by_id, assigned_to=draft.assigned_to.strip() or None, tags=clean.tags,
        consent_email=draft.consent_email, consent_sms=draft.consent_sms, custom_set=Jsonb(clean.custom_set),
        custom_cleared=clean.custom_cleared, id=card.id, version=card.version)
    if card.id is None:
        client_id = _insert_client(values)
    else:
        client_id = card.id
        if not _update_client(values):
            if database.execute_sql("SELECT 1 FROM client WHERE id = %s", (card.id,)).fetchone() is None:
                raise UserError(N_("This client no longer exists; someone may have deleted or merged it."))
            raise _Conflict
    _save_contacts(client_id, card, clean.contacts)
    _save_relatives(client_id, card, clean.relatives)
    return client_id


def _company_id(card: Card, name: str) -> int | None:
    if not name:
        return None
    if card.company_id is not None and name == card.draft.company:
        return card.company_id
    known = rows.value(database.execute_sql(
        "SELECT id FROM company WHERE lower(name) = lower(%s) ORDER BY id LIMIT 1", (name,)))
    if known is not None:
        return known
    return rows.value(database.execute_sql("INSERT INTO company (name) VALUES (%s) RETURNING id", (name,)))


def _insert_client(values: dict[str, object]) -> int:
    return rows.value(database.execute_sql(
        """
        INSERT INTO client (last_name, first_name, middle_name, gender, birth_date, company_id, position, region,
                            city, address, postal_address, source, referred_by_id, assigned_to, tags, notes,
                            consent_email, consent_email_at, consent_email_source,
                            consent_sms, consent_sms_at, consent_sms_source, custom)
        VALUES (%(last_name)s, %(first_name)s, %(middle_name)s, %(gender)s, %(birth_date)s, %(company_id)s,
                %(position)s, %(region)s, %(city)s, %(address)s, %(postal_address)s, %(source)s,
                %(referred_by_id)s, %(assigned_to)s, %(tags)s, %(notes)s,
                %(consent_email)s, CASE WHEN %(consent_email)s THEN now() END, %(consent_email_source)s,
                %(consent_sms)s, CASE WHEN %(consent_sms)s THEN now() END, %(consent_sms_source)s, %(custom_set)s)
        RETURNING id
        """, values))


def _update_client(values: dict[str, object]) -> bool:
    # version = version + 1 even when no column of the client row changed (a contact did): the card's
    # version covers the whole card. touch_row leaves an explicitly bumped version alone.
    cursor = database.execute_sql(
        """
        UPDATE client
           SET last_name = %(last_name)s, first_name = %(first_name)s, middle_name = %(middle_name)s,
               gender = %(gender)s, birth_date = %(birth_date)s, company_id = %(company_id)s,
               position = %(position)s, region = %(region)s, city = %(city)s, address = %(address)s,
               postal_address = %(postal_address)s, source = %(source)s, referred_by_id = %(referred_by_id)s,
               assigned_to = %(assigned_to)s, tags = %(tags)s, notes = %(notes)s,
               consent_email_at = CASE WHEN consent_email IS DISTINCT FROM %(consent_email)s THEN now()
                                       ELSE consent_email_at END,
               consent_email = %(consent_email)s, consent_email_source = %(consent_email_source)s,
               consent_sms_at = CASE WHEN consent_sms IS DISTINCT FROM %(consent_sms)s THEN now()
                                     ELSE consent_sms_at END,
               consent_sms = %(consent_sms)s, consent_sms_source = %(consent_sms_source)s,
               custom = (custom - %(custom_cleared)s::text[]) || %(custom_set)s,
               version = version + 1
         WHERE id = %(id)s AND version = %(version)s
        """, values)
    return cursor.rowcount == 1


def _save_contacts(client_id: int, card: Card, contacts: list[tuple[ContactDraft, str]]) -> None:
    before = {contact.id: contact for contact in card.draft.contacts}
    kept = {contact.id for contact, _ in contacts if contact.id is not None}
    gone = [contact_id for contact_id in before if contact_id not in kept]
    if gone:
        database.execute_sql("DELETE FROM contact_point WHERE client_id = %s AND id = ANY(%s)", (client_id, gone))
    # Rows losing their primary mark go first, so the one-primary-per-kind index never sees two at once.
    ordered = sorted(contacts, key=lambda item: (item[0].is_primary, item[0].id is None))
    for contact, normalized in ordered:
        if contact.id is None:
            database.execute_sql(
                "INSERT INTO contact_point (client_id, kind, value, normalized, is_primary, note) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (client_id, contact.kind, contact.value.strip(), normalized, contact.is_primary, contact.note))
        elif before.get(contact.id) != contact:
            database.execute_sql(
                "UPDATE contact_point SET kind = %s, value = %s, normalized = %s, is_primary = %s, note = %s "
                "WHERE id = %s AND client_id = %s",
                (contact.kind, contact.value.strip(), normalized, contact.is_primary, contact.note,
                 contact.id, client_id))


def _save_relatives(client_id: int, card: Card, relatives: list[tuple[RelativeDraft, date | None]]) -> None:
    before = {relative.id: relative for relative in card.draft.relatives}
    kept = {relative.id for relative, _ in relatives if relative.id is not None}
    gone = [relative_id for relative_id in before if relative_id not in kept]
    if gone:
        database.execute_sql("DELETE FROM relative WHERE client_id = %s AND id = ANY(%s)", (client_id, gone))
    for relative, born in relatives:
        row = (relative.relation, relative.name.strip(), relative.gender or None, born, relative.note)
        if relative.id is None:
            database.execute_sql(
                "INSERT INTO relative (client_id, relation, name, gender, birth_date, note) "
                "VALUES (%s, %s, %s, %s, %s, %s)", (client_id, *row))
        elif before.get(relative.id) != relative:
            database.execute_sql(
                "UPDATE relative SET relation = %s, name = %s, gender = %s, birth_date = %s, note = %s "
                "WHERE id = %s AND client_id = %s", (*row, relative.id, client_id))


def pick_clients(text: str, exclude: int | None = None, limit: int = 10) -> list[ClientName]:
    """Clients in use (not archived) whose name contains `text`, for choosing who referred a client or whom to
    merge with."""
    folded = text.strip()
    if not folded:
        return []
    pattern = "%" + folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with reading():
        return rows.all_of(ClientName, database.execute_sql(
            "SELECT id, concat_ws(' ', nullif(last_name, ''), nullif(first_name, ''), nullif(middle_name, '')) AS name "
            "FROM client WHERE search LIKE cb_fold(%s) AND id IS DISTINCT FROM %s AND archived_at IS NULL "
            "ORDER BY search, id LIMIT %s",
            (pattern, exclude, limit)))
