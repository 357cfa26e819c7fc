"""Importing clients: match the file's people against each other and against the base, then write them
in one transaction with set-based SQL.

Matching is a union-find over the file's rows and the base's clients, joined by the old system's client
number (external key), normalised phones and e-mails. Two different client numbers are never joined, nor
two clients already in the base, so a landline shared by two numbered or known people does not fuse them;
rows with none of these are known by name and birth date. The writes go
through COPY into temporary tables and then one INSERT … SELECT or UPDATE … FROM each, so 100,000 rows
cost a handful of statements, and a failure anywhere rolls the whole file back.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, TypeVar

import psycopg
from psycopg.types.json import Jsonb

from . import session
from .errors import UserError
from .models import database

Progress = Callable[[str, int, int], None]
IMPORT_LOCK = (7243, 4)  # one import at a time, so two files cannot create the same person twice
LOCK_WAIT = 5.0          # seconds an import waits for another one before saying whose it is
OWN_KEY = re.compile(r"cb-[0-9]{1,18}")
TEXT_FIELDS = ("last_name", "first_name", "middle_name", "position", "region", "city", "address",
               "postal_address", "notes", "source")
NULLABLE_FIELDS = ("gender", "birth_date", "assigned_to", "company_id")


@dataclass
class Incoming:
    """One valid row of the file, as the client it describes."""

    row: int
    external_key: str | None = None
    kind: str = "person"
    text: dict[str, str] = field(default_factory=dict)
    gender: str | None = None
    birth_date: date | None = None
    assigned_to: str | None = None
    company: str = ""
    tags: list[str] = field(default_factory=list)
    consent_email: bool | None = None
    consent_sms: bool | None = None
    custom: dict = field(default_factory=dict)
    contacts: list[tuple[str, str, str]] = field(default_factory=list)  # kind, as written, normalised


@dataclass(frozen=True)
class ClientImportResult:
    rows: int                 # valid rows read
    new: int                  # clients created
    updated: int              # clients already in the base that gained something
    unchanged: int            # clients already in the base the file had nothing new for
    duplicates_in_file: int   # rows folded into an earlier row of the same file
    duplicates_in_base: int   # clients of the file found in the base by number, phone or e-mail
    contacts_added: int


class _Groups:
    """Union-find whose components carry at most one client number and at most one existing client."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.key: list[str | None] = []
        self.client: list[int | None] = []

    def add(self, key: str | None, client: int | None) -> int:
        self.parent.append(len(self.parent))
        self.key.append(key)
        self.client.append(client)
        return len(self.parent) - 1

    def find(self, node: int) -> int:
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def union(self, a: int, b: int) -> bool:
        a, b = self.find(a), self.find(b)
        if a == b:
            return True
        if None not in (self.key[a], self.key[b]) and self.key[a] != self.key[b]:
            return False
        if None not in (self.client[a], self.client[b]):
            return False
        keep, gone = min(a, b), max(a, b)
        self.parent[gone] = keep
        self.key[keep] = self.key[keep] or self.key[gone]
        self.client[keep] = self.client[keep] or self.client[gone]
        return True


def name_identity(row: Incoming) -> str | None:
    """A person with neither a client number nor a phone or e-mail is known by name and birth date alone, so
    that importing such a row twice finds the card the first import made."""
    if row.external_key or row.contacts or row.kind != "person":
        return None
    parts = (row.text.get("last_name", ""), row.text.get("first_name", ""), row.text.get("middle_name", ""),
             row.birth_date.isoformat() if row.birth_date else "")
    return "name:" + "\x1f".join(parts)


NAME_MATCH_SQL = """
SELECT n.identity, c.id, c.external_key
  FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::date[]) AS n(identity, last, first, middle, born)
  JOIN client c ON c.last_name = n.last AND c.first_name = n.first AND c.middle_name = n.middle
               AND c.birth_date IS NOT DISTINCT FROM n.born
 WHERE NOT EXISTS (SELECT 1 FROM contact_point p WHERE p.client_id = c.id)
 ORDER BY c.id
"""


