"""Importing clients: match the file's people against each other and against the base, then write them
in one transaction with set-based SQL.

Matching is a union-find over the file's rows and the base's clients, joined by the old system's client
number (external key), normalised phones and e-mails. Two different client numbers are never joined, nor
two clients already in the base, so a landline shared by two numbered or known people does not fuse them;
rows with none of these are known by name and birth date. The rows go through COPY into temporary tables
as the file is read, and then one INSERT … SELECT or UPDATE … FROM each, so 100,000 rows cost a handful of
statements and the program's memory does not grow with the file; a failure anywhere rolls it all back.
"""

from __future__ import annotations

import time
from array import array
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Generic, Iterable, Iterator, TypeVar, cast

import psycopg
from psycopg.rows import class_row
from psycopg.types.json import Jsonb

from db import rows as rows_of
from db import session
from db.errors import UserError
from db.models import database
from db.i18n import N_

R = TypeVar("R")

Progress = Callable[[str, int, int], None]
IMPORT_LOCK = (7243, 4)  # one import at a time, so two files cannot create the same person twice
LOCK_WAIT = 5.0          # seconds an import waits for another one before saying whose it is
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


def name_identity(row: Incoming) -> str | None:
    """A person with neither a client number nor a phone or e-mail is known by name and birth date alone, so
    that importing such a row twice finds the card the first import made."""
    if row.external_key or row.contacts or row.kind != "person":
        return None
    parts = (row.text.get("last_name", ""), row.text.get("first_name", ""), row.text.get("middle_name", ""),
             row.birth_date.isoformat() if row.birth_date else "")
    return "name:" + "\x1f".join(parts)


# --- matching -----------------------------------------------------------------------------------------
# The file's rows go to PostgreSQL as they are read (imp_row); what the matching needs from the base is
# looked up there, and the union-find runs over integers only: each row and each candidate client is a
# node, numbered, with the id of its client number and of its client. So memory holds three integers per
# node, never the rows: a file of a million clients costs some 50 MB, and 100,000 about 5.

ROW_COLUMNS = ("n, external_key, kind, " + ", ".join(TEXT_FIELDS) + ", gender, birth_date, assigned_to, company,"
               " tags, consent_email, consent_sms, custom, identity, contact_kinds, contact_values, contact_normalized")

ROW_STAGING = f"""
CREATE TEMP TABLE imp_row (
    n int PRIMARY KEY, external_key text, kind text NOT NULL,
    {", ".join(f"{name} text" for name in TEXT_FIELDS)}, gender text, birth_date date, assigned_to text,
    company text, tags text[], consent_email boolean, consent_sms boolean, custom jsonb, identity text,
    contact_kinds text[], contact_values text[], contact_normalized text[]
) ON COMMIT DROP;
"""

# Every base client a row may be: by client number (or "cb-<id>", an export's name for a client without
# one, db.transfer.export), by phone or e-mail, or, for rows with none of these, by name and birth date.
CANDIDATES_SQL = """
CREATE TEMP TABLE imp_row_contact ON COMMIT DROP AS
SELECT r.n, x.ord::int, x.kind, x.value, x.normalized
  FROM imp_row r, unnest(r.contact_kinds, r.contact_values, r.contact_normalized) WITH ORDINALITY
                  AS x(kind, value, normalized, ord);
CREATE TEMP TABLE imp_bykey ON COMMIT DROP AS
SELECT k.external_key AS key, coalesce(own.id, c.id) AS client_id
  FROM (SELECT DISTINCT external_key FROM imp_row WHERE external_key IS NOT NULL) k
  LEFT JOIN client c ON c.external_key = k.external_key
  LEFT JOIN client own ON own.id = CASE WHEN k.external_key ~ '^cb-[0-9]{1,18}$'
                                        THEN substr(k.external_key, 4)::bigint END
                      AND own.external_key IS NULL
 WHERE coalesce(own.id, c.id) IS NOT NULL;
CREATE TEMP TABLE imp_cand ON COMMIT DROP AS
SELECT DISTINCT cp.normalized AS value, cp.client_id
  FROM contact_point cp WHERE cp.normalized IN (SELECT normalized FROM imp_row_contact)
UNION
SELECT r.identity, c.id
  FROM (SELECT DISTINCT ON (identity) identity, last_name, first_name, middle_name, birth_date
          FROM imp_row WHERE identity IS NOT NULL) r
  JOIN client c ON c.last_name = r.last_name AND c.first_name = r.first_name AND c.middle_name = r.middle_name
               AND c.birth_date IS NOT DISTINCT FROM r.birth_date
 WHERE NOT EXISTS (SELECT 1 FROM contact_point p WHERE p.client_id = c.id);
-- A client found by the number a row gives keeps that number as its own: "cb-<id>" included.
CREATE TEMP TABLE imp_node ON COMMIT DROP AS
SELECT u.client_id, (SELECT count(*) FROM imp_row) + row_number() OVER (ORDER BY u.client_id) - 1 AS node,
       coalesce(c.external_key, (SELECT min(b.key) FROM imp_bykey b WHERE b.client_id = u.client_id)) AS key
  FROM (SELECT client_id FROM imp_bykey UNION SELECT client_id FROM imp_cand) u JOIN client c ON c.id = u.client_id;
CREATE TEMP TABLE imp_keyid ON COMMIT DROP AS
SELECT key, row_number() OVER (ORDER BY key) AS id
  FROM (SELECT external_key AS key FROM imp_row WHERE external_key IS NOT NULL
        UNION SELECT key FROM imp_node WHERE key IS NOT NULL) k;
ANALYZE imp_row; ANALYZE imp_row_contact; ANALYZE imp_cand;
"""

