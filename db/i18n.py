"""Every sentence a user can read comes from here, so that a translation is one file away.

Keys are stable identifiers; the English text is the source language. `t(key, **values)` formats one.
A translation later adds a dict per language and picks it from the `language` setting.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # Connection and the embedded server
    "db.unreachable": "Cannot reach the database at {where}: {reason}.",
    "db.bad_url": "The database address {url!r} is not a PostgreSQL URL (it should start with postgresql://).",
    "db.auth_failed": "The database refused the login {login!r}: wrong password or no such login.",
    "db.no_such_login": "There is no login {login!r} on this database; an administrator can add it with "
    "'clientbase user add {login} --role sales'.",
    "db.too_old_server": "PostgreSQL {version} is too old; clientbase needs PostgreSQL 15 or newer.",
    "db.schema_newer": "This database was upgraded by a newer clientbase (schema {db_version}, this program "
    "knows up to {app_version}); please update clientbase.",
    "db.schema_missing": "The database has no clientbase schema yet; run 'clientbase init' first.",
    "db.schema_older": "The database schema is at version {db_version} and this program needs {app_version}; "
    "run 'clientbase init' to upgrade it.",
    "db.lost": "The connection to the database was lost; reconnecting…",
    "db.back": "Connected again.",
    "embedded.busy": "Another clientbase is starting the embedded database in {home}; try again in a moment.",
    "embedded.start_failed": "The embedded database in {home} did not start: {reason}.",
    "embedded.not_initialised": "There is no embedded database in {home} yet; start 'clientbase' once to create it.",
    "embedded.only": "This command works on the embedded database only, not on {url}.",
    "server.running": "The database server in {home} is running (PostgreSQL {version}), {where}.",
    "server.stopped": "The database server in {home} is not running.",
    "server.started": "The database server is listening on {where}; other terminals connect with\n  {url}",
    "server.stopping": "The database server in {home} has stopped.",
    "server.needs_passwords": "Logins without a password cannot connect over the network; set one with "
    "'clientbase user password LOGIN'.",
    # Users and roles
    "user.bad_role": "Unknown role {role!r}; choose one of: {choices}.",
    "user.bad_login": "A login may hold only letters, digits, '_', '.', '@' and '-', up to 63 characters: {login!r}.",
    "user.exists": "The login {login!r} already exists.",
    "user.added": "Added {login} as {role}.",
    "user.password_set": "Password changed for {login}.",
    "user.no_such": "There is no login {login!r}.",
    "user.not_allowed": "Your login {login!r} may not manage logins; ask the administrator.",
    "user.password_empty": "The password read from standard input is empty.",
    "role.admin": "administrator",
    "role.manager": "manager",
    "role.sales": "salesperson",
    "role.mailer": "mail delivery",
    "role.none": "no clientbase role",
    # Settings
    "settings.unknown": "There is no setting {key!r}; 'clientbase settings list' shows them all.",
    "settings.bad_value": "{key} cannot be {value!r}: {reason}.",
    "settings.admin_only": "Only an administrator may change settings.",
    "settings.saved": "{key} = {value}",
    "settings.reason.country": "expected a two-letter country code such as RU, MD or GB",
    "settings.reason.currency": "expected a three-letter currency code such as RUB, MDL or EUR",
    "settings.reason.timezone": "expected a time zone such as Europe/Moscow",
    "settings.reason.window": "expected a window such as 10:00-18:00",
    "settings.reason.days": "expected weekdays such as mon-fri or mon,wed,fri",
    "settings.reason.int": "expected a whole number from {low} to {high}",
    "settings.reason.bool": "expected yes or no",
    "settings.reason.language": "expected one of: {choices}",
    # Validation of client data
    "valid.email": "This is not a valid e-mail address: {reason}.",
    "valid.phone": "This is not a valid phone number{country}.",
    "valid.phone_parse": "This does not look like a phone number.",
    "valid.empty": "This field is required.",
    "valid.birth_future": "A birth date cannot be in the future.",
    "valid.date": "Expected a date such as 31.12.1985 or 1985-12-31.",
    "valid.kind": "Unknown contact type {kind!r}.",
    # Demo
    "demo.loaded": "Loaded {clients} clients and {purchases} purchases in {seconds:.1f} s.",
    "demo.not_empty": "The database already holds {count} clients; demo data goes into an empty base only "
    "(use a fresh CLIENTBASE_HOME or database).",
    "demo.bad_count": "The number of clients must be between 1 and 10,000,000.",
    # Init
    "init.done": "Schema is at version {version}.",
    "init.applied": "Applied migration {version}: {name}.",
    "init.no_rights": "The login {login!r} may not create the schema or the group roles; run 'clientbase init' "
    "as the database owner.",
    "cli.interrupted": "Interrupted.",
    "cli.permission": "Your login may not do this: {detail}.",
    # The app
    "app.title": "clientbase",
    "app.home.login": "Login",
    "app.home.role": "Role",
    "app.home.database": "Database",
    "app.home.schema": "Schema version",
    "app.home.clients": "Clients",
    "app.home.server": "Server",
    "app.home.loading": "Connecting…",
    "app.readonly": "read-only",
    "app.quit": "Quit",
    "app.quit.tooltip": "Leave clientbase",
}


def t(key: str, /, **values: object) -> str:
    """The sentence for `key` with its placeholders filled."""
    return EN[key].format(**values)
