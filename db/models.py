"""The connection pool, and peewee models for the tables whose reads and writes are simple CRUD.

The migrations own the schema (triggers, generated columns and trigram indexes are beyond what peewee
writes). A table gets a model here when db/ actually reads or writes it through one (settings and segments
now; templates and campaigns when the mailing arrives), not before: a model nothing queries is a second
description of the schema that nothing keeps true.
"""

from __future__ import annotations

from peewee import BigAutoField, DateTimeField, IntegerField, Model, TextField
from playhouse.postgres_ext import BinaryJSONField, PooledPsycopg3Database

# Bound once the command line knows where the database is (see db.session.bind).
database = PooledPsycopg3Database(None, max_connections=16, stale_timeout=600, timeout=30)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


class Edited(BaseModel):
    """Columns that every edited row has; the database fills them (defaults and the touch_row trigger)."""

    version = IntegerField(default=1)
    created_at = DateTimeField(null=True)
    created_by = TextField(null=True)
    updated_at = DateTimeField(null=True)
    updated_by = TextField(null=True)


class Settings(Edited):
    key = TextField(primary_key=True)
    value = TextField()


class Segment(Edited):
    id = BigAutoField()
    name = TextField(unique=True)
    description = TextField(default="")
    filter = BinaryJSONField(default=dict)


# The tables handled through peewee: simple CRUD whose rows map one to one onto a model. The rest of db/
# writes SQL (sets, joins, the search); tests/test_models.py keeps each model in step with its migrated table.
MODELS = (Settings, Segment)
