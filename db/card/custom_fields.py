"""Custom field definitions: the administrator adds fields every card then shows (name, label, type, choices).

Values live in client.custom (JSONB) under the field's name; removing a definition leaves the values in
place, so that re-creating the field brings them back and nothing typed into a card is lost.
"""

from __future__ import annotations

import re
from typing import Sequence

import peewee
import psycopg

from db import rows
from db.card.tx import reading, writing
from db.card.values import FIELD_TYPES, CustomFieldDef
from db.errors import ConflictError, UserError, ValidationError, driver_error
from db.models import database
from db.i18n import N_

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
_COLUMNS = "id, name, label, type, choices, position, version"
DEFINITIONS_SQL = f"SELECT {_COLUMNS} FROM custom_field ORDER BY position, id"


def _definition(row: dict) -> CustomFieldDef:
    return CustomFieldDef(**{**row, "choices": tuple(row["choices"])})


def load_definitions() -> tuple[CustomFieldDef, ...]:
    """Inside an open transaction (the card's), or on its own."""
    return tuple(_definition(row) for row in rows.dicts(database.execute_sql(DEFINITIONS_SQL)))


def list_definitions() -> list[CustomFieldDef]:
    with reading():
        return list(load_definitions())


def _check(name: str, label: str, type_: str, choices: list[str]) -> tuple[str, str, list[str]]:
    name = name.strip().lower()
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationError("name", N_("A "
                                         "field name starts with a small Latin letter and holds only a-z, 0-9 and _."))
    label = label.strip()
    if not label:
        raise ValidationError("label", N_("This field is required."))
    if type_ not in FIELD_TYPES:
        raise ValidationError("type", N_("The type is one of: {choices}."), choices=", ".join(FIELD_TYPES))
    clean = []
    for choice in choices:
        if choice.strip() and choice.strip() not in clean:
            clean.append(choice.strip())
    if type_ == "choice" and not clean:
        raise ValidationError("choices", N_("A choice field needs at least one choice."))
    return name, label, clean if type_ == "choice" else []


def create_definition(name: str, label: str, type_: str, choices: Sequence[str] = ()) -> CustomFieldDef:
    name, label, clean = _check(name, label, type_, list(choices))
    try:
        with writing():
            row = rows.the_dict(database.execute_sql(
                f"INSERT INTO custom_field (name, label, type, choices, position) "
                f"VALUES (%s, %s, %s, %s, (SELECT coalesce(max(position), 0) + 1 FROM custom_field)) "
                f"RETURNING {_COLUMNS}", (name, label, type_, clean)))
    except peewee.IntegrityError as exc:
        if isinstance(driver_error(exc), psycopg.errors.UniqueViolation):
            raise ValidationError("name", N_("There is already a field named '{name}'."), name=name) from None
        raise
    return _definition(row)


def update_definition(definition: CustomFieldDef, label: str, type_: str, choices: Sequence[str]) -> CustomFieldDef:
    """The name is the key of the stored values and never changes; the rest may, under optimistic locking."""
    _, label, clean = _check(definition.name, label, type_, list(choices))
    with writing():
        row = rows.one_dict(database.execute_sql(
            f"UPDATE custom_field SET label = %s, type = %s, choices = %s WHERE id = %s AND version = %s "
            f"RETURNING {_COLUMNS}", (label, type_, clean, definition.id, definition.version)))
        if row is None:
            current = rows.one_dict(database.execute_sql(f"SELECT {_COLUMNS} FROM custom_field WHERE id = %s",
                                                         (definition.id,)))
            if current is None:
                raise UserError(N_("This custom field no longer exists; someone may have deleted it."))
            raise ConflictError(_definition(current))
    return _definition(row)


def delete_definition(definition: CustomFieldDef) -> None:
    with writing():
        database.execute_sql("DELETE FROM custom_field WHERE id = %s", (definition.id,))


def move_definition(definition: CustomFieldDef, offset: int) -> None:
    """Swaps the field with its neighbour, so the order on the card is the administrator's."""
    with writing():
        fields = list(load_definitions())
        index = next(i for i, field in enumerate(fields) if field.id == definition.id)
        other = index + offset
        if not 0 <= other < len(fields):
            return
        fields[index], fields[other] = fields[other], fields[index]
        for position, field in enumerate(fields, start=1):
            if field.position != position:
                database.execute_sql("UPDATE custom_field SET position = %s WHERE id = %s", (position, field.id))
