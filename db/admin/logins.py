"""Logins from the app: add one with a role, reset a password, disable or enable one.

The same functions and the same connection as `clientbase user` (db/users.py through the owner's connection,
Target.owner_conninfo): the app gains no right the command line lacks. Where the administrator's connection may
not manage roles (an office server where the administrator is not the database owner) the database refuses,
and the sentence says to ask whoever set the server up. Role changes fire no trigger, so each one writes its
audit row itself, in the same transaction, naming the app's login and never the password.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

import psycopg
from psycopg import sql

from db import connection, users
from db.connection import Target
from db.errors import UserError
from db.i18n import N_
from db.users import Login

_REFUSED = N_("Your login '{login}' may not manage logins; ask the administrator.")


@contextmanager
def _owner(target: Target) -> Iterator[psycopg.Connection]:
    with connection.connect(target.owner_conninfo(), target) as conn:
        with conn.transaction():
            yield conn


def _audit(conn: psycopg.Connection, by: str, login: str, action: str, values: dict[str, object]) -> None:
    conn.execute("INSERT INTO public.audit_log (login, table_name, row_id, action, new_values)"
                 " VALUES (%s, 'login', %s, %s, %s::jsonb)", (by, login, action, json.dumps(values)))


def list_logins(target: Target) -> list[Login]:
    with _owner(target) as conn:
        return users.list_logins(conn)


def add_login(target: Target, by: str, login: str, role: str, password: str) -> None:
    if not password:
        raise UserError(N_("Give the new login a password: without one it cannot connect over the network."))
    with _owner(target) as conn:
        users.add_login(conn, login.strip(), role, password)
        _audit(conn, by, login.strip(), "insert", {"role": role})


def reset_password(target: Target, by: str, login: str, password: str) -> None:
    if not password:
        raise UserError(N_("The new password is empty."))
    with _owner(target) as conn:
        users.set_password(conn, login, password)
        _audit(conn, by, login, "update", {"password": "reset"})


def set_enabled(target: Target, by: str, login: str, enabled: bool) -> None:
    """Disables a login (it can no longer connect; its history stays) or enables it again."""
    if login == by and not enabled:
        raise UserError(N_("You cannot disable your own login: another administrator has to."))
    with _owner(target) as conn:
        if not users.login_exists(conn, login):
            raise UserError(N_("There is no login '{login}'."), login=login)
        try:
            conn.execute(sql.SQL("ALTER ROLE {} {}").format(sql.Identifier(login),
                                                            sql.SQL("LOGIN" if enabled else "NOLOGIN")))
        except psycopg.errors.InsufficientPrivilege:
            raise UserError(_REFUSED, login=conn.info.user) from None
        _audit(conn, by, login, "update", {"can_login": enabled})