# The joins of the union-find, in the order the rows come in the file: first each client number (the base's
# client of that number, then the first row with it), then each phone, e-mail or name identity (the first
# row with it, then the base's clients with it, the lowest id first, until one joins).
KEY_EDGES_SQL = """
SELECT r.n, nd.node, min(r.n) OVER (PARTITION BY r.external_key) AS first
  FROM imp_row r LEFT JOIN imp_bykey b ON b.key = r.external_key LEFT JOIN imp_node nd ON nd.client_id = b.client_id
 WHERE r.external_key IS NOT NULL
 ORDER BY r.n
"""
CONTACT_EDGES_SQL = """
WITH v AS (SELECT n, ord, normalized AS value FROM imp_row_contact
           UNION ALL SELECT n, 2147483647, identity FROM imp_row WHERE identity IS NOT NULL)
SELECT v.n, v.ord, min(v.n) OVER (PARTITION BY v.value) AS first, nd.node
  FROM v LEFT JOIN imp_cand c ON c.value = v.value LEFT JOIN imp_node nd ON nd.client_id = c.client_id
 ORDER BY v.n, v.ord, c.client_id
"""


class _Groups:
    """Union-find whose components carry at most one client number and at most one existing client; -1 is
    none. A component's root is its lowest node, so rows (numbered first) root their groups at their
    first row."""

    def __init__(self, size: int) -> None:
        self.parent = array("q", range(size))
        self.key = array("q", [-1]) * size
        self.client = array("q", [-1]) * size

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> bool:
        a, b = self.find(a), self.find(b)
        if a == b:
            return True
        if self.key[a] != -1 and self.key[b] != -1 and self.key[a] != self.key[b]:
            return False
        if self.client[a] != -1 and self.client[b] != -1:
            return False
        keep, gone = min(a, b), max(a, b)
        self.parent[gone] = keep
        if self.key[keep] == -1:
            self.key[keep] = self.key[gone]
        if self.client[keep] == -1:
            self.client[keep] = self.client[gone]
        return True


def _stream(conn: psycopg.Connection, sql: str, cls: type[R]) -> Iterator[R]:
    """A query's rows a batch at a time (a server-side cursor), not all of them at once."""
    with conn.cursor(name="imp_stream", row_factory=class_row(cls)) as cursor:
        cursor.itersize = 10_000
        cursor.execute(sql)
        yield from cursor


# The edges of the grouping below, read from the staging tables by name. Hundreds of thousands of them on a
# large file: slotted and not frozen, since a frozen dataclass's __init__ costs 3 µs a row against 1 µs
# (a plain tuple's 0.6 µs; measured over 500,000 rows). They never leave this module.
@dataclass(slots=True)
class _KeyOfRow:
    n: int
    key_id: int


@dataclass(slots=True)
class _Node:
    node: int
    key_id: int | None
    client_id: int  # a node is a client of the base


@dataclass(slots=True)
class _KeyEdge:
    n: int
    node: int | None
    first: int


@dataclass(slots=True)
class _ContactEdge:
    n: int
    ord: int
    first: int
    node: int | None


