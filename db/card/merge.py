"""Merging two cards of the same person into one, in one transaction (so the audit log holds every step).

The kept card keeps its own values; its empty fields are filled from the other card, tags are united,
and a consent the other card holds is carried over with its date and source. Contacts, relatives,
purchases, subscriptions, interactions, reminders and mailing history move over; a contact the kept card
already has is not doubled. Clients the other card referred now name the kept one. Then the other card is
deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

from db import rows
from db.card.tx import reading, writing
from db.card.cards import Card, load_card
from db.errors import ConflictError, UserError, ValidationError
from db.models import database
from db.i18n import N_
from db.normalize import PHONE_KINDS

_FILL_TEXT = ("last_name", "first_name", "middle_name", "position", "region", "city", "address", "postal_address",
              "source", "notes")
_FILL_NULL = ("gender", "birth_date", "company_id", "assigned_to")


class _Stale(Exception):
    pass


@dataclass(frozen=True)
class Suggestion:
    """A card that is likely the same person: `reason` is "phone", "email" or "name"."""

    client_id: int
    name: str
    reason: str


# How alike two folded names must be (pg_trgm similarity) to be offered: "Петрова Анна" and "Петрова Аня"
# score 0.6, two different people who share only a common surname stay below.
NAME_SIMILARITY = "0.55"

# Cards in use that share a phone or an e-mail with this one (contact_point_normalized, one probe per own
# contact), then cards whose whole name is very similar (client_search_trgm: `%` is a bitmap over the
# trigram index, so only the few alike names are read, then ranked by distance). EXPLAIN ANALYZE on the 1M base:
# 150 ms for a rare name, 450-750 ms for the commonest ones ("Иванов Иван": the bitmap rechecks thousands of
# namesakes); the modal opens at once and the list fills when the worker answers.
_SUGGESTIONS_SQL = """
WITH me AS (SELECT id, search FROM public.client WHERE id = %(id)s),
by_contact AS (
  SELECT DISTINCT ON (cp.client_id) cp.client_id AS id,
         CASE WHEN cp.kind = 'email' THEN 'email' ELSE 'phone' END AS reason, 0 AS rank, 1.0::real AS score
    FROM public.contact_point mine
    JOIN public.contact_point cp ON cp.normalized = mine.normalized AND (cp.kind = 'email') = (mine.kind = 'email')
   WHERE mine.client_id = %(id)s AND mine.kind = ANY(%(kinds)s) AND cp.client_id <> %(id)s
   ORDER BY cp.client_id, cp.kind = 'email'),
by_name AS (
  SELECT c.id, 'name' AS reason, 1 AS rank, similarity(c.search, me.search) AS score
    FROM public.client c, me
   WHERE me.search <> '' AND c.search %% me.search AND c.id <> me.id
   ORDER BY c.search <-> me.search, c.id LIMIT %(limit)s),
found AS (
  SELECT DISTINCT ON (id) id, reason, rank, score FROM (SELECT * FROM by_contact UNION ALL SELECT * FROM by_name) u
   ORDER BY id, rank)
SELECT c.id AS client_id, reason,
       concat_ws(' ', nullif(c.last_name, ''), nullif(c.first_name, ''), nullif(c.middle_name, '')) AS name
  FROM found f JOIN public.client c ON c.id = f.id
 WHERE c.archived_at IS NULL
 ORDER BY f.rank, f.score DESC, c.id
 LIMIT %(limit)s
"""


def likely_duplicates(client_id: int, limit: int = 10) -> list[Suggestion]:
    """Other cards in use that are likely the same person as `client_id`: the same phone or e-mail first,
    then a very similar name, the most alike first."""
    with reading():
        database.execute_sql("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", (NAME_SIMILARITY,))
        found = database.execute_sql(_SUGGESTIONS_SQL, {"id": client_id, "kinds": [*PHONE_KINDS, "email"],
                                                        "limit": limit})
        return rows.all_of(Suggestion, found)


def merge_cards(keep: Card, other_id: int) -> Card:
    """Merges client `other_id` into `keep` (as the editor loaded it) and returns the merged card."""
    if keep.id is None or keep.id == other_id:
        raise ValidationError("other", N_("A card cannot be merged with itself."))
    try:
        with writing():
            _merge(keep, other_id)
    except _Stale:
        raise ConflictError(load_card(keep.id)) from None
    return load_card(keep.id)


def _merge(keep: Card, other_id: int) -> None:
    execute = database.execute_sql
    locked = rows.dicts(execute("SELECT id, version FROM client WHERE id IN (%s, %s) ORDER BY id FOR UPDATE",
                                (keep.id, other_id)))
    versions = {row["id"]: row["version"] for row in locked}
    if other_id not in versions or keep.id not in versions:
        raise UserError(N_("This client no longer exists; someone may have deleted or merged it."))
    if versions[keep.id] != keep.version:
        raise _Stale
    fill = ", ".join([f"{c} = CASE WHEN k.{c} = '' THEN o.{c} ELSE k.{c} END" for c in _FILL_TEXT]
                     + [f"{c} = coalesce(k.{c}, o.{c})" for c in _FILL_NULL])
    consent = ", ".join(
        f"consent_{ch} = k.consent_{ch} OR o.consent_{ch}, "
        f"consent_{ch}_at = CASE WHEN k.consent_{ch} OR NOT o.consent_{ch} THEN k.consent_{ch}_at "
        f"ELSE o.consent_{ch}_at END, "
        f"consent_{ch}_source = CASE WHEN k.consent_{ch} OR NOT o.consent_{ch} THEN k.consent_{ch}_source "
        f"ELSE o.consent_{ch}_source END"
        for ch in ("email", "sms"))
    execute(
        f"""
        UPDATE client k
           SET {fill}, {consent},
               referred_by_id = coalesce(k.referred_by_id, nullif(o.referred_by_id, k.id)),
               tags = ARRAY(SELECT DISTINCT unnest(k.tags || o.tags) ORDER BY 1),
               custom = o.custom || k.custom,
               version = k.version + 1
          FROM client o
         WHERE k.id = %s AND o.id = %s
        """, (keep.id, other_id))
    # A contact both cards have stays once; the other card's primary mark yields to the kept card's.
    execute(
        """
        DELETE FROM contact_point o USING contact_point k
         WHERE o.client_id = %s AND k.client_id = %s AND k.kind = o.kind AND k.normalized = o.normalized
        """, (other_id, keep.id))
    execute(
        """
        UPDATE contact_point o SET client_id = %s,
               is_primary = o.is_primary AND NOT EXISTS (SELECT 1 FROM contact_point k
                                                        WHERE k.client_id = %s AND k.kind = o.kind AND k.is_primary)
         WHERE o.client_id = %s
        """, (keep.id, keep.id, other_id))
    for table in ("relative", "purchase", "subscription", "interaction", "reminder"):
        execute(f"UPDATE {table} SET client_id = %s WHERE client_id = %s", (keep.id, other_id))
    # One message per campaign and client: a campaign that reached both cards keeps the kept card's.
    execute(
        """
        UPDATE message m SET client_id = %s
         WHERE m.client_id = %s
           AND NOT EXISTS (SELECT 1 FROM message k WHERE k.campaign_id = m.campaign_id AND k.client_id = %s)
        """, (keep.id, other_id, keep.id))
    execute("UPDATE client SET referred_by_id = %s WHERE referred_by_id = %s AND id <> %s",
            (keep.id, other_id, keep.id))
    execute("DELETE FROM client WHERE id = %s", (other_id,))