def _lookup(conn: psycopg.Connection, rows: list[Incoming]) -> tuple[dict, dict]:
    """The base's clients the file's rows may be: by client number, and by each phone, e-mail or (for rows
    with none of these) name identity."""
    keys = sorted({r.external_key for r in rows if r.external_key})
    normalized = sorted({c[2] for r in rows for c in r.contacts})
    by_key = dict(conn.execute("SELECT external_key, id FROM client WHERE external_key = ANY(%s)", (keys,)))
    # "cb-<id>" is how an export names a client that has no number of its own (db.exporting).
    own = [int(key[3:]) for key in keys if OWN_KEY.fullmatch(key)]
    if own:
        by_key.update(conn.execute("SELECT 'cb-' || id, id FROM client WHERE id = ANY(%s) AND external_key IS NULL",
                                   (own,)))
    by_contact: dict[str, list[tuple[int, str | None]]] = {}
    for value, client_id, key in conn.execute(
            "SELECT cp.normalized, cp.client_id, c.external_key FROM contact_point cp"
            " JOIN client c ON c.id = cp.client_id WHERE cp.normalized = ANY(%s) ORDER BY cp.client_id",
            (normalized,)):
        by_contact.setdefault(value, []).append((client_id, key))
    known_by_name = {name_identity(r): r for r in rows if name_identity(r)}
    if known_by_name:
        people = [(identity, r.text.get("last_name", ""), r.text.get("first_name", ""), r.text.get("middle_name", ""),
                   r.birth_date) for identity, r in known_by_name.items()]
        columns = [list(column) for column in zip(*people)]  # one array per column, for unnest()
        for identity, client_id, key in conn.execute(NAME_MATCH_SQL, columns):
            by_contact.setdefault(identity, []).append((client_id, key))
    return by_key, by_contact


def group(rows: list[Incoming], by_key: dict[str, int],
          by_contact: dict[str, list[tuple[int, str | None]]]) -> list[tuple[int | None, list[Incoming]]]:
    """The file's rows gathered per person: (existing client id or None, the rows in file order)."""
    groups = _Groups()
    for row in rows:
        groups.add(row.external_key, None)
    client_nodes: dict[int, int] = {}

    def client_node(client_id: int, key: str | None) -> int:
        if client_id not in client_nodes:
            client_nodes[client_id] = groups.add(key, client_id)
        return client_nodes[client_id]

    first_with: dict[str, int] = {}
    for index, row in enumerate(rows):
        if row.external_key:
            if row.external_key in by_key:
                groups.union(index, client_node(by_key[row.external_key], row.external_key))
            groups.union(index, first_with.setdefault("key:" + row.external_key, index))
    for index, row in enumerate(rows):
        identity = name_identity(row)
        for normalized in [contact[2] for contact in row.contacts] + ([identity] if identity else []):
            groups.union(index, first_with.setdefault(normalized, index))
            for client_id, key in by_contact.get(normalized, ()):
                if groups.union(index, client_node(client_id, key)):
                    break
    members: dict[int, list[Incoming]] = {}
    for index, row in enumerate(rows):
        members.setdefault(groups.find(index), []).append(row)
    return [(groups.client[root], found) for root, found in members.items()]


def merge(found: list[Incoming]) -> Incoming:
    """One person from several rows: the first non-empty value of each field, every tag and contact."""
    merged = Incoming(row=found[0].row, kind=found[0].kind)
    seen: set[str] = set()
    for row in found:
        merged.external_key = merged.external_key or row.external_key
        for name, value in row.text.items():
            if value and not merged.text.get(name):
                merged.text[name] = value
        for name in ("gender", "birth_date", "assigned_to", "consent_email", "consent_sms"):
            if getattr(merged, name) is None:
                setattr(merged, name, getattr(row, name))
        merged.company = merged.company or row.company
        merged.tags += [tag for tag in row.tags if tag not in merged.tags]
        merged.custom = {**row.custom, **merged.custom}
        for contact in row.contacts:
            if contact[2] not in seen:
                seen.add(contact[2])
                merged.contacts.append(contact)
        if row.kind == "person":
            merged.kind = "person"
    return merged


STAGING = """
CREATE TEMP TABLE imp_client (
    gid int PRIMARY KEY, client_id bigint, is_new boolean NOT NULL, external_key text, kind text NOT NULL,
    last_name text, first_name text, middle_name text, position text, region text, city text, address text,
    postal_address text, notes text, source text, gender text, birth_date date, assigned_to text,
    company text, company_id bigint, tags text[], consent_email boolean, consent_sms boolean, custom jsonb
) ON COMMIT DROP;
CREATE TEMP TABLE imp_contact (gid int, ord int, kind text, value text, normalized text) ON COMMIT DROP;
CREATE TEMP TABLE imp_touched (id bigint) ON COMMIT DROP;
"""
STAGED_COLUMNS = ("gid, client_id, is_new, external_key, kind, " + ", ".join(TEXT_FIELDS)
                  + ", gender, birth_date, assigned_to, company, tags, consent_email, consent_sms, custom")


