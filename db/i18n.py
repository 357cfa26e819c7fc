"""Every sentence a user can read is a gettext message whose msgid is its English text.

English is the source language. `t(key_or_text, **values)` translates one sentence through the catalog of the
current language and fills its placeholders; `tn` is ngettext (counts), `tp` pgettext (a short, ambiguous
label with its context), `N_` marks a sentence that is translated later, where it is shown.

db/ only marks sentences (a `UserError` keeps its key and values and is translated when it is shown), so it
never needs to know the language; tui/i18n.py chooses the language and installs its catalog here before any
screen is built. Until then, and whenever a catalog lacks a message, the English text is used.

The keys of EN are transitional: tools/i18n_convert.py rewrites the call sites to the English text itself.
"""

from __future__ import annotations

import gettext as _gettext
import string
from decimal import Decimal

_translations: _gettext.NullTranslations = _gettext.NullTranslations()
_locale = "en"


def install(translations: _gettext.NullTranslations, locale: str) -> None:
    """Make `translations` the catalog every later `t`/`tn`/`tp` reads; `locale` (e.g. ru_RU) formats numbers."""
    global _translations, _locale
    _translations = translations
    _locale = locale


def current_locale() -> str:
    return _locale


def N_(text: str) -> str:
    """Marks `text` for extraction; it is translated where it is shown."""
    return text


class _Formatter(string.Formatter):
    """str.format, except that grouped and fixed-point numbers follow the current locale (1 234,5 in ru)."""

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) and format_spec:
            from babel.numbers import format_decimal

            if format_spec == ",":
                return format_decimal(value, locale=_locale)
            if format_spec.endswith("f") and format_spec[:-1].lstrip(",.").isdigit():
                places = int(format_spec[:-1].split(".")[-1])
                pattern = "#,##0" + ("." + "0" * places if places else "")
                return format_decimal(value, format=pattern, locale=_locale)
        if isinstance(value, str) and format_spec == ",":
            return value  # a number its caller formatted already
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def _fill(text: str, values: dict[str, object]) -> str:
    return _FORMATTER.vformat(text, (), values) if values else text


def source_text(key_or_text: str) -> str:
    """The English text behind a transitional key (or the text itself)."""
    return EN.get(key_or_text, key_or_text)


def t(key_or_text: str, /, **values: object) -> str:
    """The sentence in the current language with its placeholders filled."""
    if key_or_text in CONTEXTS:
        return tp(CONTEXTS[key_or_text], source_text(key_or_text), **values)
    return _fill(_translations.gettext(source_text(key_or_text)), values)


def tn(singular: str, plural: str, count: int, /, **values: object) -> str:
    """The sentence for `count` things, in the plural form the current language wants for that number;
    `count` is also the placeholder {count}."""
    return _fill(_translations.ngettext(singular, plural, count), {"count": count, **values})


def tp(context: str, text: str, /, **values: object) -> str:
    """A short label that needs its `context` to be translated right (the same English word, two meanings)."""
    return _fill(_translations.pgettext(context, text), values)


# Keys whose English text is the same word as another's but not the same meaning in every language.
CONTEXTS: dict[str, str] = {
    "card.gender.none": "gender",
    "card.consent.not_given": "consent",
}