def _group(conn: psycopg.Connection, rows: int) -> None:
    """Fills imp_group: each row's group (its first row) and the base's client it is, if any."""
    conn.execute(CANDIDATES_SQL)
    nodes = rows + rows_of.value(conn.execute("SELECT count(*) FROM imp_node"))
    groups = _Groups(nodes)
    for keyed in _stream(conn, "SELECT r.n, k.id AS key_id FROM imp_row r JOIN imp_keyid k ON k.key = r.external_key",
                         _KeyOfRow):
        groups.key[keyed.n] = keyed.key_id
    for found in _stream(conn, "SELECT nd.node, k.id AS key_id, nd.client_id FROM imp_node nd"
                               " LEFT JOIN imp_keyid k ON k.key = nd.key", _Node):
        groups.key[found.node] = -1 if found.key_id is None else found.key_id
        groups.client[found.node] = found.client_id
    for edge in _stream(conn, KEY_EDGES_SQL, _KeyEdge):
        if edge.node is not None:
            groups.union(edge.n, edge.node)
        groups.union(edge.n, edge.first)
    current, joined = None, False
    for contact in _stream(conn, CONTACT_EDGES_SQL, _ContactEdge):
        if (contact.n, contact.ord) != current:
            current, joined = (contact.n, contact.ord), False
            groups.union(contact.n, contact.first)
        if contact.node is not None and not joined:
            joined = groups.union(contact.n, contact.node)
    conn.execute("CREATE TEMP TABLE imp_group (n int PRIMARY KEY, gid int NOT NULL, client_id bigint)"
                 " ON COMMIT DROP")
    with conn.cursor() as cur, cur.copy("COPY imp_group (n, gid, client_id) FROM STDIN") as copy:
        for n in range(rows):
            root = groups.find(n)
            client = groups.client[root]
            copy.write_row((n, root, None if client == -1 else client))
    conn.execute("ANALYZE imp_group")


def _first(column: str, empty: str = "IS NOT NULL") -> str:
    return f"(array_agg(r.{column} ORDER BY r.n) FILTER (WHERE r.{column} {empty}))[1]"


def _first_text(column: str) -> str:
    return "coalesce(" + _first(column, "<> ''") + ", '')"


_NON_EMPTY_TEXT = ", ".join(_first_text(name) for name in TEXT_FIELDS)

# One person from the rows of a group: the first non-empty value of each field in file order, every tag
# and contact once, in the order they first come; an earlier row's custom value wins over a later one's.
MERGE_SQL = f"""
INSERT INTO imp_client (gid, client_id, is_new, external_key, kind, {", ".join(TEXT_FIELDS)}, gender, birth_date,
                        assigned_to, company, tags, consent_email, consent_sms, custom)
SELECT g.gid, max(g.client_id), max(g.client_id) IS NULL, {_first("external_key")},
       CASE WHEN bool_or(r.kind = 'person') THEN 'person' ELSE (array_agg(r.kind ORDER BY r.n))[1] END,
       {_NON_EMPTY_TEXT},
       {_first("gender")}, {_first("birth_date")}, {_first("assigned_to")}, {_first_text("company")},
       '{{}}', {_first("consent_email")}, {_first("consent_sms")}, '{{}}'
  FROM imp_group g JOIN imp_row r USING (n)
 GROUP BY g.gid;
UPDATE imp_client s SET tags = t.tags
  FROM (SELECT gid, array_agg(tag ORDER BY first) AS tags
          FROM (SELECT g.gid, u.tag, min(ARRAY[g.n::bigint, u.o]) AS first
                  FROM imp_group g JOIN imp_row r USING (n), unnest(r.tags) WITH ORDINALITY AS u(tag, o)
                 GROUP BY g.gid, u.tag) x
         GROUP BY gid) t
 WHERE t.gid = s.gid;
UPDATE imp_client s SET custom = c.custom
  FROM (SELECT g.gid, jsonb_object_agg(e.key, e.value ORDER BY g.n DESC) AS custom
          FROM imp_group g JOIN imp_row r USING (n), jsonb_each(r.custom) AS e
         GROUP BY g.gid) c
 WHERE c.gid = s.gid;
INSERT INTO imp_contact (gid, ord, kind, value, normalized)
SELECT gid, row_number() OVER (PARTITION BY gid ORDER BY n, ord), kind, value, normalized
  FROM (SELECT DISTINCT ON (g.gid, x.normalized) g.gid, x.n, x.ord, x.kind, x.value, x.normalized
          FROM imp_row_contact x JOIN imp_group g USING (n)
         ORDER BY g.gid, x.normalized, x.n, x.ord) d;
"""


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
        parts.append(f"CASE WHEN s.{name} <> '' AND (c.{name} = '' OR %(ow)s) THEN s.{name} ELSE c.{name} END"
                     f" AS {name}")
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


