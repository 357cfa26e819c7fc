"""Mailing in the database: templates, campaigns and their enqueueing, the delivery queue's state changes."""

from __future__ import annotations

from typing import Any

import psycopg


def one(conn: psycopg.Connection, query: str, params: Any = ()) -> tuple:
    """The row a statement always returns (an aggregate, INSERT ... RETURNING, a function's result)."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row
