"""Saved segments: a named search + filters (db.clients.listing.Criteria), for the list, the dashboard and campaigns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import peewee

from db.clients.listing import Criteria
from db.errors import UserError, driver_error, is_permission_denied
from db.models import Segment, database
from db.i18n import N_


@dataclass(frozen=True)
class SegmentInfo:
    id: int
    name: str
    description: str
    criteria: Criteria
    updated_by: str
    updated_at: datetime


def _info(segment: Segment) -> SegmentInfo:
    # The model leaves them to the database, whose columns are NOT NULL: a stored segment has both.
    assert segment.updated_by is not None and segment.updated_at is not None
    saved = segment.filter if isinstance(segment.filter, dict) else json.loads(segment.filter)
    return SegmentInfo(id=segment.id, name=segment.name, description=segment.description,
                       criteria=Criteria.from_json(saved), updated_by=segment.updated_by, updated_at=segment.updated_at)


_COLUMNS = (Segment.id, Segment.name, Segment.description, Segment.filter, Segment.updated_by, Segment.updated_at)


def list_segments() -> list[SegmentInfo]:
    with database.connection_context():
        return [_info(segment) for segment in Segment.select(*_COLUMNS).order_by(Segment.name)]


def load(segment_id: int) -> SegmentInfo:
    with database.connection_context():
        segment = Segment.select(*_COLUMNS).where(Segment.id == segment_id).first()
    if segment is None:
        raise UserError(N_("That segment no longer exists; someone may have deleted it."))
    return _info(segment)


def save(name: str, criteria: Criteria, description: str = "") -> SegmentInfo:
    """Saves under `name`, replacing a segment of the same name (administrator only)."""
    name = name.strip()
    if not name:
        raise UserError(N_("A segment needs a name."))
    try:
        with database.connection_context(), database.atomic():
            (Segment.insert(name=name, description=description, filter=criteria.to_json())
             .on_conflict(conflict_target=[Segment.name],
                          update={Segment.filter: criteria.to_json(), Segment.description: description})
             .execute())
            segment = Segment.select(*_COLUMNS).where(Segment.name == name).get()
    except peewee.DatabaseError as exc:
        if is_permission_denied(exc):
            raise UserError(N_("Only an administrator may save segments.")) from None
        raise
    return _info(segment)


def _refused(exc: peewee.DatabaseError) -> UserError | None:
    """The sentence for a write the database refused for a reason the user can act on."""
    import psycopg

    if is_permission_denied(exc):
        return UserError(N_("Only an administrator may save segments."))
    if isinstance(driver_error(exc), psycopg.errors.UniqueViolation):
        return UserError(N_("Another segment already has that name; choose another one."))
    return None


def rename(segment_id: int, name: str) -> SegmentInfo:
    """Gives the segment a new name; a name another segment has is refused, not merged (administrator only)."""
    name = name.strip()
    if not name:
        raise UserError(N_("A segment needs a name."))
    try:
        with database.connection_context(), database.atomic():
            changed = Segment.update(name=name).where(Segment.id == segment_id).execute()
            segment = Segment.select(*_COLUMNS).where(Segment.id == segment_id).first()
    except peewee.DatabaseError as exc:
        refused = _refused(exc)
        if refused is None:
            raise
        raise refused from None
    if not changed or segment is None:
        raise UserError(N_("That segment no longer exists; someone may have deleted it."))
    return _info(segment)


def delete(segment_id: int) -> None:
    """Deletes the segment (administrator only). A campaign made for it keeps its queued messages; the
    database unlinks it (ON DELETE SET NULL)."""
    try:
        with database.connection_context(), database.atomic():
            deleted = Segment.delete().where(Segment.id == segment_id).execute()
    except peewee.DatabaseError as exc:
        refused = _refused(exc)
        if refused is None:
            raise
        raise refused from None
    if not deleted:
        raise UserError(N_("That segment no longer exists; someone may have deleted it."))
