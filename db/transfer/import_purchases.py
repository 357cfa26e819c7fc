"""Importing purchase history: stream the rows into a staging table with COPY, resolve each to a client in
SQL, and insert what is not in the base yet with one INSERT … SELECT, so the purchase triggers refresh
each client's statistics once for the whole file.

A purchase is already in the base when its receipt number is (purchase.external_key), or, for rows without
one, when the base holds as many purchases of that client at that moment for that amount as the file
does; so re-importing a file adds nothing, and two identical coffees on one receipt-less day both count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import psycopg

from db import rows as rows_of
from db.transfer.import_clients import in_one_transaction, take_import_lock
from db.i18n import N_

STAGED = ("n, client_key, phone, email, last_name, first_name, middle_name, purchased_at, amount, cost, "
          "product, quantity, channel, purchase_key, note")

STAGING = """
CREATE TEMP TABLE imp_purchase (
    n int, client_key text, phone text, email text, last_name text, first_name text, middle_name text,
    purchased_at timestamptz, amount numeric(12, 2), cost numeric(12, 2), product text, quantity numeric(12, 3),
    channel text, purchase_key text, note text
) ON COMMIT DROP
"""

RESOLVE_SQL = """
CREATE TEMP TABLE imp_key ON COMMIT DROP AS
SELECT k.client_key, coalesce(c.id, own.id) AS client_id
  FROM (SELECT DISTINCT client_key FROM imp_purchase WHERE client_key IS NOT NULL) k
  LEFT JOIN client c ON c.external_key = k.client_key
  -- "cb-<id>": an export's name for a client without a number of its own (db.transfer.export)
  LEFT JOIN client own ON own.id = CASE WHEN k.client_key ~ '^cb-[0-9]{1,18}$' THEN substr(k.client_key, 4)::bigint END
                      AND own.external_key IS NULL;
CREATE TEMP TABLE imp_cref ON COMMIT DROP AS
SELECT DISTINCT ON (cp.normalized) cp.normalized, cp.client_id
  FROM contact_point cp
 WHERE cp.normalized IN (SELECT phone FROM imp_purchase WHERE phone IS NOT NULL
                         UNION SELECT email FROM imp_purchase WHERE email IS NOT NULL)
 ORDER BY cp.normalized, cp.client_id;
"""

CREATE_MISSING_SQL = """
WITH missing AS (
SELECT DISTINCT ON (s.client_key) s.client_key, s.last_name, s.first_name, s.middle_name
  FROM imp_purchase s JOIN imp_key k USING (client_key)
 WHERE k.client_id IS NULL
   -- A row whose phone or e-mail already belongs to a client is that client's purchase, not a new person.
   AND NOT EXISTS (SELECT 1 FROM imp_purchase o JOIN imp_cref r ON r.normalized IN (o.phone, o.email)
                    WHERE o.client_key = s.client_key)
 ORDER BY s.client_key, s.n
), created AS (
INSERT INTO client (external_key, last_name, first_name, middle_name)
SELECT client_key, last_name, first_name, middle_name FROM missing
RETURNING id, external_key
), linked AS (
UPDATE imp_key k SET client_id = created.id FROM created WHERE created.external_key = k.client_key
RETURNING k.client_key, created.id
)
-- The new card keeps the phone and e-mail the file gave, so the next file finds it by them too.
, contacts AS (
INSERT INTO contact_point (client_id, kind, value, normalized, is_primary)
SELECT DISTINCT ON (l.id, v.kind) l.id, v.kind, v.value, v.value, true
  FROM linked l JOIN imp_purchase s ON s.client_key = l.client_key
 CROSS JOIN LATERAL (VALUES ('mobile', s.phone), ('email', s.email)) AS v(kind, value)
 WHERE v.value IS NOT NULL
 ORDER BY l.id, v.kind, s.n
RETURNING 1
)
SELECT count(*) FROM created
"""

NEW_SQL = """
CREATE TEMP TABLE imp_resolved ON COMMIT DROP AS
SELECT s.*, coalesce(k.client_id, p.client_id, e.client_id) AS client_id
  FROM imp_purchase s
  LEFT JOIN imp_key k ON k.client_key = s.client_key
  LEFT JOIN imp_cref p ON p.normalized = s.phone
  LEFT JOIN imp_cref e ON e.normalized = s.email;
