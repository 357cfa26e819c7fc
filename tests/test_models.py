"""The peewee models and the migrations describe the same tables: a column renamed, added or retyped in a
migration without its model (or the reverse) fails here, not in a user's session."""

from __future__ import annotations

import pytest
from psycopg.rows import dict_row

from db import models

# information_schema's data_type for each kind of peewee field; every timestamp of the schema has a zone.
COLUMN_TYPES = {
    "BIGAUTO": "bigint",
    "BIGINT": "bigint",
    "INT": "integer",
    "TEXT": "text",
    "DATETIME": "timestamp with time zone",
    "JSONB": "jsonb",
    "BOOL": "boolean",
    "DATE": "date",
    "DECIMAL": "numeric",
}


def _columns(conn, table: str) -> dict[str, dict]:
    with conn.cursor(row_factory=dict_row) as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable = 'YES' AS nullable,"
            "       column_default IS NOT NULL OR is_identity = 'YES' AS filled"
            "  FROM information_schema.columns WHERE table_schema = 'public' AND table_name = %s", (table,))
        return {row["column_name"]: row for row in cursor}


@pytest.mark.parametrize("model", models.MODELS, ids=lambda model: model.__name__)
def test_each_model_matches_its_migrated_table(fresh_db, model):
    with fresh_db.connect() as conn:
        columns = _columns(conn, model._meta.table_name)
    fields = {field.column_name: field for field in model._meta.sorted_fields}
    assert columns, model._meta.table_name
    assert set(fields) == set(columns)
    for name, field in fields.items():
        column = columns[name]
        assert COLUMN_TYPES[field.field_type] == column["data_type"], name
        # A model may leave a NOT NULL column to the database's default or trigger; it may not write NULL
        # where the table refuses it, nor claim a value is always there when the table allows none.
        if column["nullable"]:
            assert field.null, f"{name} may be NULL in the table"
        elif field.null:
            assert column["filled"], f"{name} is NOT NULL without a default, the model must give it"


def test_no_model_is_left_that_nothing_queries():
    """A model is kept for CRUD done through it: each one is imported by some module of db/ besides models."""
    from pathlib import Path

    sources = [path.read_text("utf-8") for path in Path(models.__file__).parent.rglob("*.py")
               if path.name != "models.py"]
    for model in models.MODELS:
        assert any(f"{model.__name__}." in source for source in sources), model.__name__
