"""Saved segments: a named search + filters (db.clients.Criteria), for the list, the dashboard and campaigns."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import peewee

from .clients import Criteria
from .errors import UserError, is_permission_denied
from .models import Segment, database


@dataclass(frozen=True)
class SegmentInfo:
    id: int
    name: str
    description: str
    criteria: Criteria
    updated_by: str
    updated_at: datetime


def _info(row: tuple) -> SegmentInfo:
    segment_id, name, description, saved, updated_by, updated_at = row
    saved = saved if isinstance(saved, dict) else json.loads(saved)
    return SegmentInfo(segment_id, name, description, Criteria.from_json(saved), updated_by, updated_at)


_COLUMNS = (Segment.id, Segment.name, Segment.description, Segment.filter, Segment.updated_by, Segment.updated_at)


def list_segments() -> list[SegmentInfo]:
    with database.connection_context():
        return [_info(row) for row in Segment.select(*_COLUMNS).order_by(Segment.name).tuples()]


def load(segment_id: int) -> SegmentInfo:
    with database.connection_context():
        row = Segment.select(*_COLUMNS).where(Segment.id == segment_id).tuples().first()
    if row is None:
        raise UserError("clients.no_segment")
    return _info(row)


def save(name: str, criteria: Criteria, description: str = "") -> SegmentInfo:
    """Saves under `name`, replacing a segment of the same name (administrator only)."""
    name = name.strip()
    if not name:
        raise UserError("clients.segment_name_empty")
    try:
        with database.connection_context(), database.atomic():
            (Segment.insert(name=name, description=description, filter=criteria.to_json())
             .on_conflict(conflict_target=[Segment.name],
                          update={Segment.filter: criteria.to_json(), Segment.description: description})
             .execute())
            row = Segment.select(*_COLUMNS).where(Segment.name == name).tuples().first()
    except peewee.DatabaseError as exc:
        if is_permission_denied(exc):
            raise UserError("clients.segment_admin_only") from None
        raise
    return _info(row)
