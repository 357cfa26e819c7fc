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
from db.i18n import t
from tui.cli import admin, app, mailing, transfer
from tui.cli.common import check_arguments

GROUPS = (admin, transfer, mailing)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientbase",
        description=t("cli.help.description"),
    )
    parser.add_argument("--database", metavar="URL",
                        help=t("cli.help.database"))
    parser.add_argument("--user", metavar="LOGIN", help=t("cli.help.user"))
    parser.add_argument("--demo", action="store_true",
                        help=t("cli.help.demo_flag", count=f"{app.DEMO_ON_FIRST_START:,}"))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    for group in GROUPS:
        group.add_parsers(commands)
    return parser


def _commands() -> dict[str, Callable[[Target, argparse.Namespace], int]]:
    return {name: handler for group in GROUPS for name, handler in group.COMMANDS.items()}


def main(argv: Sequence[str] | None = None) -> int:
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
        print(f"clientbase: {t('cli.interrupted')}", file=sys.stderr)
        return 130
    except (psycopg.errors.InsufficientPrivilege, peewee.ProgrammingError) as exc:
        if not is_permission_denied(exc):
            raise
        detail = str(driver_error(exc)).splitlines()[0]
        print(f"clientbase: {t('cli.permission', detail=detail)}", file=sys.stderr)
        return 1
    except (psycopg.OperationalError, peewee.OperationalError, peewee.InterfaceError) as exc:
        failure = driver_error(exc)
        if not isinstance(failure, psycopg.OperationalError):
            raise
        print(f"clientbase: {connection.describe_failure(failure, target)}", file=sys.stderr)
        return 1
