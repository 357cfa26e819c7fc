"""Rows read by column name, never by position.

A query's columns are matched to a dataclass's fields by name (psycopg's `class_row`), so adding, removing
or reordering a column in the SQL either still works or fails loudly with the missing name, instead of
silently shifting every value after it into the wrong field. tests/test_rows.py keeps positional access
(`row[3]`, `a, b = cursor.fetchone()`) out of db/.

Each helper takes a cursor that has just executed a query: peewee's `database.execute_sql(...)` or a
psycopg `conn.execute(...)`; it sets the cursor's row factory, which applies to the rows fetched after.
"""

from __future__ import annotations

from typing import Any, TypeVar

from psycopg import Cursor
from psycopg.rows import DictRow, class_row, dict_row, scalar_row

T = TypeVar("T")


def all_of(cls: type[T], cursor: Cursor[Any]) -> list[T]:
    """Every row as a `cls`, built from the columns by name."""
    cursor.row_factory = class_row(cls)
    return cursor.fetchall()


def value(cursor: Cursor[Any]) -> Any:
    """The single value of a one-column, one-row query (`SELECT count(*)`, `... RETURNING id`); None when no
    row came back."""
    _one_column(cursor)
    return cursor.fetchone()


def values(cursor: Cursor[Any]) -> list[Any]:
    """The one column of every row of a one-column query."""
    _one_column(cursor)
    return cursor.fetchall()


def _one_column(cursor: Cursor[Any]) -> None:
    # A second column would otherwise be dropped without a word: the query and its reader disagree.
    columns = [column.name for column in cursor.description or ()]
    if len(columns) != 1:
        raise TypeError(f"expected one column, the query returned {columns}")
    cursor.row_factory = scalar_row


def dicts(cursor: Cursor[Any]) -> list[DictRow]:
    """Every row as {column name: value}, for rows that are reshaped before they become a dataclass."""
    cursor.row_factory = dict_row
    return cursor.fetchall()


def one_dict(cursor: Cursor[Any]) -> DictRow | None:
    cursor.row_factory = dict_row
    return cursor.fetchone()


def the_dict(cursor: Cursor[Any]) -> DictRow:
    """The row a statement always returns (an aggregate without GROUP BY, INSERT ... RETURNING of one row)."""
    row = one_dict(cursor)
    if row is None:
        raise LookupError(f"no row from a statement that always returns one ({cursor.statusmessage})")
    return row