CREATE TEMP TABLE imp_new ON COMMIT DROP AS
SELECT nextval(pg_get_serial_sequence('purchase', 'id')) AS id, r.*
  FROM (SELECT r.*, row_number() OVER (PARTITION BY r.client_id, r.purchased_at, r.amount ORDER BY r.n) AS k
          FROM imp_resolved r WHERE r.client_id IS NOT NULL AND r.purchase_key IS NULL) r
  LEFT JOIN (SELECT p.client_id, p.purchased_at, p.amount, count(*) AS n
               FROM purchase p
              WHERE p.client_id IN (SELECT client_id FROM imp_resolved)
              GROUP BY 1, 2, 3) e
         ON e.client_id = r.client_id AND e.purchased_at = r.purchased_at AND e.amount = r.amount
 WHERE r.k > coalesce(e.n, 0);
INSERT INTO imp_new
SELECT nextval(pg_get_serial_sequence('purchase', 'id')), r.*, 1
  FROM (SELECT DISTINCT ON (purchase_key) * FROM imp_resolved
         WHERE client_id IS NOT NULL AND purchase_key IS NOT NULL ORDER BY purchase_key, n) r
 WHERE NOT EXISTS (SELECT 1 FROM purchase p WHERE p.external_key = r.purchase_key);
"""

PRODUCT_MATCH = "(SELECT DISTINCT ON (lower(name)) lower(name) AS lname, id FROM product ORDER BY lower(name), id)"

WRITE_SQL = f"""
INSERT INTO product (name)
SELECT DISTINCT ON (lower(product)) product FROM imp_new n
 WHERE product <> '' AND NOT EXISTS (SELECT 1 FROM product p WHERE lower(p.name) = lower(n.product))
 ORDER BY lower(product), n;
INSERT INTO purchase (id, client_id, purchased_at, channel, amount, cost, external_key, note)
SELECT id, client_id, purchased_at, coalesce(nullif(channel, ''), 'shop'), amount, cost, purchase_key,
       coalesce(note, '')
  FROM imp_new;
INSERT INTO purchase_line (purchase_id, product_id, description, quantity, price, cost)
SELECT n.id, pr.id, n.product, coalesce(n.quantity, 1), round(n.amount / coalesce(n.quantity, 1), 2),
       round(n.cost / coalesce(n.quantity, 1), 2)
  FROM imp_new n LEFT JOIN {PRODUCT_MATCH} pr ON pr.lname = lower(n.product)
 WHERE n.product <> '';
"""


@dataclass(frozen=True)
class PurchaseImportResult:
    rows: int                       # valid rows read
    added: int                      # purchases written
    already_there: int              # rows the base already had (same receipt, or same client, moment, amount)
    clients_created: int            # minimal cards made for unknown client numbers (--create-missing)
    unknown_client_rows: list[int]  # row numbers whose client is in neither the base nor the file


def import_purchases(rows: Iterable[tuple], *, create_missing: bool = False, dry_run: bool = False,
                     timezone: str = "UTC",
                     progress: Callable[[str, int, int], None] | None = None) -> PurchaseImportResult:
    """`rows` are tuples in the order of STAGED, read lazily while COPY runs; times without a zone are the
    shop's `timezone`. One transaction; `dry_run` rolls it back after counting."""
    report = progress or (lambda stage, done, total: None)
    return in_one_transaction(lambda conn: _import(conn, rows, create_missing, timezone, report), dry_run)


def _import(conn: psycopg.Connection, rows, create_missing, timezone, report) -> PurchaseImportResult:
    take_import_lock(conn)
    conn.execute("SELECT set_config('TimeZone', %s, true)", (timezone,))
    conn.execute(STAGING)
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY imp_purchase ({STAGED}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    conn.execute("ANALYZE imp_purchase")
    report(N_("Matching"), 0, count)
    conn.execute(RESOLVE_SQL)
    created = rows_of.value(conn.execute(CREATE_MISSING_SQL)) if create_missing else 0
    conn.execute(NEW_SQL)
    unknown = rows_of.values(conn.execute("SELECT n FROM imp_resolved WHERE client_id IS NULL ORDER BY n"))
    report(N_("Writing"), count // 2, count)
    added = rows_of.value(conn.execute("SELECT count(*) FROM imp_new"))
    conn.execute(WRITE_SQL)
    report(N_("Writing"), count, count)
    return PurchaseImportResult(rows=count, added=added, already_there=count - len(unknown) - added,
                                clients_created=created, unknown_client_rows=unknown)
