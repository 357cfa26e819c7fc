"""Logins and their role. A login is a PostgreSQL role that is a member of exactly one clientbase group."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

from db import rows
from db.errors import UserError
from db.i18n import N_

ROLES = ("admin", "manager", "sales", "mailer")
# A runaway search stops here instead of holding a server core. Settings of a group role do not reach its
# members, so each reading login carries its own; migration 0008 gave it to the logins made before.
READING_TIMEOUT = "30s"
READING_IDLE_TIMEOUT = "10min"
READING_CONNECTION_LIMIT = 16
LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,63}")


@dataclass(frozen=True)
class Login:
    name: str
    role: str | None
    can_login: bool


def group_of(role: str) -> str:
    if role not in ROLES:
        raise UserError(N_("Unknown role '{role}'; choose one of: {choices}."), role=role, choices=", ".join(ROLES))
    return f"clientbase_{role}"


def login_exists(conn: psycopg.Connection, login: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone() is not None


def add_login(conn: psycopg.Connection, login: str, role: str, password: str | None = None,
              exist_ok: bool = False) -> None:
    group = group_of(role)
    if not LOGIN_PATTERN.fullmatch(login):
        raise UserError(N_("A login may hold only letters, digits, '_', '.', '@' and '-', up to 63 characters: "
                           "'{login}'."), login=login)
    if login_exists(conn, login):
        if exist_ok:
            return
        raise UserError(N_("The login '{login}' already exists."), login=login)
    statement = sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(sql.Identifier(login), sql.Identifier(group))
    if password is not None:
        # A password is a literal in DDL (no bound parameters there): see password_literal.
        statement = statement + sql.SQL(" PASSWORD {}").format(password_literal(conn, login, password))
    try:
        conn.execute(statement)
        if role != "admin":
            # See migrations 0008 and 0009: what keeps one reading login from holding the server.
            conn.execute(sql.SQL("ALTER ROLE {} SET statement_timeout = {}").format(
                sql.Identifier(login), sql.Literal(READING_TIMEOUT)))
            conn.execute(sql.SQL("ALTER ROLE {} SET idle_in_transaction_session_timeout = {}").format(
                sql.Identifier(login), sql.Literal(READING_IDLE_TIMEOUT)))
            conn.execute(sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
                sql.Identifier(login), sql.Literal(READING_CONNECTION_LIMIT)))
    except psycopg.errors.DuplicateObject:
        if not exist_ok:
            raise UserError(N_("The login '{login}' already exists."), login=login) from None
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Your login "
                           "'{login}' may not manage logins; ask the administrator."), login=conn.info.user) from None


def password_literal(conn: psycopg.Connection, login: str, password: str) -> sql.Literal:
    """The password as its SCRAM verifier, made here by libpq (PQencryptPasswordConn): a statement that
    fails is written to the server log with its text, and the clear password must never be."""
    if "\x00" in password:
        raise UserError(N_("A password cannot hold a NUL character."))
    verifier = conn.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256")
    return sql.Literal(verifier.decode("ascii"))


def set_password(conn: psycopg.Connection, login: str, password: str) -> None:
    if not login_exists(conn, login):
        raise UserError(N_("There is no login '{login}'."), login=login)
    try:
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(login),
                                                                 password_literal(conn, login, password)))
    except psycopg.errors.InsufficientPrivilege:
        raise UserError(N_("Your login "
                           "'{login}' may not manage logins; ask the administrator."), login=conn.info.user) from None


def list_logins(conn: psycopg.Connection) -> list[Login]:
    return rows.all_of(Login, conn.execute(
        """
        SELECT r.rolname AS name,
               (SELECT substr(g.rolname, length('clientbase_') + 1)
                  FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                 WHERE m.member = r.oid AND g.rolname LIKE 'clientbase\\_%%' ORDER BY g.rolname LIMIT 1) AS role,
               r.rolcanlogin AS can_login
          FROM pg_roles r
         WHERE r.oid IN (SELECT m.member FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                          WHERE g.rolname LIKE 'clientbase\\_%%')
         ORDER BY r.rolname
        """))


def role_of(conn: psycopg.Connection, login: str) -> str | None:
    """The clientbase role of a login; the database owner and superusers count as admin."""
    row = rows.one_dict(conn.execute(
        sql.SQL("""
        SELECT r.rolsuper OR d.datdba = r.oid AS owner, {memberships}
          FROM pg_roles r, pg_database d
         WHERE r.rolname = %s AND d.datname = current_database()
        """).format(memberships=sql.SQL(", ").join(
            sql.SQL("pg_has_role(r.oid, {}, 'USAGE') AS {}").format(sql.Literal(group_of(role)), sql.Identifier(role))
            for role in ROLES)),
        (login,)))
    if row is None:
        return None
    if row["owner"]:
        return "admin"
    return next((role for role in ROLES if row[role]), None)