def _merged_expressions() -> str:
    """Each column of an existing client after the merge: empty fields are filled, a non-empty one changes
    only with overwrite (%(ow)s); tags and custom values are added to."""
    parts = ["c.id", "coalesce(c.external_key, s.external_key) AS external_key"]
    for name in TEXT_FIELDS:
        parts.append(f"CASE WHEN s.{name} <> '' AND (c.{name} = '' OR %(ow)s) THEN s.{name} ELSE c.{name} END AS {name}")
    for name in NULLABLE_FIELDS:
        parts.append(f"CASE WHEN s.{name} IS NOT NULL AND (c.{name} IS NULL OR %(ow)s) THEN s.{name} "
                     f"ELSE c.{name} END AS {name}")
    parts.append("c.tags || ARRAY(SELECT x FROM unnest(s.tags) x WHERE x <> ALL (c.tags)) AS tags")
    parts.append("CASE WHEN %(ow)s THEN c.custom || s.custom ELSE s.custom || c.custom END AS custom")
    for channel in ("email", "sms"):
        parts.append(f"CASE WHEN s.consent_{channel} AND NOT c.consent_{channel} THEN true "
                     f"WHEN %(ow)s AND s.consent_{channel} = false THEN false ELSE c.consent_{channel} END "
                     f"AS consent_{channel}")
    return ",\n       ".join(parts)


MERGED_COLUMNS = ("external_key",) + TEXT_FIELDS + NULLABLE_FIELDS + ("tags", "custom", "consent_email", "consent_sms")

UPDATE_SQL = f"""
WITH merged AS (
SELECT {_merged_expressions()}
  FROM client c JOIN imp_client s ON s.client_id = c.id AND NOT s.is_new
), changed AS (
UPDATE client c
   SET {", ".join(f"{name} = m.{name}" for name in MERGED_COLUMNS)},
       consent_email_at = CASE WHEN m.consent_email <> c.consent_email THEN now() ELSE c.consent_email_at END,
       consent_email_source = CASE WHEN m.consent_email <> c.consent_email THEN %(source)s
                                   ELSE c.consent_email_source END,
       consent_sms_at = CASE WHEN m.consent_sms <> c.consent_sms THEN now() ELSE c.consent_sms_at END,
       consent_sms_source = CASE WHEN m.consent_sms <> c.consent_sms THEN %(source)s ELSE c.consent_sms_source END
  FROM merged m
 WHERE c.id = m.id
   AND ({", ".join(f"c.{name}" for name in MERGED_COLUMNS)})
       IS DISTINCT FROM ({", ".join(f"m.{name}" for name in MERGED_COLUMNS)})
RETURNING c.id
)
INSERT INTO imp_touched SELECT id FROM changed
"""

INSERT_SQL = f"""
INSERT INTO client (id, external_key, kind, {", ".join(TEXT_FIELDS)}, {", ".join(NULLABLE_FIELDS)}, tags,
                    custom, consent_email, consent_email_at, consent_email_source,
                    consent_sms, consent_sms_at, consent_sms_source)
SELECT client_id, external_key, kind, {", ".join(TEXT_FIELDS)}, {", ".join(NULLABLE_FIELDS)}, tags, custom,
       coalesce(consent_email, false), CASE WHEN consent_email THEN now() END,
       CASE WHEN consent_email THEN %(source)s ELSE '' END,
       coalesce(consent_sms, false), CASE WHEN consent_sms THEN now() END,
       CASE WHEN consent_sms THEN %(source)s ELSE '' END
  FROM imp_client WHERE is_new
"""

# The first new contact of a kind becomes the primary one unless the client already has one.
CONTACTS_SQL = """
WITH fresh AS (
SELECT s.client_id, x.kind, x.value, x.normalized, x.gid, x.ord
  FROM imp_contact x JOIN imp_client s USING (gid)
 WHERE NOT EXISTS (SELECT 1 FROM contact_point p WHERE p.client_id = s.client_id AND p.normalized = x.normalized)
), added AS (
INSERT INTO contact_point (client_id, kind, value, normalized, is_primary)
SELECT client_id, kind, value, normalized,
       row_number() OVER (PARTITION BY client_id, kind ORDER BY gid, ord) = 1
       AND NOT EXISTS (SELECT 1 FROM contact_point p WHERE p.client_id = f.client_id AND p.kind = f.kind
                          AND p.is_primary)
  FROM fresh f
RETURNING client_id
)
INSERT INTO imp_touched SELECT client_id FROM added
"""

COMPANIES_SQL = """
INSERT INTO company (name)
SELECT DISTINCT ON (lower(company)) company FROM imp_client s
 WHERE company <> '' AND NOT EXISTS (SELECT 1 FROM company co WHERE lower(co.name) = lower(s.company))
 ORDER BY lower(company), gid;
UPDATE imp_client s SET company_id = co.id
  FROM (SELECT DISTINCT ON (lower(name)) lower(name) AS lname, id FROM company ORDER BY lower(name), id) co
 WHERE s.company <> '' AND lower(s.company) = co.lname;
"""


