"""The `clientbase` command. Every failure a user can cause ends in one sentence and a non-zero exit."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date
from typing import Callable, Sequence

import peewee
import psycopg

from db import connection, migrate, users
from db.connection import Target
from db.errors import UserError, driver_error, is_permission_denied
from db.i18n import t
from tui import transfer_cli

DEMO_ON_FIRST_START = 20_000


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(t("cli.bad_number", text=text)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(t("cli.bad_positive", text=text))
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(t("cli.bad_date", text=text)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clientbase",
        description=t("cli.help.description"),
    )
    parser.add_argument("--database", metavar="URL",
                        help=t("cli.help.database"))
    parser.add_argument("--user", metavar="LOGIN", help=t("cli.help.user"))
    parser.add_argument("--demo", action="store_true",
                        help=t("cli.help.demo_flag", count=f"{DEMO_ON_FIRST_START:,}"))
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("init", help=t("cli.help.init"))

    user = commands.add_parser("user", help=t("cli.help.user_command")).add_subparsers(dest="action", required=True,
                                                                             metavar="ACTION")
    add = user.add_parser("add", help=t("cli.help.user_add"))
    add.add_argument("login")
    add.add_argument("--role", required=True, help=t("cli.help.role"))
    add.add_argument("--password-stdin", action="store_true", help=t("cli.help.password_stdin"))
    user.add_parser("list", help=t("cli.help.user_list"))
    password = user.add_parser("password", help=t("cli.help.user_password"))
    password.add_argument("login")
    password.add_argument("--password-stdin", action="store_true")

    demo = commands.add_parser("demo", help=t("cli.help.demo"))
    demo.add_argument("--clients", type=_positive_int, default=10_000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--as-of", type=_iso_date, default=None, help=t("cli.help.as_of"))

    settings = commands.add_parser("settings", help=t("cli.help.settings")).add_subparsers(
        dest="action", required=True, metavar="ACTION")
    settings.add_parser("list", help=t("cli.help.settings_list"))
    get = settings.add_parser("get", help=t("cli.help.settings_get"))
    get.add_argument("key")
    set_ = settings.add_parser("set", help=t("cli.help.settings_set"))
    set_.add_argument("key")
    set_.add_argument("value")

    db = commands.add_parser("db", help=t("cli.help.db")).add_subparsers(
        dest="action", required=True, metavar="ACTION")
    db.add_parser("url", help=t("cli.help.db_url"))

    server = commands.add_parser("server", help=t("cli.help.server"))
    server_actions = server.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = server_actions.add_parser("start", help=t("cli.help.server_start"))
    start.add_argument("--listen", metavar="ADDR", default=None,
                       help=t("cli.help.listen"))
    start.add_argument("--port", type=_positive_int, default=None)
    start.add_argument("--cert", metavar="FILE", default=None, help=t("cli.help.cert"))
    start.add_argument("--key", metavar="FILE", default=None, help=t("cli.help.key"))
    server_actions.add_parser("stop", help=t("cli.help.server_stop"))
    server_actions.add_parser("status", help=t("cli.help.server_status"))
    transfer_cli.add_parsers(commands)
    return parser


# --- helpers ---------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, flush=True)


def _read_password() -> str:
    try:
        password = sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""
    except UnicodeDecodeError:
        raise UserError("cli.password_not_text") from None
    if not password:
        raise UserError("user.password_empty")
    return password


def _ask_password(prompt: str) -> str:
    """A password typed at the terminal; Ctrl+D, an empty answer or no terminal at all is one sentence."""
    if sys.stdin is None or not sys.stdin.isatty():
        raise UserError("cli.no_terminal_for_password")
    try:
        password = getpass.getpass(prompt)
    except EOFError:
        print(file=sys.stderr)  # the prompt's line stays open after Ctrl+D
        raise UserError("cli.password_not_given") from None
    if not password:
        raise UserError("cli.password_not_given")
    return password


def _unencodable(text: str) -> bool:
    # Bytes that are not UTF-8 reach argv as lone surrogates (PEP 383); PostgreSQL cannot take them.
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _check_arguments(args: argparse.Namespace) -> None:
    for name, value in vars(args).items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and _unencodable(item):
                positional = name in ("login", "key", "value")
                raise UserError("cli.bad_text", option=name if positional else "--" + name.replace("_", "-"))


def _owner_connection(target: Target, create: bool = False) -> psycopg.Connection:
    if target.embedded is not None:
        connection.prepare_embedded(target, create=create)
    return connection.connect(target.owner_conninfo(), target, autocommit=True)


def _with_password_prompt(target: Target, attempt: Callable[[Target], object]) -> object:
    """Runs `attempt`; if the server asks for a password and someone is at the keyboard, asks once."""
    try:
        return attempt(target)
    except UserError as exc:
        if exc.key != "db.auth_failed" or target.password is not None or sys.stdin is None \
                or not sys.stdin.isatty():
            raise
        password = _ask_password(t("cli.password_prompt", login=target.login))
        return attempt(target.with_password(password))


# --- commands --------------------------------------------------------------------------------------


def cmd_init(target: Target, args: argparse.Namespace) -> int:
    if target.embedded is not None:
        applied = connection.prepare_embedded(target)
    else:
        with connection.connect(target.owner_conninfo(), target, autocommit=True) as conn:
            applied = migrate.migrate(conn)
    for migration in applied:
        _say(t("init.applied", version=migration.version, name=migration.name))
    _say(t("init.done", version=migrate.LATEST))
    return 0


def cmd_user(target: Target, args: argparse.Namespace) -> int:
    if args.action == "add":
        users.group_of(args.role)  # an unknown role is refused before anything else happens
        password = _read_password() if args.password_stdin else None
        with _owner_connection(target) as conn:
            users.add_login(conn, args.login, args.role, password)
        _say(t("user.added", login=args.login, role=args.role))
    elif args.action == "password":
        with _owner_connection(target) as conn:
            # Said before the password is asked for: typing one for a misspelt login wastes it.
            if not users.login_exists(conn, args.login):
                raise UserError("user.no_such", login=args.login)
            if args.password_stdin:
                password = _read_password()
            else:
                password = _ask_password(t("cli.new_password_prompt", login=args.login))
            users.set_password(conn, args.login, password)
        _say(t("user.password_set", login=args.login))
    else:
        with _owner_connection(target) as conn:
            logins = users.list_logins(conn)
        width = max([len(login.name) for login in logins] + [5])
        for login in logins:
            _say(f"{login.name:<{width}}  {login.role or '-'}")
    return 0


def cmd_demo(target: Target, args: argparse.Namespace) -> int:
    from db import demo

    with _owner_connection(target) as conn:
        result = demo.load(conn, args.clients, args.seed, args.as_of, progress=_progress_printer())
    _say(t("demo.loaded", clients=f"{result.clients:,}", purchases=f"{result.purchases:,}", seconds=result.seconds))
    return 0


def _progress_printer() -> Callable[[str, int, int], None]:
    if not sys.stderr.isatty():
        return lambda stage, done, total: None

    def show(stage: str, done: int, total: int) -> None:
        sys.stderr.write(f"\r{stage}: {done:,} / {total:,}   ")
        sys.stderr.flush()
        if stage == "analyse":
            sys.stderr.write("\n")

    return show


def _bind_app_database(target: Target, create: bool = False) -> Target:
    from db import session

    def attempt(candidate: Target) -> Target:
        session.bind(candidate)
        connection.check_schema(candidate)
        return candidate

    if target.embedded is not None:
        connection.prepare_embedded(target, create=create)
    return _with_password_prompt(target, attempt)


def cmd_settings(target: Target, args: argparse.Namespace) -> int:
    from db import settings

    target = _bind_app_database(target)
    if args.action == "list":
        rows = settings.list_settings()
        width = max(len(row.key) for row in rows)
        for row in rows:
            marker = "" if row.is_default else f"  ({t('settings.changed')})"
            _say(f"{row.key:<{width}}  {row.value:<14}  {row.description}{marker}")
    elif args.action == "get":
        _say(settings.get(args.key))
    else:
        settings.validate(args.key, args.value)
        _say(t("settings.saved", key=args.key, value=settings.set_value(args.key, args.value)))
    return 0


def cmd_db(target: Target, args: argparse.Namespace) -> int:
    if target.embedded is not None:
        connection.prepare_embedded(target, create=False)
        _say(target.embedded.url(target.login))
    else:
        _say(target.url)
    return 0


def cmd_server(target: Target, args: argparse.Namespace) -> int:
    from db.embedded import ServerConfig, certificate_fingerprint

    server = target.embedded
    if server is None:
        raise UserError("embedded.only", url=target.display)
    if args.action == "status":
        if not server.is_running():
            _say(t("server.stopped", home=server.home))
            return 3
        with connection.connect(server.url(database="postgres"), target) as conn:
            version = conn.info.parameter_status("server_version")
        config = server.config()
        _say(t("server.running", home=server.home, version=version, where=config.where))
        if config.listen:
            if server.gateway_pid() is not None:
                cert = server.tls_files(config)[0]
                _say(t("server.tls_running", where=config.where, cert=cert,
                       fingerprint=certificate_fingerprint(cert)))
            else:
                _say(t("server.tls_not_running", where=config.where, log=server.gateway_log))
        return 0
    if args.action == "stop":
        server.stop()
        _say(t("server.stopping", home=server.home))
        return 0
    # Everything is checked before the running server is touched: a typo must not cut the office off.
    current = server.config()
    own_files = args.cert is not None or args.key is not None
    config = ServerConfig(port=args.port or current.port,
                          listen=current.listen if args.listen is None else args.listen,
                          cert=(args.cert or "") if own_files else current.cert,
                          key=(args.key or "") if own_files else current.key).validated()
    # The office server's first start creates the base, as the app's first start does.
    with server.start_lock():
        if not server.is_initialised():
            server.initialise()
        server.change(config)
        connection.bootstrap_embedded(server, target)
    if not config.listen:
        _say(t("server.local_only"))
        return 0
    hosts = [part for part in config.listen.split(",") if part not in ("0.0.0.0", "*", "::")]
    host = hosts[0] if hosts else t("server.this_address")
    if ":" in host:
        host = f"[{host}]"
    url = f"postgresql://LOGIN@{host}:{config.port}/{connection.DATABASE_NAME}?sslmode=require"
    # Quoted: a shell would take '?' as a pattern and '&' (of the pinned form) as "run in the background".
    _say(t("server.started", where=config.where, url=f"clientbase --database '{url}'"))
    cert = server.tls_files(config)[0]
    _say(t("server.tls_certificate", cert=cert, fingerprint=certificate_fingerprint(cert)))
    _say(t("server.tls_pin", cert=cert))
    _say(t("server.needs_passwords"))
    return 0


def cmd_app(target: Target, args: argparse.Namespace) -> int:
    from db import demo, session

    if args.demo:
        with _owner_connection(target, create=True) as conn:
            if demo.is_empty(conn):
                result = demo.load(conn, DEMO_ON_FIRST_START, progress=_progress_printer())
                _say(t("demo.loaded", clients=f"{result.clients:,}", purchases=f"{result.purchases:,}",
                       seconds=result.seconds))
    target = _bind_app_database(target, create=True)
    identity = session.identity(target)
    from tui.app import ClientbaseApp

    ClientbaseApp(target, identity).run()
    return 0


COMMANDS = {"init": cmd_init, "user": cmd_user, "demo": cmd_demo, "settings": cmd_settings, "db": cmd_db,
            "server": cmd_server, "import": transfer_cli.cmd_import,
            "export": transfer_cli.cmd_export, "backup": transfer_cli.cmd_backup,
            "restore": transfer_cli.cmd_restore}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    target = None
    try:
        _check_arguments(args)
        target = connection.resolve(args.database, args.user)
        handler = COMMANDS.get(args.command, cmd_app)
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


if __name__ == "__main__":
    sys.exit(main())