def import_clients(rows: Iterable[Incoming], *, overwrite: bool = False, dry_run: bool = False,
                   source: str = "import", progress: Progress | None = None, total: int = 0) -> ClientImportResult:
    """Writes the rows as one transaction; with `dry_run` does every step and rolls back, so the counts are
    exactly what a real import would do. `rows` are read as they are written to the staging table, so they
    may stream from the file; `total` is an estimate for the progress bar."""
    report = progress or (lambda stage, done, total: None)
    return in_one_transaction(lambda conn: _import(conn, rows, overwrite, source, report, total), dry_run)


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
            return cast(R, done.result)
    return result


class _DryRun(Exception, Generic[R]):
    def __init__(self, result: R) -> None:
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
    while not rows_of.value(conn.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", IMPORT_LOCK)):
        if time.monotonic() >= deadline:
            holder = rows_of.one_dict(conn.execute(LOCK_HOLDER_SQL, IMPORT_LOCK))
            if holder is not None:
                since = holder["xact_start"]
                raise UserError(N_("Another import is running (by '{login}', since {since}); nothing was written: "
                                   "import this file again when it has finished."), login=holder["usename"] or "?",
                                since=since.astimezone().strftime("%H:%M:%S") if since else "?")
        time.sleep(0.2)


def _import(conn, rows, overwrite, source, report, total) -> ClientImportResult:
    take_import_lock(conn)
    conn.execute(ROW_STAGING)
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY imp_row ({ROW_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((count, row.external_key, row.kind, *(row.text.get(name, "") for name in TEXT_FIELDS),
                            row.gender, row.birth_date, row.assigned_to, row.company, row.tags, row.consent_email,
                            row.consent_sms, Jsonb(row.custom), name_identity(row),
                            [c[0] for c in row.contacts], [c[1] for c in row.contacts],
                            [c[2] for c in row.contacts]))
            count += 1
    report(N_("Matching"), 0, count)
    _group(conn, count)
    conn.execute(STAGING)
    report(N_("Writing"), 0, count)
    conn.execute(MERGE_SQL)
    conn.execute("ANALYZE imp_client; ANALYZE imp_contact")
    report(N_("Writing"), count // 4, count)
    conn.execute(COMPANIES_SQL)
    conn.execute("UPDATE imp_client SET client_id = nextval(pg_get_serial_sequence('client', 'id')) WHERE is_new")
    params = {"ow": overwrite, "source": source}
    new = conn.execute(INSERT_SQL, params).rowcount
    report(N_("Writing"), count // 2, count)
    conn.execute(UPDATE_SQL, params)
    contacts = conn.execute(CONTACTS_SQL).rowcount
    updated = rows_of.value(conn.execute(
        "SELECT count(DISTINCT t.id) FROM imp_touched t JOIN imp_client s ON s.client_id = t.id AND NOT s.is_new"))
    totals = rows_of.the_dict(conn.execute(
        "SELECT count(*) AS people, count(*) FILTER (WHERE NOT is_new) AS matched FROM imp_client"))
    people, matched = totals["people"], totals["matched"]
    report(N_("Writing"), count, count)
    return ClientImportResult(rows=count, new=new, updated=updated, unchanged=matched - updated,
                              duplicates_in_file=count - people, duplicates_in_base=matched,
                              contacts_added=contacts)


def check_may_import() -> None:
    """Only the administrator writes client data; said before a large file is read, not after."""
    login, role = session.current_login_and_role()
    if role != "admin":
        raise UserError(N_("Only the administrator "
                           "imports; the login '{login}' may read the base but not change it."), login=login)


def custom_field_names() -> dict[str, str]:
    """Defined custom fields by name and by label, for matching a file's column headers."""
    with database.connection_context():
        defined = rows_of.dicts(database.execute_sql("SELECT name, label FROM custom_field"))
    return {spelling: field["name"] for field in defined for spelling in (field["name"], field["label"])}
