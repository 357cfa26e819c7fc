"""The `clientbase` command. Every failure a user can cause ends in one sentence and a non-zero exit.

Each command group is a module with `add_parsers(commands)` and `COMMANDS`; a new group (analytics, campaign,
send, triggers) is one module and one entry in GROUPS.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, Sequence

import peewee
import psycopg

from db import connection
from db.connection import Target
from db.errors import UserError, driver_error, is_permission_denied
from db.i18n import N_, t
from tui import i18n
from tui.cli import admin, analytics, app, mailing, transfer, triggers
from tui.cli.common import check_arguments

GROUPS = (admin, transfer, analytics, mailing, triggers)

# argparse's own words (usage, options, its error messages), translated like every other message.
ARGPARSE_MESSAGES = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("unrecognized arguments: %s"),
    N_("argument %(argument_name)s: %(message)s"), N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"), N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("expected at least one argument"), N_("one of the arguments %s is required"),
    N_("can't open '%(filename)s': %(error)s"),
)


def translate_argparse() -> None:
    """argparse looks its words up through its module-level name `_` (gettext.gettext, the OS's catalogs);
    pointing it at clientbase's catalog is the one private detail this relies on (tests/test_i18n.py has a
    canary for it)."""
    argparse._ = t  # type: ignore[attr-defined]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientbase",
        description=t("A shared client base for a shop or a small office, in the terminal."),
    )
    parser.add_argument("--database", metavar="URL",
                        help=t("a PostgreSQL URL (default: $CLIENTBASE_DATABASE_URL, else the embedded database)"))
    parser.add_argument("--user", metavar="LOGIN", help=t("the login to use (default: your system user name)"))
    parser.add_argument("--lang", choices=i18n.LANGUAGES, help=t("the language to speak: en, ru or ro (default: your "
                                                                 "login's, else LANG, else the shop's)"))
    parser.add_argument("--demo", action="store_true",
                        help=t("on an empty "
                               "base, load {count:,} demo clients before starting", count=app.DEMO_ON_FIRST_START))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    for group in GROUPS:
        group.add_parsers(commands)
    return parser


def _commands() -> dict[str, Callable[[Target, argparse.Namespace], int]]:
    return {name: handler for group in GROUPS for name, handler in group.COMMANDS.items()}


def _language_on_command_line(argv: Sequence[str] | None) -> str | None:
    """--lang read before the parser is built, so that --help and argparse's own errors speak it too."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--lang")
    known, _ = early.parse_known_args(argv)
    return known.lang if known.lang in i18n.LANGUAGES else None


def main(argv: Sequence[str] | None = None) -> int:
    i18n.settle(cli=_language_on_command_line(sys.argv[1:] if argv is None else argv))
    translate_argparse()
    parser = build_parser()
    args = parser.parse_args(argv)
    target = None
    try:
        check_arguments(args)
        target = connection.resolve(args.database, args.user)
        handler = _commands().get(args.command, app.cmd_app)
        return handler(target, args)
    except UserError as exc:
        print(f"clientbase: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"clientbase: {t('Interrupted.')}", file=sys.stderr)
        return 130
    except (psycopg.errors.InsufficientPrivilege, peewee.ProgrammingError) as exc:
        if not is_permission_denied(exc):
            raise
        detail = str(driver_error(exc)).splitlines()[0]
        print(f"clientbase: {t('Your login may not do this: {detail}.', detail=detail)}", file=sys.stderr)
        return 1
    except (psycopg.OperationalError, peewee.OperationalError, peewee.InterfaceError) as exc:
        failure = driver_error(exc)
        if not isinstance(failure, psycopg.OperationalError):
            raise
        print(f"clientbase: {connection.describe_failure(failure, target)}", file=sys.stderr)
        return 1
