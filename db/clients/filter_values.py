"""The values the clients list is filtered by (tags, regions, cities, salespeople), most common first, so
that the filter panel can complete what the user starts typing and a filter matches the spelling in the base.
"""

from __future__ import annotations

from db import rows
from db.models import database

SUGGESTED = 300
# A full unnest of every client's tags takes half a second on a million clients; the common tags are in
# any sample of this many rows, and a rare tag still filters when typed in full.
TAG_SAMPLE_ROWS = 20_000

COLUMNS = ("region", "city", "assigned_to")
COLUMN_SQL = ("SELECT {column} FROM client WHERE {column} <> '' "
              "GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT %s")
ESTIMATED_ROWS_SQL = "SELECT reltuples FROM pg_class WHERE oid = 'client'::regclass"
TAGS_SQL = ("SELECT tag FROM client TABLESAMPLE SYSTEM (%s) REPEATABLE (1), unnest(tags) AS tag "
            "GROUP BY tag ORDER BY count(*) DESC, tag LIMIT %s")


def filter_values() -> dict[str, list[str]]:
    """{"tag": [...], "region": [...], "city": [...], "assigned_to": [...]}, each most common first."""
    values = {column: rows.values(database.execute_sql(COLUMN_SQL.format(column=column), (SUGGESTED,)))
              for column in COLUMNS}
    estimated = rows.value(database.execute_sql(ESTIMATED_ROWS_SQL))
    # reltuples is -1 before the first ANALYZE: read everything then, as on any small base.
    percent = 100.0 if estimated <= TAG_SAMPLE_ROWS else 100.0 * TAG_SAMPLE_ROWS / estimated
    values["tag"] = rows.values(database.execute_sql(TAGS_SQL, (percent, SUGGESTED)))
    return values


def spelled_as_in_base(typed: str, known: list[str]) -> str:
    """`typed` as the base spells it when it differs only in case ("edinburgh" -> "Edinburgh"), since
    the filters compare exactly; otherwise `typed` as it is."""
    folded = typed.casefold()
    return next((value for value in known if value.casefold() == folded), typed)
