"""Database-level rows: exact phone lookup, type-ahead search p95 and keyset pages, through db/ functions
and as the bare SQL those functions send (captured from peewee's query log, then run over plain psycopg)."""

from __future__ import annotations

import random
from functools import partial

import psycopg

from db.clients import listing as clients
from tests.benchlib import BenchContext, BenchRow, fmt_ms, statements_sent, timed_ms


def _captured(action) -> tuple[str, tuple]:
    """The heaviest statement an app call sent (the page query, not the settings lookup)."""
    return max(statements_sent(action), key=lambda query: len(query[0]))


def _bare(conn: psycopg.Connection, query: tuple[str, tuple], repeat: int = 20, warmup: int = 2) -> list[float]:
    statement, params = query
    return timed_ms(lambda: conn.execute(statement, params, prepare=False).fetchall(), repeat=repeat, warmup=warmup)


def _bare_all(conn: psycopg.Connection, action, repeat: int = 20, warmup: int = 2) -> list[float]:
    """Every statement the app call sent, in order: the same round trips as the app."""
    sent = statements_sent(action)
    return timed_ms(lambda: [conn.execute(q, p, prepare=False).fetchall() for q, p in sent], repeat=repeat,
                    warmup=warmup)


def measure(ctx: BenchContext) -> list[BenchRow]:
    rows: list[BenchRow] = []
    with psycopg.connect(ctx.target.conninfo(), autocommit=True) as conn:
        phones = [row[0] for row in conn.execute(
            "SELECT normalized FROM contact_point WHERE kind = 'mobile' AND normalized LIKE '+7%%' "
            "ORDER BY id LIMIT 40 OFFSET %s", (min(5000, ctx.clients // 10),))]
        surnames = [row[0] for row in conn.execute(
            "SELECT DISTINCT last_name FROM client WHERE id %% 997 = 0 LIMIT %s", (5 if ctx.smoke else 60,))]

        full = phones[0]
        lookup = clients.Criteria(text=full)
        repeat = 3 if ctx.smoke else 30
        app_samples = timed_ms(lambda: clients.find_page(lookup, limit=20), repeat=repeat)
        sent = len(statements_sent(lambda: clients.find_page(lookup, limit=20)))
        rows.append(BenchRow(
            "exact phone lookup", "< 10 ms", fmt_ms(app_samples),
            fmt_ms(_bare_all(conn, lambda: clients.find_page(lookup, limit=20), repeat=repeat)),
            note=f"{full}, written as typed; bare SQL: the same {sent} statement(s) the app sends",
            samples=tuple(app_samples)))

        rng = random.Random(5)
        fragments = [surname.lower()[: rng.randint(3, 6)] for surname in surnames] + \
                    [phone[-4:] for phone in phones[:20]]
        app_samples: list[float] = []
        bare_samples: list[float] = []
        for fragment in fragments:
            criteria = clients.Criteria(text=fragment)
            # The same warm-up (one run) on both sides, then three measures each.
            app_samples += timed_ms(partial(clients.find_page, criteria, limit=50), repeat=3, warmup=1)
            bare_samples += _bare_all(conn, partial(clients.find_page, criteria, limit=50), repeat=3, warmup=1)
        rows.append(BenchRow("type-ahead search, 3+ characters", "p95 < 100 ms", fmt_ms(app_samples, "p95"),
                             fmt_ms(bare_samples, "p95"),
                             note=f"{len(fragments)} fragments: surname starts and last 4 phone digits; one "
                                  "warm-up run each side", samples=tuple(app_samples)))

        for sort in ("name", "last_purchase", "total_spent", "created"):
            criteria = clients.Criteria(sort=sort)
            first = clients.find_page(criteria, limit=100)
            app_samples = timed_ms(partial(clients.find_page, criteria, limit=100), repeat=repeat)
            rows.append(BenchRow(f"first page, sorted by {sort}", "< 100 ms", fmt_ms(app_samples),
                                 fmt_ms(_bare_all(conn, partial(clients.find_page, criteria, limit=100),
                                                  repeat=repeat)), samples=tuple(app_samples)))
            cursor = first.next
            deep = None
            for _ in range(2 if ctx.smoke else 50):  # 5,000 rows in, as after a long scroll
                deep = clients.find_page(criteria, after=cursor, limit=100)
                cursor = deep.next
            app_samples = timed_ms(partial(clients.find_page, criteria, after=cursor, limit=100), repeat=repeat)
            rows.append(BenchRow(f"next page (keyset, 5,000 rows in), by {sort}", "< 30 ms", fmt_ms(app_samples),
                                 fmt_ms(_bare_all(conn, partial(clients.find_page, criteria, after=cursor, limit=100),
                                                  repeat=repeat)), samples=tuple(app_samples)))
    return rows