EN: dict[str, str] = {
    # Connection and the embedded server
    "db.unreachable": "Cannot reach the database at {where}: {reason}.",
    "db.bad_url": "The database address '{url}' is not a PostgreSQL URL (it should start with postgresql://).",
    "db.auth_failed": "The database refused the login '{login}': wrong password or no such login.",
    "db.no_such_login": "There is no login '{login}' on this database; an administrator can add it with "
    "'clientbase user add {login} --role sales'.",
    "db.url_options": "The database URL sets server options ('{options}'); clientbase sets its own session, so "
    "remove 'options' from the URL.",
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
    "embedded.not_initialised": "There is no embedded database in {home} yet; start 'clientbase' or run "
    "'clientbase init' to create it (or set CLIENTBASE_HOME to where it is).",
    "embedded.only": "This command works on the embedded database only, not on {url}.",
    "embedded.unsafe_socket_dir": "The socket folder {path} already exists and is not a private folder of this "
    "account (a symlink, another user's, or open to others); remove it, or set a shorter CLIENTBASE_HOME.",
    "server.bad_port": "The port must be a number from 1 to 65535, not {port}; nothing was changed.",
    "server.bad_listen": "The address to listen on must be an IP address of this computer (such as 0.0.0.0 for "
    "every network, or 192.168.1.10), '*' or 'localhost', not '{listen}'; nothing was changed.",
    "server.change_failed": "The database server could not start on {where} ({reason}); it runs as before, on "
    "{before}.",
    "server.local_only": "The database server runs for this computer only (no network listener); to open it to "
    "the office network, run 'clientbase server start --listen 0.0.0.0'.",
    "server.started": "The database server is listening on {where}; other terminals connect with\n  {url}",
    "server.running": "The database server in {home} is running (PostgreSQL {version}), {where}.",
    "server.stopped": "The database server in {home} is not running.",
    "server.this_address": "THIS-COMPUTER-ADDRESS",
    "server.stopping": "The database server in {home} has stopped.",
    "server.needs_passwords": "Logins without a password cannot connect over the network; set one with "
    "'clientbase user password LOGIN'.",
    "server.cert_pair": "Give both --cert FILE and --key FILE (a certificate and its private key), or neither to "
    "use the self-signed one; nothing was changed.",
    "server.cert_unreadable": "The file {path} does not exist or cannot be read; nothing was changed.",
    "server.gateway_failed": "The encrypted listener could not start on {where}: {reason}.",
    "server.tls_required": "this server accepts only encrypted connections: add sslmode=require to the "
    "database URL",
    "server.tls_certificate": "Connections are encrypted (TLS) with the certificate {cert}\n  SHA-256 "
    "fingerprint {fingerprint}",
    "server.tls_pin": "To make sure a terminal talks to this server and no other, copy {cert} to it and use "
    "sslmode=verify-ca&sslrootcert=PATH-OF-THE-COPY in the URL instead of sslmode=require.",
    "server.tls_running": "The encrypted listener (TLS) runs on {where}; certificate {cert}, SHA-256 "
    "fingerprint {fingerprint}.",
    "server.tls_not_running": "The encrypted listener (TLS) for {where} is not running, so other terminals "
    "cannot connect; 'clientbase server start' starts it (why it stopped: {log}).",
    # Users and roles
    "user.bad_role": "Unknown role '{role}'; choose one of: {choices}.",
    "user.bad_login": "A login may hold only letters, digits, '_', '.', '@' and '-', up to 63 characters: '{login}'.",
    "user.exists": "The login '{login}' already exists.",
    "user.added": "Added {login} as {role}.",
    "user.password_set": "Password changed for {login}.",
    "user.no_such": "There is no login '{login}'.",
    "user.not_allowed": "Your login '{login}' may not manage logins; ask the administrator.",
    "user.password_empty": "The password read from standard input is empty.",
    "user.password_nul": "A password cannot hold a NUL character.",
    "role.admin": "administrator",
    "role.manager": "manager",
    "role.sales": "salesperson",
    "role.mailer": "mail delivery",
    "role.none": "no clientbase role",
    # Settings
    "settings.unknown": "There is no setting '{key}'; 'clientbase settings list' shows them all.",
    "settings.bad_value": "{key} cannot be '{value}': {reason}.",
    "settings.admin_only": "Only an administrator may change settings.",
    "settings.saved": "{key} = {value}",
    "settings.changed": "changed",
    "settings.my_language": "Your login's language: {language}.",
    "settings.my_language_default": "Your login has no language of its own: the environment's or the shop's applies.",
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
    "valid.kind": "Unknown contact type '{kind}'.",
    # Demo
    "demo.loaded": "Loaded {clients:,} clients and {purchases:,} purchases in {seconds:.1f} s.",
    "demo.not_empty": "The database already holds {count} clients; demo data goes into an empty base only "
    "(use a fresh CLIENTBASE_HOME or database).",
    "demo.bad_count": "The number of clients must be between 1 and 10,000,000.",
    # Init
    "init.done": "Schema is at version {version}.",
    "init.applied": "Applied migration {version}: {name}.",
    "init.blocked": "The upgrade waited {seconds} s for other sessions that keep the tables busy, since: "
    "{sessions}; ask them to close clientbase, then run 'clientbase init' again. Nothing was changed.",
    "init.no_rights": "The login '{login}' may not create the schema or the group roles; run 'clientbase init' "
    "as the database owner.",
    "cli.interrupted": "Interrupted.",
    # Command-line help
    "cli.help.description": "A shared client base for a shop or a small office, in the terminal.",
    "cli.help.database": "a PostgreSQL URL (default: $CLIENTBASE_DATABASE_URL, else the embedded database)",
    "cli.help.user": "the login to use (default: your system user name)",
    "cli.help.lang": "the language to speak: en, ru or ro (default: your login's, else LANG, else the shop's)",
    "cli.help.settings_my_language": "show or set your login's own language (en, ru, ro; 'default' forgets it)",
    "cli.help.init": "create or upgrade the schema and the group roles",
    "cli.help.user_command": "manage logins",
    "cli.help.user_add": "create a login",
    "cli.help.role": "admin, manager, sales or mailer",
    "cli.help.password_stdin": "read the login's password from standard input",
    "cli.help.user_list": "list the logins and their roles",
    "cli.help.user_password": "set a login's password",
    "cli.help.demo": "fill an empty base with realistic synthetic data",
    "cli.help.as_of": "the demo's 'today' (default: today)",
    "cli.help.settings": "the shop's settings",
    "cli.help.settings_list": "every setting with its value",
    "cli.help.settings_get": "one setting's value",
    "cli.help.settings_set": "change a setting (administrator)",
    "cli.help.db": "the database connection",
    "cli.help.db_url": "print the connection URL, for psql",
    "cli.help.server": "the embedded server for the office network",
    "cli.help.server_start": "start it, optionally listening on the network",
    "cli.help.listen": "address to listen on, e.g. 0.0.0.0 for every network (default: this computer only)",
    "cli.help.cert": "a TLS certificate (PEM) for the network listener, instead of the self-signed one",
    "cli.help.key": "the private key (PEM) of --cert",
    "cli.help.server_stop": "stop it",
    "cli.help.server_status": "say whether it runs and where",
    "cli.help.demo_flag": "on an empty base, load {count:,} demo clients before starting",
    "cli.bad_number": "expected a whole number, not '{text}'",
    "cli.bad_positive": "expected a positive number, not '{text}'",
    "cli.bad_date": "expected a date as YYYY-MM-DD, not '{text}'",
    "cli.password_prompt": "Password for {login}: ",
    "cli.new_password_prompt": "New password for {login}: ",
    "cli.permission": "Your login may not do this: {detail}.",
    "cli.no_terminal_for_password": "There is no terminal to type the password at; pass it with --password-stdin.",
    "cli.password_not_given": "No password was given; nothing changed.",
    "cli.password_not_text": "The password read from standard input is not UTF-8 text.",
    "cli.bad_text": "{option} holds bytes that are not UTF-8 text; check the terminal's or the file's encoding.",
    # Import
    "import.no_file": "There is no file {path}.",
    "import.admin_only": "Only the administrator imports; the login '{login}' may read the base but not change it.",
    "import.busy": "Another import is running (by '{login}', since {since}); nothing was written: import this file "
    "again when it has finished.",
    "import.cannot_read": "Cannot read {path}: {reason}.",
    "import.cannot_write_rejects": "The valid rows were imported, but the rejected ones could not be written to "
    "{path}: {reason}.",
    "export.cannot_write": "Cannot write {path}: {reason}.",
    "import.nul_byte": "Line {line} of {path} holds a NUL byte, so it is not a text CSV (perhaps a binary file, "
    "or UTF-16): save it from Excel as \"CSV UTF-8\" and import that.",
    "import.line_too_long": "Line {line} of {path} is longer than {limit:,} KB (it begins '{begins}'), which no row of "
    "a client list is; check that this is the CSV you meant.",
    "import.bad_csv": "{path} cannot be read as CSV at line {line}: {reason}; a quote left open makes the rest of "
    "the file one cell.",
    "import.bad_encoding": "Line {line} of {path} is neither UTF-8 nor Windows-1251 text (it begins '{begins}'); "
    "save the file as \"CSV UTF-8\" and import it again.",
    "import.mixed_encoding": "Line {line} of {path} is in {other} while the lines before it are in {encoding} "
    "(it begins '{begins}'); save the whole file in one encoding (\"CSV UTF-8\" in Excel) and import it again.",
    "import.xlsx_too_large": "The workbook {path} would unpack to {size:,} MB, more than an import reads (up to "
    "{limit:,} MB of sheets); it is damaged or not a client list: save the sheet as CSV and import that.",
    "import.empty_file": "The file {path} has no header row, so there is nothing to import.",
    "import.bad_xlsx": "The file {path} is not an Excel workbook that can be read (XLSX).",
    "import.no_sheet": "The workbook has no sheet '{sheet}'; its sheets are: {sheets}.",
    "import.bad_map": "--map expects COLUMN=FIELD, such as 'Телефон=mobile', not '{pair}'.",
    "import.map_no_column": "--map names the column '{column}', which the file does not have; its columns are: "
    "{columns}.",
    "import.map_no_field": "--map names the field '{field}', which does not exist; use one of: {fields}, "
    "custom.NAME or skip.",
    "import.no_name_column": "No column of the file looks like a name or a company (columns: {columns}); "
    "say which one it is with --map, e.g. --map 'Клиент=full_name'.",
    "import.no_client_column": "A purchase file needs a column with the client number, phone or e-mail; say "
    "which one it is with --map, e.g. --map 'Карта=client_key'.",
    "import.no_purchase_columns": "A purchase file needs a date column and an amount column; say which they are "
    "with --map, e.g. --map 'Дата=purchased_at' --map 'Сумма=amount'.",
    "import.reason.date": "'{value}' is not a date (expected e.g. 31.12.1985 or 1985-12-31)",
    "import.reason.number": "'{value}' is not a valid {what}",
    "import.reason.too_large": "the {what} '{value}' is too large",
    "import.reason.yes_no": "'{value}' is neither yes nor no",
    "import.reason.gender": "'{value}' is not a gender (expected m or f)",
    "import.reason.columns": "the row has {found} columns where the header has {expected}",
    "import.reason.no_name": "the row has neither a name nor a company",
    "import.reason.no_client": "the row names no client (client number, phone or e-mail)",
    "import.reason.no_date_amount": "the row lacks the date or the amount of the purchase",
    "import.reason.unknown_client": "no client with this number, phone or e-mail in the base "
    "(import the clients first, or use --create-missing)",
    "import.reason.vcard_no_end": "the card has no END:VCARD before the next BEGIN:VCARD (a card inside a card, "
    "or its end missing)",
    "import.reason.vcard_unfinished": "the file ends inside this card, with no END:VCARD",
    "import.reason.vcard_outside": "text outside any card (between an END:VCARD and the next BEGIN:VCARD)",
    "import.reason.nul": "the row holds a NUL character, which no text field may contain",
    "import.reason_header": "Reason rejected",
    "import.what.amount": "amount",
    "import.what.cost": "cost",
    "import.what.quantity": "quantity",
    "import.tab": "tab",
    "backup.tool_failed": "{tool} stopped without saying why",
    "import.unnamed_client": "Client {key}",
    "import.consent_source": "import of {file}",
    "import.stage.read": "Reading rows",
    "import.stage.match": "Matching",
    "import.stage.write": "Writing",
    "import.stage.check": "Checking",
    "import.rate": "{rate} rows/s",
    "import.format.csv": "CSV, {encoding}, separator {delimiter}",
    "import.format.xlsx": "Excel, sheet '{sheet}'",
    "import.format.vcf": "vCard",
    "import.read": "{file} ({format}):",
    "import.summary.rows": "  rows read:                   {count:,}",
    "import.summary.new": "  new clients:                 {count:,}",
    "import.summary.updated": "  clients updated:             {count:,}",
    "import.summary.unchanged": "  clients already up to date:  {count:,}",
    "import.summary.dup_file": "  duplicate rows in the file:  {count:,} (merged into one client each)",
    "import.summary.dup_base": "  already in the base:         {count:,} (matched by client number, phone or e-mail)",
    "import.summary.contacts": "  phones and e-mails added:    {count:,}",
    "import.summary.purchases": "  purchases added:             {count:,}",
    "import.summary.already": "  purchases already in base:   {count:,}",
    "import.summary.created": "  clients created (minimal):   {count:,}",
    "import.summary.invalid": "  invalid rows:                {count:,}",
    "import.summary.reason": "    {count:,} × {reason}",
    "import.summary.reject": "    row {row}: {reason}",
    "import.summary.reject_file": "Invalid rows are in {path}, each with its reason; fix them and import that file.",
    "import.summary.unknown_columns": "Columns not imported: {columns}. To keep one as a custom field: "
    "--map '{example}=custom.name'.",
    "import.dry_run": "Dry run: nothing was written.",
    # Export
    "export.not_allowed": "The login '{login}' ({role}) may not export client lists; an administrator can allow "
    "salespeople with 'clientbase settings set sales_may_export yes'.",
    "export.no_mailing_list": "Mailing lists are exported by the administrator or the manager, because they must "
    "leave out unsubscribed addresses.",
    "export.no_segment": "There is no segment '{name}'; the segments are: {names}.",
    "export.purchases_format": "Purchases export to CSV or XLSX only.",
    "export.no_folder": "The folder {folder} does not exist.",
    "export.unknown_format": "Cannot tell the format from the name '{name}': end it in .csv, .xlsx, .vcf or .txt, "
    "or say which with --format.",
    "export.format_mismatch": "The name '{name}' does not end in .{format}, the format asked for; name the file "
    "after what it holds, so that the right program opens it.",
    "export.bad_delimiter": "The separator must be one character (or 'tab'), not '{delimiter}'.",
    "export.stage.write": "Exporting",
    "export.done": "Exported {count:,} rows to {path}.",
    # Backup and restore
    "backup.stage.dump": "Backing up tables",
    "backup.stage.restore": "Restoring",
    "backup.failed": "The backup failed: {reason}.",
    "restore.failed": "The restore failed and changed nothing: {reason}.",
    "backup.done": "Saved {tables} tables ({rows:,} rows) to {path}; keep {manifest} beside it, restore checks "
    "against it.",
    "backup.not_a_backup": "{path} is not a clientbase backup (a pg_dump custom-format file).",
    "backup.bad_manifest": "{path} is damaged; move it away to restore without checking the counts.",
    "backup.not_empty": "The database at {where} already holds clients; restore into an empty one, or add --force "
    "to replace everything in it.",
    "backup.restored": "Restored and checked: {tables} tables, {rows:,} rows, every count and checksum as at "
    "the backup.",
    "backup.restored_unverified": "Restored {path}; there was no manifest beside it, so the counts were not "
    "checked.",
    "backup.mismatch": "The restore finished but differs from the backup in: {tables}.",
    # The import and export dialogs
    "import.ui.title": "Import clients or purchases from a file (CSV, XLSX, vCard)",
    "import.ui.path": "Path of the file, e.g. ~/Documents/clients.csv",
    "import.ui.purchases": "Purchases",
    "import.ui.overwrite": "Overwrite",
    "import.ui.create_missing": "Create missing",
    "import.ui.hint": "Check the file first: nothing is written until you confirm.",
    "import.ui.check": "Check",
    "import.ui.check.tip": "Read the file and say what an import would do, writing nothing",
    "import.ui.run": "Import",
    "import.ui.run.tip": "Import the checked file, all of it or nothing",
    "import.ui.confirm": "Press Import (Ctrl+S) to write this, or change the file and check again.",
    "import.ui.check_first": "Check the file first, so that you see what will be written.",
    "import.ui.no_path": "Type the path of a file.",
    "import.ui.close": "Close",
    "import.ui.close.tip": "Close this dialog",
    "import.ui.wait": "Please wait until the job finishes.",
    # Command-line help of import, export, backup and restore
    "import.help": "import clients (or purchases) from CSV, XLSX or vCard",
    "import.help.dry_run": "say what would happen; write nothing",
    "import.help.map": "which field a column holds, e.g. 'Моб. телефон=mobile', 'Хобби=custom.hobby' or "
    "'Столбец=skip'; repeatable",
    "import.help.purchases": "the file holds purchases, not clients",
    "import.help.sheet": "the sheet of an XLSX file (default: the first)",
    "import.help.overwrite": "let the file replace non-empty fields of clients already in the base",
    "import.help.create_missing": "with --purchases: create a minimal card for an unknown client number",
    "export.help": "export clients (or purchases) to CSV, XLSX, vCard or a mailing list",
    "export.help.format": "default: from the file name's extension, else csv",
    "export.help.segment": "only the clients of this saved segment",
    "export.help.search": "only the clients this search finds",
    "export.help.encoding": "CSV encoding (default utf-8-sig, which Excel opens with Cyrillic intact)",
    "export.help.delimiter": "CSV separator (default ';', what Excel expects in Russian and Romanian locales); "
    "'tab' for a tab",
    "export.help.channel": "with --format txt: a list of e-mail addresses or of phone numbers",
    "export.help.purchases": "export the purchases of those clients instead",
    "backup.help": "save the whole base to a file (pg_dump, custom format)",
    "backup.help.restore": "restore a backup into an empty database",
    "backup.help.force": "replace a database that is not empty",
    "export.ui.title": "Export the clients the list shows",
    "export.ui.hint": "The file gets the clients of the current search and filters.",
    "export.ui.run": "Export",
    "export.ui.run.tip": "Write the clients of the current search and filters to the file",
    "export.ui.format.csv": "CSV for Excel",
    "export.ui.format.xlsx": "Excel workbook (XLSX)",
    "export.ui.format.vcf": "vCard for address books",
    "export.ui.format.txt": "Mailing list (Name <e-mail>)",
    # The app
    "app.title": "clientbase",
    "app.loading": "Connecting…",
    "app.readonly": "read-only",
    "app.quit": "Quit",
    "app.quit.tooltip": "Leave clientbase",
    "mode.clients": "Clients",
    "mode.clients.tooltip": "The client list: search, filters, segments and the cards",
    # The card editor
    "card.read_only": "Your login is read-only: only an administrator may change client data.",
    "card.unreachable": "The database cannot be reached; your changes are kept in the editor, save again "
    "once it is back.",
    "card.gone": "This client no longer exists; someone may have deleted or merged it.",
    "card.field_gone": "This custom field no longer exists; someone may have deleted it.",
    "card.saved": "Saved.",
    "card.new": "New client",
    "card.invalid": "Not saved: {reason}",
    "card.readonly_mark": "READ-ONLY",
    "card.editing_by": "being edited by {login} since {since}",
    "card.refreshed": "Someone else saved this card; it now shows their version.",
    "card.changed_elsewhere": "Someone else saved this card a moment ago; your save will show both versions.",
    "card.valid.name_required": "A last or first name is required.",
    "card.date_hint.day_first": "dd.mm.yyyy",
    "card.date_hint.iso": "yyyy-mm-dd",
    "card.valid.birth_past": "A birth date must be after 1 January 1900.",
    "card.valid.gender": "Gender is m, f or empty.",
    "card.valid.one_primary": "Only one {kind} contact can be the primary one.",
    "card.valid.relation": "Unknown relation.",
    "card.valid.number": "Expected a number such as 12 or 12.5.",
    "card.valid.choice": "Expected one of: {choices}.",
    "card.valid.bool": "Expected yes or no.",
    "card.valid.no_lines": "A purchase needs at least one line.",
    "card.valid.quantity": "The quantity must be more than zero.",
    "card.valid.price": "The price cannot be negative.",
    "card.valid.ends_before": "The end date is before the start date.",
    "card.valid.interaction_kind": "Unknown kind of interaction.",
    "card.valid.field_name": "A field name starts with a small Latin letter and holds only a-z, 0-9 and _.",
    "card.valid.field_type": "The type is one of: {choices}.",
    "card.valid.no_choices": "A choice field needs at least one choice.",
    "card.valid.field_exists": "There is already a field named '{name}'.",
    "card.valid.merge_self": "A card cannot be merged with itself.",
    "card.tab.main": "Main",
    "card.tab.contacts": "Contacts",
    "card.tab.family": "Family",
    "card.tab.purchases": "Purchases",
    "card.tab.activity": "Activity",
    "card.tab.reminders": "Reminders",
    "card.tab.custom": "Custom",
    "card.tab.consent": "Consent",
    "card.key.save": "Save",
    "card.key.save.tip": "Save the card (only when every field is valid)",
    "card.key.close": "Close",
    "card.key.close.tip": "Close the card; asks first if there are unsaved changes",
    "card.key.tabs": "Tabs",
    "card.key.tab.tip": "Show the {tab} tab",
    "card.key.add_contact": "Add contact",
    "card.key.add_relative": "Add relative",
    "card.key.add_purchase": "Add purchase",
    "card.key.add_subscription": "Add subscription",
    "card.key.add_interaction": "Add interaction",
    "card.key.add_reminder": "Add reminder",
    "card.key.tick": "Done",
    "card.key.tick.tip": "Tick the selected reminder off (or back on)",
    "card.key.remove": "Remove row",
    "card.key.remove.tip": "Remove the contact or relative the cursor is in",
    "card.key.pick_referrer": "Referred by",
    "card.key.pick_referrer.tip": "Choose the client who referred this one",
    "card.key.merge": "Merge",
    "card.key.merge.tip": "Merge another client's card into this one",
    "card.key.fields": "Define fields",
    "card.key.fields.tip": "Define the custom fields every card shows",
    "card.key.add.tip": "{what} to this client",
    "card.f.last_name": "Last name",
    "card.f.first_name": "First name",
    "card.f.middle_name": "Middle name",
    "card.f.gender": "Gender",
    "card.f.birth_date": "Birth date",
    "card.f.company": "Company",
    "card.f.position": "Position",
    "card.f.region": "Region",
    "card.f.city": "City",
    "card.f.address": "Address",
    "card.f.postal_address": "Postal address",
    "card.f.source": "Source",
    "card.f.referred_by_id": "Referred by",
    "card.f.assigned_to": "Salesperson",
    "card.f.tags": "Tags",
    "card.f.notes": "Notes",
    "card.f.consent_email": "E-mail consent",
    "card.f.consent_email_source": "E-mail source",
    "card.f.consent_sms": "SMS consent",
    "card.f.consent_sms_source": "SMS source",
    "card.f.contacts": "Contacts",
    "card.f.relatives": "Relatives",
    "card.gender.m": "male",
    "card.gender.f": "female",
    "card.gender.none": "not given",
    "card.relation.child": "child",
    "card.relation.spouse": "spouse",
    "card.relation.parent": "parent",
    "card.relation.other": "other",
    "card.primary": "primary",
    "card.none": "none",
    "card.summary": "{category} · {count} purchases · {spent} spent · {profit} profit",
    "card.favourites": "Favourite products: {products}",
    "card.subscriptions": "Subscriptions",
    "card.purchases": "Purchases",
    "card.consent.given": "given {at} ({source})",
    "card.consent.not_given": "not given",
    "card.consent.suppressed": "{address}: {reason} — mailings skip it",
    "card.consent.none_suppressed": "No address of this client is unsubscribed or bounced.",
    "card.ask.discard.title": "Save the changes?",
    "card.ask.discard": "This card has unsaved changes. Save them before closing, or close and lose them?",
    "card.ask.discard.save": "Save and close",
    "card.ask.discard.yes": "Discard",
    "card.ask.discard.no": "Keep editing",
    "card.duplicate.title": "Possible duplicate",
    "card.duplicate.body": "{matched} already belongs to {name} (#{id}).",
    "card.duplicate.open": "Open that card",
    "card.duplicate.save": "Save anyway",
    "card.duplicate.back": "Back",
    "card.conflict.title": "Someone else saved this card",
    "card.conflict.intro": "{login} saved it at {at}. Differing fields are highlighted; Space picks a side per field.",
    "card.conflict.mine": "Mine",
    "card.conflict.theirs": "Theirs",
    "card.conflict.field": "Field",
    "card.conflict.keep": "Keep mine",
    "card.conflict.take": "Take theirs",
    "card.conflict.merge": "Merge as marked",
    "card.conflict.toggle": "Switch side",
    "card.conflict.cancel": "Back to editing",
    "card.pick.title": "Choose a client",
    "card.pick.placeholder": "Type a part of the name",
    "card.pick.clear": "No one",
    "card.merge.title": "Merge another card into #{id} {name}",
    "card.merge.explain": "The other card's contacts, purchases, subscriptions, relatives, interactions and "
    "reminders move here, its data fills this card's empty fields, and the other card is deleted.",
    "card.merge.confirm": "Merge {other} into this card? This cannot be undone.",
    "card.merge.done": "Merged #{other} into this card.",
    "card.fields.title": "Custom fields",
    "card.fields.name": "Name",
    "card.fields.name_hint": "the key of the stored values: a-z, 0-9 and _",
    "card.fields.label": "Label",
    "card.fields.type": "Type",
    "card.fields.choices": "Choices",
    "card.fields.choices_hint": "for a choice field: comma-separated",
    "card.fields.add": "Add field",
    "card.fields.update": "Save field",
    "card.fields.delete": "Delete field",
    "card.fields.up": "Move up",
    "card.fields.down": "Move down",
    "card.fields.new": "New field",
    "card.fields.type.text": "text",
    "card.fields.type.number": "number",
    "card.fields.type.date": "date",
    "card.fields.type.choice": "choice",
    "card.fields.type.bool": "yes/no",
    "card.form.ok": "Add",
    "card.form.cancel": "Cancel",
    "card.form.date": "Date",
    "card.form.channel": "Channel",
    "card.form.product": "Product",
    "card.form.quantity": "Quantity",
    "card.form.price": "Price",
    "card.form.description": "Description",
    "card.form.starts_on": "Starts on",
    "card.form.ends_on": "Ends on",
    "card.form.kind": "Kind",
    "card.form.text": "Text",
    "card.form.outcome": "Outcome",
    "card.form.due_on": "Due on",
    "card.form.assignee": "Assignee",
    "card.form.note": "Note",
    "card.col.date": "Date",
    "card.col.items": "Items",
    "card.col.amount": "Amount",
    "card.col.profit": "Profit",
    "card.col.channel": "Channel",
    "card.col.product": "Product",
    "card.col.from": "From",
    "card.col.until": "Until",
    "card.col.kind": "Kind",
    "card.col.author": "Author",
    "card.col.text": "Text",
    "card.col.outcome": "Outcome",
    "card.col.due": "Due",
    "card.col.done": "Done",
    "card.col.assignee": "Assignee",
    "card.channel.shop": "shop",
    "card.channel.online": "online",
    "card.channel.phone": "phone",
    "card.interaction.call": "call",
    "card.interaction.meeting": "meeting",
    "card.interaction.email": "e-mail",
    "card.interaction.sms": "SMS",
    "card.interaction.note": "note",
    "card.expired": "expired",
    "card.back_save": "Connected again; press Ctrl+S to save your changes.",
    "card.form.add_line": "Add line",
    "card.form.remove_line": "Remove line",
    "card.valid.line_product": "Each line needs a product or a description.",
    "card.conflict.yes": "yes",
    "card.consent.opt_in": "agrees to receive",
    "card.conflict.no": "no",
    "card.merge.stale": "Someone saved this card a moment ago; close it, open it again and merge then.",
    "card.merge.save_first": "Save or discard your changes to this card before merging another into it.",
    "card.fields.stale": "Someone changed this field a moment ago; it now shows their version.",
    "card.fields.delete_ask": "Delete the field '{label}'? Values already typed into cards are kept and come "
    "back if a field of the same name is created again.",
    "card.kind.mobile": "mobile",
    "card.kind.home": "home phone",
    "card.kind.work": "work phone",
    "card.kind.email": "e-mail",
    "card.kind.telegram": "Telegram",
    "card.kind.whatsapp": "WhatsApp",
    "card.kind.skype": "Skype",
    "card.kind.vk": "VK",
    "card.kind.website": "website",
    # The clients list
    "clients.no_segment": "That segment no longer exists; someone may have deleted it.",
    "clients.segment_name_empty": "A segment needs a name.",
    "clients.segment_admin_only": "Only an administrator may save segments.",
    "clients.segment_name_taken": "Another segment already has that name; choose another one.",
    "clients.search_bad_char": "The search text holds a character that cannot be searched for (a NUL or a "
    "broken character); type it again.",
    "clients.search_too_long": "A search may hold at most {words} words and {chars} characters; shorten it.",
    "list.cursor_up": "Up",
    "list.cursor_up.tooltip": "Select the row above",
    "list.cursor_down": "Down",
    "list.cursor_down.tooltip": "Select the row below",
    "list.page_up": "Page up",
    "list.page_up.tooltip": "Go up one screenful",
    "list.page_down": "Page down",
    "list.page_down.tooltip": "Go down one screenful",
    "list.first": "First",
    "list.first.tooltip": "Go to the first row",
    "list.last": "Last",
    "list.last.tooltip": "Go to the last row found so far",
    "list.choose": "Open",
    "list.choose.tooltip": "Open the selected row",
    "tabs.previous": "Previous tab",
    "tabs.previous.tooltip": "Show the tab on the left",
    "tabs.next": "Next tab",
    "tabs.next.tooltip": "Show the tab on the right",
    "clients.col.name": "Name",
    "clients.col.phone": "Phone",
    "clients.col.email": "E-mail",
    "clients.col.city": "City",
    "clients.col.category": "Category",
    "clients.col.last_purchase": "Last buy",
    "clients.col.total_spent": "Spent",
    "clients.category.potential": "potential",
    "clients.category.one-time": "one-time",
    "clients.category.regular": "regular",
    "clients.filter.category": "Category",
    "clients.filter.segment": "Segment",
    "clients.filter.segment_id": "Segment",
    "clients.filter.tag": "Interest (tag)",
    "clients.filter.region": "Region",
    "clients.filter.city": "City",
    "clients.filter.assigned_to": "Salesperson (login)",
    "clients.filter.gender": "Gender",
    "clients.filter.age_min": "Age from",
    "clients.filter.age_max": "Age to",
    "clients.filter.has_children": "Has children",
    "clients.filter.birthday_within": "Birthday within days",
    "clients.filter.no_purchase_days": "No purchase for days",
    "clients.filter.spent_min": "Spent from",
    "clients.filter.spent_max": "Spent up to",
    "clients.filter.custom": "Custom field = value",
    "clients.any": "any",
    "clients.yes": "yes",
    "clients.no": "no",
    "clients.gender.m": "male",
    "clients.gender.f": "female",
    "clients.key.new": "New",
    "clients.key.new.tip": "Create a new client card",
    "clients.key.filters": "Filters",
    "clients.key.filters.tip": "Choose filters for the list",
    "clients.key.clear": "Clear",
    "clients.key.clear.tip": "Remove every filter and the loaded segment",
    "clients.key.sort": "Sort",
    "clients.key.sort.tip": "Sort by name, last purchase, total spent or date added, in turn",
    "clients.key.segments": "Segments",
    "clients.key.segments.tip": "Load a saved segment",
    "clients.key.save_segment": "Save segment",
    "clients.key.save_segment.tip": "Save the current search and filters as a segment",
    "clients.key.import": "Import",
    "clients.key.import.tip": "Import clients or purchases from a CSV, XLSX or vCard file",
    "clients.key.export": "Export",
    "clients.key.export.tip": "Export the clients the list shows now to a file",
    "clients.key.refresh": "Refresh",
    "clients.key.refresh.tip": "Read the list again from the database",
    "clients.key.search": "Search",
    "clients.key.search.tip": "Go to the search box",
    "clients.key.list": "List",
    "clients.key.list.tip": "Go from the search box to the list",
    "clients.search.placeholder": "Search: name, phone, e-mail or company",
    "clients.loading": "Loading…",
    "clients.none": "No client matches.",
    "clients.counting": "counting…",
    "clients.sorted_by": "sorted by {sort}",
    "clients.sort.name": "name",
    "clients.sort.last_purchase": "last purchase",
    "clients.sort.total_spent": "total spent",
    "clients.sort.created": "date added",
    "clients.fuzzy": "few exact matches, similar names shown too",
    "clients.filters_active": "Filters: {filters}  (x clears)",
    "clients.segment_saved": "Saved the segment '{name}'.",
    "clients.filters.title": "Filters",
    "clients.filters.hint": "→ completes · Ctrl+S or Enter applies · Esc cancels · Ctrl+R empties",
    "clients.filters.apply": "Apply",
    "clients.filters.apply.tip": "Apply these filters to the list",
    "clients.filters.cancel": "Cancel",
    "clients.filters.cancel.tip": "Close without changing the filters",
    "clients.filters.reset": "Empty",
    "clients.filters.reset.tip": "Empty every filter in this panel",
    "clients.filters.bad_number": "{field} must be a number.",
    "clients.filters.out_of_range": "expected a number from {low} to {high:,}.",
    "clients.segments.title": "Segments",
    "clients.segments.hint": "Enter loads the segment · Esc closes",
    "clients.segments.hint_admin": "Enter loads · r renames · Del deletes · Esc closes",
    "clients.segments.key.load": "Load",
    "clients.segments.key.load.tip": "Load the highlighted segment's search and filters into the list",
    "clients.segments.key.rename": "Rename",
    "clients.segments.key.rename.tip": "Give the highlighted segment another name",
    "clients.segments.key.delete": "Delete",
    "clients.segments.key.delete.tip": "Delete the highlighted segment, after asking",
    "clients.segments.rename_title": "Rename the segment '{name}'",
    "clients.segments.rename_hint": "Enter renames · Esc cancels",
    "clients.segments.delete_title": "Delete the segment?",
    "clients.segments.delete_body": "The segment '{name}' will be deleted for everyone. Its clients stay as they are.",
    "clients.segments.delete_yes": "Delete",
    "clients.segments.delete_no": "Keep it",
    "clients.segment_renamed": "Renamed the segment to '{name}'.",
    "clients.segment_deleted": "Deleted the segment '{name}'.",
    "clients.segments.none": "No segment has been saved yet.",
    "clients.segments.cancel.tip": "Close without loading a segment",
    "clients.segments.save_title": "Save the current search and filters as a segment",
    "clients.segments.name": "Segment name",
    "clients.segments.save_hint": "Enter saves (a segment of the same name is replaced) · Esc cancels",
    "analytics.help": "Analytics: ABC, A-E, RFM, lifetime value (refresh, export)",
    "analytics.help.refresh": "Recompute the analytics and publish them (administrators)",
    "analytics.help.as_of": "Analysis date (default: today in the shop's time zone)",
    "analytics.help.period_days": "Days of the period for ABC and A-E, ending with the analysis date (default 365)",
    "analytics.help.export": "Write one row per client of the current analytics to a CSV file",
    "analytics.bad_period": "The period must be at least one day.",
    "analytics.busy": "Another analytics refresh is running; try again when it has finished.",
    "analytics.refresh_denied": "Only an administrator may refresh the analytics.",
    "analytics.no_results": "The analytics have not been computed yet; run `clientbase analytics refresh`.",
    "analytics.exported": "Wrote {count} clients to {path}.",
    "analytics.refreshed": "Analytics as of {as_of}: {clients} clients, {buyers} buyers, computed in {seconds:.2f} s.",
    "analytics.step.summary": "Summing up the purchases",
    "analytics.step.fit": "Fitting the lifetime-value models",
    "analytics.step.scoring": "Scoring the clients",
    "analytics.step.classes": "Classes, scores and segments",
    "analytics.step.aggregates": "Dashboard tables",
    "analytics.step.movement": "Movement since the last refresh",
    "analytics.step.publish": "Publishing",
    "clv.too_few_buyers": "Lifetime value is not reliable yet: {count} buyers, at least {minimum} are needed.",
    "clv.too_short_history": "Lifetime value is not reliable yet: {days} days of history, {minimum} are needed.",
    "clv.too_few_repeat_buyers": "Lifetime value is not reliable yet: {count} repeat buyers, {minimum} are needed.",
    "clv.fit_failed": "Lifetime value is not reliable: the {model} model did not fit these data.",
    # The dashboard (screens/dashboard)
    "mode.dashboard": "Dashboard",
    "mode.dashboard.tooltip": "ABC, A–E and RFM classes, revenue, lifetime value; every number leads to its clients",
    "dashboard.loading": "Reading the stored analytics…",
    "dashboard.never": "The analytics have not been computed yet; an administrator refreshes them (key r here, "
    "or `clientbase analytics refresh`).",
    "dashboard.never_admin": "The analytics have not been computed yet; press r to compute them.",
    "dashboard.empty": "There are no purchases up to this date yet, so every table is empty; they fill in once "
    "clients buy.",
    "dashboard.status": "As of {as_of}, over {days} days · computed {age} · {clients} clients, {buyers} buyers · "
    "Enter on a number lists its clients",
    "dashboard.age.now": "just now",
    "dashboard.age.minutes": "{n} min ago",
    "dashboard.age.hours": "{n} h ago",
    "dashboard.age.days": "{n} days ago",
    "dashboard.refreshed": "The analytics were refreshed in {seconds:.1f} s.",
    "dashboard.no_movement": "Movement shows after the second refresh: it compares each client's classes with "
    "those of the refresh before.",
    "dashboard.clv_unreliable.too_few_buyers": "Lifetime value is not reliable yet: too few buyers (at least "
    "500 are needed).",
    "dashboard.clv_unreliable.too_short_history": "Lifetime value is not reliable yet: the purchase history is "
    "too short (at least 180 days are needed).",
    "dashboard.clv_unreliable.too_few_repeat_buyers": "Lifetime value is not reliable yet: too few clients have "
    "bought twice.",
    "dashboard.clv_unreliable.fit_failed": "Lifetime value is not reliable: the models did not fit these data.",
    "dashboard.key.refresh": "Refresh",
    "dashboard.key.refresh.tip": "Recompute the analytics for a date and period, in the background",
    "dashboard.key.reload": "Reload",
    "dashboard.key.reload.tip": "Read the stored results again (another terminal may have refreshed them)",
    "dashboard.key.help": "Rules",
    "dashboard.key.help.tip": "How every class, score and segment is computed",
    "dashboard.key.tab.tip": "Show this tab of the dashboard",
    "dashboard.cancel": "Cancel",
    "dashboard.cancel.tip": "Close without refreshing",
    "dashboard.close": "Close",
    "dashboard.close.tip": "Back to the dashboard",
    "dashboard.refresh.title": "Refresh the analytics",
    "dashboard.refresh.as_of": "Analysis date (YYYY-MM-DD)",
    "dashboard.refresh.period": "Period, days (ABC, A–E)",
    "dashboard.refresh.hint": "Enter starts (in the background) · Esc cancels",
    "dashboard.tab.classes": "1 Classes",
    "dashboard.tab.rfm": "2 RFM",
    "dashboard.tab.revenue": "3 Revenue",
    "dashboard.tab.value": "4 Value",
    "dashboard.tab.movement": "5 Movement",
    "dashboard.title.abc": "ABC by revenue in the period",
    "dashboard.title.ae": "A–E by profitability and potential (E: cost more than they bring)",
    "dashboard.title.buyers": "Buyers as of the analysis date",
    "dashboard.title.segments": "RFM segments",
    "dashboard.title.rf": "Clients by R score (rows) and F score (columns)",
    "dashboard.title.months": "Revenue by month, and each month's new clients",
    "dashboard.title.pareto": "Pareto curve: the top share of buyers and their share of the revenue",
    "dashboard.title.clv": "Expected value of the next 12 months",
    "dashboard.title.top": "Top clients by expected value",
    "dashboard.title.inactive": "Gone quiet, by what they used to spend (Enter opens the card)",
    "dashboard.col.spent": "Spent",
    "dashboard.col.quiet_days": "Quiet, days",
    "dashboard.title.move_segment": "Moves between RFM segments since the refresh before",
    "dashboard.title.move_abc": "ABC: from (rows) to (columns)",
    "dashboard.title.move_ae": "A–E: from (rows) to (columns)",
    "dashboard.col.class": "Class",
    "dashboard.col.clients": "Clients",
    "dashboard.col.revenue": "Revenue",
    "dashboard.col.share": "Share",
    "dashboard.col.per_client": "Per client",
    "dashboard.col.who": "Who",
    "dashboard.col.segment": "Segment",
    "dashboard.col.avg_order": "Avg order",
    "dashboard.col.month": "Month",
    "dashboard.col.new": "New",
    "dashboard.col.returned": "Back ≤90 d",
    "dashboard.col.top_clients": "Top buyers",
    "dashboard.col.revenue_share": "Revenue",
    "dashboard.col.expected_value": "Expected 12 m",
    "dashboard.col.expected_purchases": "Purchases",
    "dashboard.col.p_alive": "Active",
    "dashboard.col.client": "Client",
    "dashboard.col.from_to": "From ↓ to →",
    "dashboard.col.from": "From",
    "dashboard.col.to": "To",
    "dashboard.bought.prospect": "Never bought",
    "dashboard.bought.one-time": "Bought once",
    "dashboard.bought.regular": "Regular (2+)",
    "dashboard.inactive": "Quiet ≥{days} days",
    "dashboard.help.title": "How the dashboard's numbers are computed",
    "dashboard.help.hint": "↑ ↓ scroll · Esc closes",
    "dashboard.help.text": (
        "Days are the shop's calendar days in its time zone (the timezone setting): a purchase at 23:30 Moscow "
        "time on 5 March is a 5 March purchase. The analysis date is included; the period is the days ending "
        "with it.\n\n"
        "ABC by revenue in the period: clients sorted by revenue, descending; ties are broken by client id. A "
        "client is A while the revenue of the clients before it is under 80 % of the total (so the client that "
        "crosses 80 % is A), B while under 95 %, otherwise C. A client with no revenue in the period is C.\n\n"
        "A–E by profitability and potential: E are the clients whose profit in the period (amount − cost) is "
        "negative. The others are scored: profit in the period + the expected 12-month value times the "
        "client's lifetime margin (profit / revenue, clipped to 0..1), without the expected part while the "
        "lifetime value is not reliable. With q1, q2, q3 the 25th, 50th and 75th percentiles of that score: A "
        "above q3, B above q2, C above q1, D otherwise.\n\n"
        "RFM over each client's whole history up to the analysis date: R = days since the last purchase, F = "
        "number of purchases, M = total amount; a refund counts toward M, not F. Scores 1–5 come from value "
        "thresholds, the 20th, 40th, 60th and 80th percentiles of values that occur: F score = 1 + the number "
        "of thresholds F is strictly above (M likewise), R score = 5 − the number R is strictly above. Tie "
        "rule: equal values always get equal scores, however many clients share them (most share F = 1), "
        "so a score may hold more or fewer than a fifth of the clients.\n\n"
        "Segments: the first rule of the map, in its order, whose R range holds the R score and whose F+M "
        "range holds the mean of the F and M scores (the administrator can edit the map): Champions R 4–5, "
        "F+M 4–5 · Loyal R 2–5, F+M 3–5 · New R 4–5, F+M 1 · Promising R 3–4, F+M 1 · Potential loyalists "
        "R 3–5, F+M 1–3 · Need attention R 2–3, F+M 2–3 · About to sleep R 2–3, F+M 1–2 · Can't lose them "
        "R 1, F+M 4–5 · At risk R 1–2, F+M 2–5 · Lost R 1, F+M 1 · Hibernating R 1–2, F+M 1–2. Clients with "
        "no purchase are Prospects, outside the grid.\n\n"
        "Lifetime value: the BG/NBD model gives the expected purchases and the probability that a client is "
        "still active, Gamma-Gamma the expected order value; both fitted by maximum likelihood. Below 500 "
        "buyers or 180 days of history the numbers are not shown.\n\n"
        "Cohorts: the clients whose first purchase fell in a month, and the share of them who bought again "
        "within 90 days. Movement compares each client's classes with those of the refresh before."),
    "clients.filter.abc_class": "ABC class",
    "clients.filter.ae_class": "A–E class",
    "clients.filter.rfm_segment": "RFM segment",
    "clients.filter.rfm_cell": "R × F",
    "clients.filter.segment_move": "Moved (RFM)",
    "clients.filter.abc_move": "Moved (ABC)",
    "clients.filter.ae_move": "Moved (A–E)",
    "clients.filter.cohort": "First purchase in",
    "clients.filter.analytics_category": "Bought (analytics)",
    "clients.filter.inactive_days": "Quiet for days (analytics)",
    "clients.filter.clv_bucket": "Expected 12-month value, bucket",
    "clients.filter.pareto_top": "Top buyers",
    # Mailing (issue 14)
    "settings.reason.mailbox": "expected an e-mail address, optionally with a name: Shop <news@shop.example>",
    "settings.reason.https_url": "expected an https:// address, such as https://shop.example/unsubscribe",
    "mailing.file_missing": "The template file {path} does not exist.",
    "mailing.file_unreadable": "The template file {path} cannot be read as UTF-8 text ({reason}).",
    "mailing.file_no_blank_line": "An e-mail template file starts with a 'Subject: ...' line, then a blank line "
    "before the body; this one has no blank line.",
    "mailing.file_bad_header": "Line {line} of the template file's header should be 'Subject: ...', 'CTA: label | "
    "url' or 'HTML: file', not {text!r}.",
    "mailing.file_repeated_header": "Line {line} of the template file repeats the {name} line.",
    "mailing.file_no_subject": "An e-mail template file needs a 'Subject: ...' line.",
    "mailing.file_bad_cta": "The CTA line should read 'CTA: label | https://...', not {text!r}.",
    "mailing.template_problems": "The template cannot be saved: {problems}.",
    "mailing.template_name_empty": "A template needs a name.",
    "mailing.no_template": "There is no template {id}.",
    "mailing.admin_only": "Only an administrator may change templates and campaigns.",
    "mailing.campaign_name_empty": "A campaign needs a name.",
    "mailing.no_campaign": "There is no campaign {id}.",
    "mailing.no_segment": "There is no segment named {name!r}; 'all' means every client.",
    "mailing.channel_mismatch": "The template is for {template}, the campaign for {campaign}.",
    "mailing.cannot": "Campaign {id} is {status}; it cannot be {action} now.",
    "mailing.bad_time": "{text!r} is not a time; write it as 2026-12-24 10:00 (the shop's time zone) or ISO 8601.",
    "mailing.created": "{id}",
    "mailing.changed": "Campaign {id} is now {status}.",
    "mailing.list_empty": "No campaign yet.",
    "mailing.smtp_missing": "Set CLIENTBASE_SMTP_URL (smtp://user:password@host:587 or smtps://...) to send e-mail.",
    "mailing.smtp_bad_url": "CLIENTBASE_SMTP_URL must start with smtp:// or smtps:// and name a host, not {url!r}.",
    "mailing.smtp_unreachable": "Cannot reach the mail server {where}: {reason}.",
    "mailing.smtp_login": "The mail server {where} refused the login: {reason}.",
    "mailing.sms_missing": "Set CLIENTBASE_SMS_URL (a preset such as smsru, or a URL template) or "
    "CLIENTBASE_SMS_FILE (a file SMS messages are written to) to send SMS.",
    "mailing.sent_summary": "Sent {sent}, failed {failed}, skipped {skipped}, to retry later {retried}.",
    "mailing.leases_running": "{count} messages are still leased by a worker that may have died; they resume "
    "when its lease ends, within about a minute.",
    "mailing.waiting_window": "{count} messages wait for the send window ({window}, {days}).",
    "mailing.paused_itself": "Campaign {id} paused itself: {reason}.",
    "mailing.stopping": "Stopping: releasing what was claimed…",
    "mailing.unsubscribed": "{address} will get no more {channel} messages.",
    "mailing.already_unsubscribed": "{address} was already suppressed for {channel}.",
    "mailing.bad_address": "{address!r} is neither an e-mail address nor a phone number.",
    "mailing.no_sender": "Set the sender first: clientbase settings set mail_from 'Shop <news@shop.example>'.",
    "mailing.unsubscribe_line": "To stop receiving these messages: {link}",
    "mailing.unsubscribe_html": "Unsubscribe",
    "mailing.help.campaign": "make and run mailing campaigns",
    "mailing.help.create": "make a draft campaign from a template file; prints its id",
    "mailing.help.segment": "a saved segment's name, or 'all' for every client",
    "mailing.help.template": "the template file: 'Subject: ...', optional 'CTA: label | url' and 'HTML: file' lines, "
    "a blank line, the body (an SMS template is the body alone)",
    "mailing.help.at": "when to start sending: 2026-12-24 10:00 in the shop's time zone, or ISO 8601 with an offset",
    "mailing.help.start": "enqueue the audience and let 'clientbase send' deliver",
    "mailing.help.pause": "stop handing the campaign's messages to the workers",
    "mailing.help.resume": "go on with a paused campaign",
    "mailing.help.cancel": "stop the campaign for good; queued messages are cancelled",
    "mailing.help.list": "list the campaigns",
    "mailing.help.status": "counts by state and by skip reason",
    "mailing.help.send": "deliver queued messages (SMTP from CLIENTBASE_SMTP_URL, SMS to CLIENTBASE_SMS_FILE)",
    "mailing.help.once": "deliver what is due now, then exit",
    "mailing.help.rate": "at most this many messages per second",
    "mailing.help.per_hour": "at most this many messages per hour (a provider's cap)",
    "mailing.help.batch": "messages claimed at a time by each worker",
    "mailing.help.lease": "seconds a claim holds before another worker may take it over (renewed while alive)",
    "mailing.help.unsubscribe": "suppress an e-mail address or phone number at once",
    "unsubscribe.page.title": "Unsubscribe",
    "unsubscribe.page.question": "Do you want to stop receiving these messages?",
    "unsubscribe.page.button": "Yes, unsubscribe me",
    "unsubscribe.page.done": "You are unsubscribed. You will get no more of these messages.",
    "unsubscribe.page.unknown": "This unsubscribe link is not valid.",
    "unsubscribe.no_secret": "Set CLIENTBASE_UNSUBSCRIBE_SECRET (or CLIENTBASE_UNSUBSCRIBE_SECRET_FILE) to the key "
    "the sender signs links with.",
    "unsubscribe.bad_listen": "--listen takes ADDRESS:PORT, such as 127.0.0.1:8025, not {listen!r}.",
    "unsubscribe.serving": "Unsubscribe service listening on http://{where}/ (put it behind the reverse proxy "
    "that serves unsubscribe_url over https).",
    "mailing.help.unsubscribe_address": "the e-mail address or phone number, or 'serve' to run the one-click "
    "unsubscribe service",
    "mailing.help.listen": "with 'serve': where the service listens (behind the reverse proxy that does TLS)",
    "mailing.sms_bad_url": "CLIENTBASE_SMS_URL must name a preset ({presets}) or be an http(s) URL template with "
    "{{phone}} or {{digits}} and {{text}}.",
    "mailing.sms_no_token": "Set CLIENTBASE_SMS_TOKEN to the SMS service's key (LOGIN:PASSWORD where it needs "
    "both).",
    "mailing.no_client": "There is no client {id}.",
    "mailing.bad_rate": "The rate must be a positive number of messages per second, not {text!r}.",
}

