"""What a backup must prove: every table's row count and a checksum of its rows, taken in the very snapshot
pg_dump saves, so that a restore can be compared with the base as it was, table by table.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg import sql

from db import rows

# Tables the restore checks for data before replacing them; an empty schema may be replaced freely.
DATA_TABLES = ("client", "purchase", "contact_point", "company", "product", "segment", "template", "campaign",
               "audit_log")


def tables(conn: psycopg.Connection) -> list[str]:
    return rows.values(conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))


def manifest(conn: psycopg.Connection) -> dict[str, list]:
    """{table: [rows, checksum]}; the checksum is an order-free sum of row hashes, cheap on a million rows.
    Row text depends on the session's time zone and date style, so both are fixed first."""
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    conn.execute("SET LOCAL DateStyle = 'ISO, YMD'")
    result = {}
    for table in tables(conn):
        totals = rows.the_dict(conn.execute(
            sql.SQL("SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text AS checksum FROM {} t")
            .format(sql.Identifier(table))))
        result[table] = [totals["count"], totals["checksum"]]
    return result


@contextmanager
def exported_snapshot(conn: psycopg.Connection) -> Iterator[tuple[str, dict[str, list]]]:
    """A snapshot another session (pg_dump --snapshot) can share, and the manifest of that same moment; the
    snapshot lives as long as this context."""
    # Set on the connection, not by a BEGIN of our own: psycopg opens the transaction itself, and a second
    # BEGIN would be ignored, leaving each count in a snapshot of its own.
    conn.autocommit = False
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    try:
        snapshot = rows.value(conn.execute("SELECT pg_export_snapshot()"))
        yield snapshot, manifest(conn)
    finally:
        conn.rollback()


def has_data(conn: psycopg.Connection) -> bool:
    present = set(tables(conn))
    for table in DATA_TABLES:
        if table in present and rows.value(conn.execute(
                sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))):
            return True
    return False


def verify(expected: dict[str, list], actual: dict[str, list]) -> list[str]:
    """The tables whose rows differ, with what was expected and what was found."""
    differences = []
    for table in sorted(set(expected) | set(actual)):
        if expected.get(table) != actual.get(table):
            differences.append(f"{table}: {expected.get(table)} → {actual.get(table)}")
    return differences
