"""Numbered schema migrations, recorded in the database they were applied to.

Each `migrations/NNNN_name.sql` runs once, in its own transaction, under an advisory lock so that two
`clientbase init` at the same moment apply it once. The group roles are cluster-wide objects, so they are
created here, before the migrations that grant to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

from db import rows
from db.errors import SchemaMismatch, UserError
from db.i18n import N_

GROUP_ROLES = ("clientbase_admin", "clientbase_manager", "clientbase_sales", "clientbase_mailer")
# Owns the SECURITY DEFINER functions (0008): NOLOGIN and no superuser, so code running as it can do only
# what it was granted. Nobody logs in as it or is made a member of it.
OWNER_ROLE = "clientbase_owner"
# Any constant would do; it only has to be the same for every clientbase.
MIGRATION_LOCK = 7_243_118_001
MIGRATION_LOCK_TIMEOUT_MS = 10_000


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for entry in resources.files("db").joinpath("migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2].replace("_", " "), entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


LATEST = migrations()[-1].version


def schema_version(conn: psycopg.Connection) -> int | None:
    """The highest applied migration, or None for a database clientbase never touched."""
    if not rows.value(conn.execute("SELECT to_regclass('public.schema_migration') IS NOT NULL")):
        return None
    return rows.value(conn.execute("SELECT max(version) FROM schema_migration")) or 0


def check_compatible(conn: psycopg.Connection) -> int:
    version = schema_version(conn)
    if version is None:
        raise SchemaMismatch(N_("The database has no clientbase schema yet; run 'clientbase init' first."))
    if version > LATEST:
        raise SchemaMismatch(N_("This database was upgraded by a newer clientbase (schema {db_version}, this program "
                                "knows up "
                                "to {app_version}); please update clientbase."), db_version=version, app_version=LATEST)
    if version < LATEST:
        raise SchemaMismatch(N_("The database schema is at version {db_version} and this program needs {app_version}; "
                                "run 'clientbase init' to upgrade it."), db_version=version, app_version=LATEST)
    return version


def ensure_group_roles(conn: psycopg.Connection) -> None:
    for role in (*GROUP_ROLES, OWNER_ROLE):
        present = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not present:
            try:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
            except psycopg.errors.DuplicateObject:
                pass  # another init created it a moment ago
            except psycopg.errors.InsufficientPrivilege:
                raise UserError(N_("The login '{login}' may not create the schema or the group roles; run 'clientbase "
                                   "init' as the database owner."), login=conn.info.user) from None
    _may_give_to_owner_role(conn)


def _may_give_to_owner_role(conn: psycopg.Connection) -> None:
    """Handing a function to clientbase_owner takes membership in it unless one is a superuser; a database
    owner with CREATEROLE (not a superuser) grants it to itself: it owns every table already."""
    able = rows.value(conn.execute("SELECT rolsuper OR pg_has_role(current_user, %s, 'MEMBER') FROM pg_roles "
                                   "WHERE rolname = current_user", (OWNER_ROLE,)))
    if not able:
        try:
            conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(OWNER_ROLE)))
        except psycopg.errors.InsufficientPrivilege:
            pass  # a login that may not will not get as far as changing owners either: migrate() says so


def migrate(conn: psycopg.Connection, upto: int | None = None) -> list[Migration]:
    """Applies what is missing, up to `upto` (default: all); returns what it applied."""
    conn.autocommit = True
    ensure_group_roles(conn)
    applied: list[Migration] = []
    with conn.transaction():
        try:
            # Only administrators and the database owner may take advisory locks (0008).
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migration ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now(), applied_by text NOT NULL DEFAULT session_user)"
            )
        except psycopg.errors.InsufficientPrivilege:
            raise UserError(N_("The login '{login}' may not create the schema or the group roles; run 'clientbase "
                               "init' as the database owner."), login=conn.info.user) from None
        current = schema_version(conn) or 0
        if current > LATEST:
            raise SchemaMismatch(N_("This database was upgraded by a newer clientbase (schema {db_version}, this "
                                    "program knows up to {app_version}); "
                                    "please update clientbase."), db_version=current, app_version=LATEST)
        pending = [migration for migration in migrations()
                   if migration.version > current and (upto is None or migration.version <= upto)]
        if pending:
            # A session idling in an open transaction holds its tables: without a limit the upgrade, and
            # every read queued behind its lock, would wait as long as that session does.
            conn.execute("SET LOCAL lock_timeout = %s" % MIGRATION_LOCK_TIMEOUT_MS)
        for migration in pending:
            try:
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "INSERT INTO schema_migration (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
            except psycopg.errors.InsufficientPrivilege:
                raise UserError(N_("The login '{login}' may not create the schema or the group roles; run 'clientbase "
                                   "init' as the database owner."), login=conn.info.user) from None
            except psycopg.errors.LockNotAvailable:
                raise UserError(N_("The upgrade waited {seconds} s for other sessions that keep the tables busy, "
                                   "since: {sessions}; ask them to close clientbase, then run 'clientbase init' "
                                   "again. Nothing was changed."), seconds=MIGRATION_LOCK_TIMEOUT_MS // 1000,
                                sessions=_open_transactions(conn)) from None
            applied.append(migration)
        reassert_security(conn)
    return applied


def _open_transactions(conn: psycopg.Connection) -> str:
    """Who else holds a transaction open in this database, oldest first: whom to ask to close clientbase."""
    with conn.transaction(force_rollback=True):
        holders = rows.values(conn.execute(
            "SELECT concat(usename, ' (', to_char(xact_start, 'HH24:MI'), ')') FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            " ORDER BY xact_start LIMIT 5"))
    return ", ".join(holders) or "?"


def reassert_security(conn: psycopg.Connection) -> None:
    """Puts back what a restore or a copy of the database may have lost: the definer functions' owner, and
    TEMP kept from PUBLIC (a database's rights are not part of its contents). Run after every migration and
    every restore."""
    if rows.value(conn.execute("SELECT to_regprocedure('public.cb_secure()') IS NOT NULL")):
        try:
            conn.execute("SELECT public.cb_secure()")
        except psycopg.errors.InsufficientPrivilege:
            raise UserError(N_("The login '{login}' may not create the schema or the group roles; run 'clientbase "
                               "init' as the database owner."), login=conn.info.user) from None