def import_clients(rows: list[Incoming], *, overwrite: bool = False, dry_run: bool = False, source: str = "import",
                   progress: Progress | None = None) -> ClientImportResult:
    """Writes the rows as one transaction; with `dry_run` does every step and rolls back, so the counts are
    exactly what a real import would do."""
    report = progress or (lambda stage, done, total: None)
    total = len(rows)
    return in_one_transaction(lambda conn: _import(conn, rows, overwrite, source, report, total), dry_run)


R = TypeVar("R")


def in_one_transaction(work: Callable[[psycopg.Connection], R], dry_run: bool) -> R:
    """Runs `work` as one transaction: all of it is written or none. A dry run does every step and then
    rolls back, so what it counts is exactly what the real run would do."""
    with database.connection_context():
        conn: psycopg.Connection = database.connection()
        try:
            with conn.transaction():
                result = work(conn)
                if dry_run:
                    raise _DryRun(result)
        except _DryRun as done:
            return done.result
    return result


class _DryRun(Exception):
    def __init__(self, result: object) -> None:
        self.result = result


# Who holds the import lock: an advisory lock on two int4 keys is (classid, objid) with objsubid 2.
LOCK_HOLDER_SQL = """
SELECT a.usename, a.xact_start
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s AND l.objid = %s AND l.objsubid = 2
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def take_import_lock(conn: psycopg.Connection) -> None:
    """Takes the import lock for this transaction. Another import holding it is not waited on in silence:
    after LOCK_WAIT seconds the user is told whose import it is and since when, and nothing is written."""
    deadline = time.monotonic() + LOCK_WAIT
    while not conn.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", IMPORT_LOCK).fetchone()[0]:
        if time.monotonic() >= deadline:
            holder = conn.execute(LOCK_HOLDER_SQL, IMPORT_LOCK).fetchone()
            if holder is not None:
                login, since = holder
                raise UserError("import.busy", login=login or "?",
                                since=since.astimezone().strftime("%H:%M:%S") if since else "?")
        time.sleep(0.2)


def _import(conn, rows, overwrite, source, report, total) -> ClientImportResult:
    take_import_lock(conn)
    report("import.stage.match", 0, total)
    by_key, by_contact = _lookup(conn, rows)
    people = group(rows, by_key, by_contact)
    persons = [merge(found) for _, found in people]
    conn.execute(STAGING)
    report("import.stage.write", 0, total)
    with conn.cursor() as cur:
        with cur.copy(f"COPY imp_client ({STAGED_COLUMNS}) FROM STDIN") as copy:
            for gid, ((client_id, _), person) in enumerate(zip(people, persons)):
                copy.write_row((gid, client_id, client_id is None, person.external_key, person.kind,
                                *(person.text.get(name, "") for name in TEXT_FIELDS), person.gender,
                                person.birth_date, person.assigned_to, person.company, person.tags,
                                person.consent_email, person.consent_sms, Jsonb(person.custom)))
        with cur.copy("COPY imp_contact (gid, ord, kind, value, normalized) FROM STDIN") as copy:
            for gid, person in enumerate(persons):
                for ord_, (kind, value, normalized) in enumerate(person.contacts):
                    copy.write_row((gid, ord_, kind, value, normalized))
    conn.execute("ANALYZE imp_client; ANALYZE imp_contact")
    report("import.stage.write", total // 4, total)
    conn.execute(COMPANIES_SQL)
    conn.execute("UPDATE imp_client SET client_id = nextval(pg_get_serial_sequence('client', 'id')) WHERE is_new")
    params = {"ow": overwrite, "source": source}
    new = conn.execute(INSERT_SQL, params).rowcount
    report("import.stage.write", total // 2, total)
    conn.execute(UPDATE_SQL, params)
    contacts = conn.execute(CONTACTS_SQL).rowcount
    updated = conn.execute("SELECT count(DISTINCT t.id) FROM imp_touched t JOIN imp_client s ON s.client_id = t.id"
                           " AND NOT s.is_new").fetchone()[0]
    report("import.stage.write", total, total)
    matched = sum(1 for client_id, _ in people if client_id is not None)
    return ClientImportResult(rows=total, new=new, updated=updated, unchanged=matched - updated,
                              duplicates_in_file=total - len(people), duplicates_in_base=matched,
                              contacts_added=contacts)


def check_may_import() -> None:
    """Only the administrator writes client data; said before a large file is read, not after."""
    login, role = session.current_login_and_role()
    if role != "admin":
        raise UserError("import.admin_only", login=login)


def custom_field_names() -> dict[str, str]:
    """Defined custom fields by name and by label, for matching a file's column headers."""
    with database.connection_context():
        rows = database.execute_sql("SELECT name, label FROM custom_field").fetchall()
    return {spelling: name for name, label in rows for spelling in (name, label)}
