"""The administrator's commands: init, user, demo, settings, db and server."""

from __future__ import annotations

import argparse

from db import connection, migrate, users
from db.connection import Target
from db.errors import UserError
from db.i18n import N_, t
from tui.cli.common import (ask_password, bind_app_database, iso_date, owner_connection, positive_int,
                            prepare_embedded, progress_printer, read_password, say, seed_new_base,
                            settle_language_from_database)


def add_parsers(commands: argparse._SubParsersAction) -> None:
    commands.add_parser("init", help=t("create or upgrade the schema and the group roles"))

    user = commands.add_parser("user", help=t("manage logins")).add_subparsers(dest="action", required=True,
                                                                             metavar="ACTION")
    add = user.add_parser("add", help=t("create a login"))
    add.add_argument("login")
    add.add_argument("--role", required=True, help=t("admin, manager, sales or mailer"))
    add.add_argument("--password-stdin", action="store_true", help=t("read the login's password from standard input"))
    user.add_parser("list", help=t("list the logins and their roles"))
    password = user.add_parser("password", help=t("set a login's password"))
    password.add_argument("login")
    password.add_argument("--password-stdin", action="store_true")

    demo = commands.add_parser("demo", help=t("fill an empty base with realistic synthetic data"))
    demo.add_argument("--clients", type=positive_int, default=10_000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--as-of", type=iso_date, default=None, help=t("the demo's 'today' (default: today)"))

    settings = commands.add_parser("settings", help=t("the shop's settings")).add_subparsers(
        dest="action", required=True, metavar="ACTION")
    settings.add_parser("list", help=t("every setting with its value"))
    get = settings.add_parser("get", help=t("one setting's value"))
    get.add_argument("key")
    set_ = settings.add_parser("set", help=t("change a setting (administrator)"))
    set_.add_argument("key")
    set_.add_argument("value")
    mine = settings.add_parser("my-language", help=t("show or set your login's own language (en, ru, ro; 'default' "
                                                     "forgets it)"))
    mine.add_argument("value", nargs="?", metavar="LANGUAGE")

    db = commands.add_parser("db", help=t("the database connection")).add_subparsers(
        dest="action", required=True, metavar="ACTION")
    db.add_parser("url", help=t("print the connection URL, for psql"))

    server = commands.add_parser("server", help=t("the embedded server for the office network"))
    server_actions = server.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = server_actions.add_parser("start", help=t("start it, optionally listening on the network"))
    start.add_argument("--listen", metavar="ADDR", default=None,
                       help=t("address to listen on, e.g. 0.0.0.0 for every network (default: this computer only)"))
    start.add_argument("--port", type=positive_int, default=None)
    start.add_argument("--cert", metavar="FILE", default=None, help=t("a TLS certificate (PEM) for the network "
                                                                      "listener, instead of the self-signed one"))
    start.add_argument("--key", metavar="FILE", default=None, help=t("the private key (PEM) of --cert"))
    server_actions.add_parser("stop", help=t("stop it"))
    server_actions.add_parser("status", help=t("say whether it runs and where"))


def cmd_init(target: Target, args: argparse.Namespace) -> int:
    if target.embedded is not None:
        applied = prepare_embedded(target)
    else:
        with connection.connect(target.owner_conninfo(), target, autocommit=True) as conn:
            applied = migrate.migrate(conn)
        if any(migration.version == 1 for migration in applied):
            seed_new_base(target)
    for migration in applied:
        say(t("Applied migration {version}: {name}.", version=migration.version, name=migration.name))
    say(t("Schema is at version {version}.", version=migrate.LATEST))
    return 0


def cmd_user(target: Target, args: argparse.Namespace) -> int:
    if args.action == "add":
        users.group_of(args.role)  # an unknown role is refused before anything else happens
        password = read_password() if args.password_stdin else None
        with owner_connection(target) as conn:
            users.add_login(conn, args.login, args.role, password)
        say(t("Added {login} as {role}.", login=args.login, role=args.role))
    elif args.action == "password":
        with owner_connection(target) as conn:
            # Said before the password is asked for: typing one for a misspelt login wastes it.
            if not users.login_exists(conn, args.login):
                raise UserError(N_("There is no login '{login}'."), login=args.login)
            if args.password_stdin:
                password = read_password()
            else:
                password = ask_password(t("New password for {login}: ", login=args.login))
            users.set_password(conn, args.login, password)
        say(t("Password changed for {login}.", login=args.login))
    else:
        with owner_connection(target) as conn:
            logins = users.list_logins(conn)
        width = max([len(login.name) for login in logins] + [5])
        for login in logins:
            say(f"{login.name:<{width}}  {login.role or '-'}")
    return 0


def cmd_demo(target: Target, args: argparse.Namespace) -> int:
    from db import demo

    with owner_connection(target) as conn:
        result = demo.load(conn, args.clients, args.seed, args.as_of, progress=progress_printer())
    say(t("Loaded {clients:,} clients and {purchases:,} "
          "purchases in {seconds:.1f} s.", clients=result.clients, purchases=result.purchases, seconds=result.seconds))
    return 0


def cmd_settings(target: Target, args: argparse.Namespace) -> int:
    from db import settings

    target = bind_app_database(target)
    if args.action == "list":
        rows = settings.list_settings()
        width = max(len(row.key) for row in rows)
        for row in rows:
            marker = "" if row.is_default else f"  ({t('changed')})"
            say(f"{row.key:<{width}}  {row.value:<14}  {t(row.description)}{marker}")
    elif args.action == "get":
        say(settings.get(args.key))
    elif args.action == "my-language":
        _my_language(args.value)
    else:
        settings.validate(args.key, args.value)
        say(t("{key} = {value}", key=args.key, value=settings.set_value(args.key, args.value)))
    return 0


def _my_language(value: str | None) -> None:
    from db import settings

    if value is not None:
        try:
            settings.set_my_language(None if value == "default" else value)
        except ValueError as exc:
            raise UserError(N_("{key} cannot "
                               "be '{value}': {reason}."), key="my-language", value=value, reason=str(exc)) from None
        settle_language_from_database()  # the answer is said in the language just chosen
    chosen = settings.my_language()
    if chosen:
        say(t("Your login's language: {language}.", language=chosen))
    else:
        say(t("Your login has no language of its own: the environment's or the shop's applies."))


def cmd_db(target: Target, args: argparse.Namespace) -> int:
    if target.embedded is not None:
        connection.prepare_embedded(target, create=False)
        say(target.embedded.url(target.login))
    else:
        say(target.url)
    return 0


def cmd_server(target: Target, args: argparse.Namespace) -> int:
    from db.embedded import ServerConfig, certificate_fingerprint

    server = target.embedded
    if server is None:
        raise UserError(N_("This command works on the embedded database only, not on {url}."), url=target.display)
    if args.action == "status":
        if not server.is_running():
            say(t("The database server in {home} is not running.", home=server.home))
            return 3
        with connection.connect(server.url(database="postgres"), target) as conn:
            version = conn.info.parameter_status("server_version")
        config = server.config()
        say(t("The database server in {home} "
              "is running (PostgreSQL {version}), {where}.", home=server.home, version=version, where=config.where))
        if config.listen:
            if server.gateway_pid() is not None:
                cert = server.tls_files(config)[0]
                say(t("The encrypted listener (TLS) runs on {where}; certificate {cert}, SHA-256 fingerprint "
                      "{fingerprint}.", where=config.where, cert=cert,
                       fingerprint=certificate_fingerprint(cert)))
            else:
                say(t("The encrypted listener (TLS) for {where} is not running, so other terminals cannot connect; "
                      "'clientbase "
                      "server start' starts it (why it stopped: {log}).", where=config.where, log=server.gateway_log))
        return 0
    if args.action == "stop":
        server.stop()
        say(t("The database server in {home} has stopped.", home=server.home))
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
        say(t("The database server runs for this computer only (no network listener); to open it to the office "
              "network, run 'clientbase server start --listen 0.0.0.0'."))
        return 0
    hosts = [part for part in config.listen.split(",") if part not in ("0.0.0.0", "*", "::")]
    host = hosts[0] if hosts else t("THIS-COMPUTER-ADDRESS")
    if ":" in host:
        host = f"[{host}]"
    url = f"postgresql://LOGIN@{host}:{config.port}/{connection.DATABASE_NAME}?sslmode=require"
    # Quoted: a shell would take '?' as a pattern and '&' (of the pinned form) as "run in the background".
    say(t("The database server is listening on "
          "{where}; other terminals connect with\n  {url}", where=config.where, url=f"clientbase --database '{url}'"))
    cert = server.tls_files(config)[0]
    say(t("Connections are encrypted (TLS) with the certificate "
          "{cert}\n  SHA-256 fingerprint {fingerprint}", cert=cert, fingerprint=certificate_fingerprint(cert)))
    say(t("To make sure a terminal talks to this server and no other, copy {cert} to it and use "
          "sslmode=verify-ca&sslrootcert=PATH-OF-THE-COPY in the URL instead of sslmode=require.", cert=cert))
    say(t("Logins without a password cannot connect over the network; set one with 'clientbase user password LOGIN'."))
    return 0


COMMANDS = {"init": cmd_init, "user": cmd_user, "demo": cmd_demo, "settings": cmd_settings, "db": cmd_db,
            "server": cmd_server}
