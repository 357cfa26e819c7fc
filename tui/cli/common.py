"""What every command group shares: argument types, talking to the user, passwords, and connecting."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import date
from typing import Callable

import psycopg

from db import connection, labels
from db.connection import Target
from db.errors import UserError
from db.i18n import N_, t


def positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(t("expected a whole number, not '{text}'", text=text)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(t("expected a positive number, not '{text}'", text=text))
    return value


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(t("expected a date as YYYY-MM-DD, not '{text}'", text=text)) from None


def say(message: str) -> None:
    print(message, flush=True)


def read_password() -> str:
    try:
        password = sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""
    except UnicodeDecodeError:
        raise UserError(N_("The password read from standard input is not UTF-8 text.")) from None
    if not password:
        raise UserError(N_("The password read from standard input is empty."))
    return password


def ask_password(prompt: str) -> str:
    """A password typed at the terminal; Ctrl+D, an empty answer or no terminal at all is one sentence."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise UserError(N_("There is no terminal to type the password at; pass it with --password-stdin."))
    try:
        password = getpass.getpass(prompt)
    except EOFError:
        print(file=sys.stderr)  # the prompt's line stays open after Ctrl+D
        raise UserError(N_("No password was given; nothing changed.")) from None
    if not password:
        raise UserError(N_("No password was given; nothing changed."))
    return password


def _unencodable(text: str) -> bool:
    # Bytes that are not UTF-8 reach argv as lone surrogates (PEP 383); PostgreSQL cannot take them.
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def check_arguments(args: argparse.Namespace) -> None:
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and _unencodable(item):
                positional = name in ("login", "key", "value")
                raise UserError(N_("{option} holds bytes that are not UTF-8 text; check the terminal's or the file's "
                                   "encoding."), option=name if positional else "--" + name.replace("_", "-"))


def owner_connection(target: Target, create: bool = False) -> psycopg.Connection:
    if target.embedded is not None:
        prepare_embedded(target, create=create)
    return connection.connect(target.owner_conninfo(), target, autocommit=True)


def prepare_embedded(target: Target, create: bool = True) -> list:
    """connection.prepare_embedded, and a base it has just created gets the locale's defaults."""
    applied = connection.prepare_embedded(target, create=create)
    if any(migration.version == 1 for migration in applied):
        seed_new_base(target)
    return applied


def with_password_prompt(target: Target, attempt: Callable[[Target], object]) -> object:
    """Runs `attempt`; if the server asks for a password and someone is at the keyboard, asks once."""
    try:
        return attempt(target)
    except UserError as exc:
        if exc.key != N_("The database refused the login '{login}': "
                         "wrong password or no such login.") or target.password is not None or sys.stdin is None \
                or not sys.stdin.isatty():
            raise
        password = ask_password(t("Password for {login}: ", login=target.login))
        return attempt(target.with_password(password))


def progress_printer() -> Callable[[str, int, int], None]:
    if not sys.stderr.isatty():
        return lambda stage, done, total: None

    def show(stage: str, done: int, total: int) -> None:
        # An import's stages are marked messages (N_); the demo's are names, said through their table.
        said = t(labels.DEMO_STAGE[stage]) if stage in labels.DEMO_STAGE else t(stage)
        sys.stderr.write("\r" + t("{stage}: {done:,} / {total:,}", stage=said, done=done, total=total) + "   ")
        sys.stderr.flush()
        if stage == "analyse":
            sys.stderr.write("\n")

    return show


def bind_app_database(target: Target, create: bool = False) -> Target:
    from db import session

    def attempt(candidate: Target) -> Target:
        session.bind(candidate)
        connection.check_schema(candidate)
        return candidate

    if target.embedded is not None:
        prepare_embedded(target, create=create)
    bound = with_password_prompt(target, attempt)
    settle_language_from_database()
    return bound


def seed_new_base(target: Target) -> None:
    """A base just created starts in the language, currency and phone country of the locale it was made in."""
    from db import settings
    from tui import i18n

    choice = i18n.current()
    with connection.connect(target.owner_conninfo(), target, autocommit=True) as conn:
        settings.seed_new_base(conn, choice.language, choice.region)


def settle_language_from_database() -> None:
    """The login's own language and the shop's, read once the database is bound (tui/i18n.py has the order)."""
    import peewee

    from db import settings
    from tui import i18n

    try:
        login, shop = settings.my_language(), settings.get("language")
    except (peewee.DatabaseError, psycopg.Error):
        return  # a login that cannot read them keeps the command line's and the environment's choice
    i18n.refine(login, shop)
