"""Demo data: realistic, reproducible for a seed, and as skewed as a real shop's revenue."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import phonenumbers
import pytest

from db import demo
from db.errors import UserError
from db.normalize import normalize_email

AS_OF = date(2026, 6, 15)
CLIENTS = 3000
FINGERPRINT = """
SELECT md5(string_agg(concat_ws('|', c.id, c.last_name, c.first_name, c.middle_name, c.birth_date, c.city,
                                c.tags, c.total_spent, c.last_purchase_at), ',' ORDER BY c.id)),
       (SELECT md5(string_agg(concat_ws('|', id, client_id, purchased_at, amount, cost), ',' ORDER BY id))
          FROM purchase),
       (SELECT md5(string_agg(concat_ws('|', client_id, kind, value, normalized), ',' ORDER BY id))
          FROM contact_point)
  FROM client c
"""


@pytest.fixture
def small_demo(make_db, demo_template):
    """The base `demo.load(CLIENTS, seed=7)` makes, cloned from one loaded once per session."""
    return make_db(demo_template(CLIENTS, seed=7, as_of=AS_OF))


def test_same_seed_same_base_other_seed_other_base(small_demo, make_db):
    with small_demo.connect(autocommit=True) as conn:
        first = conn.execute(FINGERPRINT).fetchone()
    again = make_db()
    with again.connect(autocommit=True) as conn:
        demo.load(conn, CLIENTS, seed=7, as_of=AS_OF)
        assert conn.execute(FINGERPRINT).fetchone() == first
        conn.execute("TRUNCATE client, company, product CASCADE")
        demo.load(conn, CLIENTS, seed=8, as_of=AS_OF)
        assert conn.execute(FINGERPRINT).fetchone()[0] != first[0]


def test_a_fifth_of_the_clients_bring_most_of_the_revenue(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        spent = [float(v) for (v,) in conn.execute("SELECT total_spent FROM client ORDER BY total_spent DESC")]
        purchases = conn.execute("SELECT count(*) FROM purchase").fetchone()[0]
    assert 0.65 < sum(spent[: len(spent) // 5]) / sum(spent) < 0.90
    never = sum(1 for value in spent if value == 0)  # returned-only buyers too, a handful at most
    assert 0.15 < never / len(spent) < 0.35
    assert 3 < purchases / len(spent) < 7  # "about 5 purchases per client" of DESIGN.md's standard base


def test_some_clients_cost_more_than_they_bring(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        losing, clients = conn.execute(
            "SELECT count(*) FILTER (WHERE total_profit < 0), count(*) FROM client").fetchone()
        returned, sold_below_cost = conn.execute(
            "SELECT count(*) FILTER (WHERE amount = 0 AND cost > 0),"
            "       count(*) FILTER (WHERE amount > 0 AND cost > amount)"
            "  FROM purchase").fetchone()
    assert 0 < losing < clients * 0.1
    assert returned > 0 and sold_below_cost > 0


def test_december_and_the_days_before_the_8_march_sell_more(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        # Purchases per calendar day, month by month over the three years (the base grows, so a month is
        # compared with its neighbours, which grew alike).
        per_day = dict(conn.execute(
            "SELECT extract(month FROM purchased_at)::int, count(*)::float / count(DISTINCT purchased_at::date)"
            "  FROM purchase GROUP BY 1").fetchall())
        before_march_8, rest_of_march = conn.execute(
            "SELECT count(*) FILTER (WHERE extract(day FROM purchased_at) <= 7) / 7.0::float,"
            "       count(*) FILTER (WHERE extract(day FROM purchased_at) BETWEEN 8 AND 31) / 24.0::float"
            "  FROM purchase WHERE extract(month FROM purchased_at) = 3").fetchone()
    others = [rate for month, rate in per_day.items() if month != 12]
    assert per_day[12] > 1.4 * sum(others) / len(others)
    assert per_day[12] > 1.4 * max(per_day[11], per_day[1])
    assert before_march_8 > 1.5 * rest_of_march


def test_clients_drop_out_at_different_rates(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        counts = sorted(n for (n,) in conn.execute(
            "SELECT purchase_count FROM client WHERE purchase_count > 0"))
        # Repeat buyers whose card is over two years old: some still buy, most went quiet long ago.
        early = conn.execute(
            "SELECT avg((last_purchase_at > %s::date - 90)::int)::float FROM client"
            " WHERE purchase_count >= 2 AND created_at < %s::date - 730", (AS_OF, AS_OF)).fetchone()[0]
        late = conn.execute(
            "SELECT avg((last_purchase_at > %s::date - 90)::int)::float FROM client"
            " WHERE purchase_count >= 2 AND created_at > %s::date - 365", (AS_OF, AS_OF)).fetchone()[0]
    once = counts.count(1) / len(counts)
    median, p99 = counts[len(counts) // 2], counts[int(len(counts) * 0.99)]
    assert 0.2 < once < 0.5  # a mass at one purchase...
    assert p99 >= 8 * median and counts[-1] >= 40  # ...and a long tail of loyal clients
    assert 0.1 < early < late - 0.15


def test_passes_are_renewed_or_lapse(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        # A renewal is the same pass starting within ten days of the end of the client's previous one.
        renewals, later_passes = conn.execute(
            """
            SELECT count(*) FILTER (WHERE starts_on BETWEEN previous_end AND previous_end + 10), count(*)
              FROM (SELECT starts_on, lag(ends_on) OVER (PARTITION BY client_id, product_id ORDER BY starts_on)
                           AS previous_end
                      FROM subscription) s
             WHERE previous_end IS NOT NULL
            """).fetchone()
        lapsed, running = conn.execute(
            "SELECT count(*) FILTER (WHERE last_end < %s), count(*) FILTER (WHERE last_end >= %s)"
            "  FROM (SELECT max(ends_on) AS last_end FROM subscription GROUP BY client_id) s",
            (AS_OF, AS_OF)).fetchone()
        unpaid = conn.execute("SELECT count(*) FROM subscription s LEFT JOIN purchase p ON p.id = s.purchase_id"
                              " WHERE p.id IS NULL OR p.client_id <> s.client_id").fetchone()[0]
    assert renewals > 50 and renewals > 0.9 * later_passes
    assert lapsed > running > 0 and unpaid == 0


def test_statistics_and_categories_match_the_purchases(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        purchases = conn.execute("SELECT client_id, amount, cost, purchased_at FROM purchase").fetchall()
        clients = conn.execute("SELECT id, purchase_count, total_spent, total_profit, last_purchase_at, category "
                               "FROM client").fetchall()
        lines = conn.execute("SELECT count(*), count(DISTINCT purchase_id) FROM purchase_line").fetchone()
    expected = defaultdict(lambda: [0, 0.0, 0.0, None])
    for client_id, amount, cost, at in purchases:
        entry = expected[client_id]
        entry[0] += 1
        entry[1] += float(amount)
        entry[2] += float(amount) - float(cost or 0)
        entry[3] = max(entry[3], at) if entry[3] else at
    for client_id, count, spent, profit, last, category in clients:
        n, want_spent, want_profit, want_last = expected[client_id]
        assert count == n
        assert float(spent) == pytest.approx(want_spent)
        assert float(profit) == pytest.approx(want_profit)
        assert last == want_last
        assert category == ("potential" if n == 0 else "one-time" if n == 1 else "regular")
    assert lines == (len(purchases), len(purchases))


def test_people_look_real(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        contacts = conn.execute("SELECT kind, value, normalized FROM contact_point").fetchall()
        people = conn.execute("SELECT last_name, first_name, middle_name, gender FROM client").fetchall()
        children = conn.execute("SELECT count(*) FROM relative WHERE relation = 'child'").fetchone()[0]
        future = conn.execute("SELECT count(*) FROM purchase WHERE purchased_at > %s::date + 1",
                              (AS_OF,)).fetchone()[0]
    phones = [(value, normalized) for kind, value, normalized in contacts if kind in ("mobile", "work")]
    assert len({value[:2] for value, _ in phones}) > 3  # several written formats
    for value, normalized in phones:
        number = phonenumbers.parse(value, "RU" if normalized.startswith("+7") else "MD")
        assert phonenumbers.is_valid_number(number), value
        assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == normalized
    for kind, value, normalized in contacts:
        if kind == "email":
            assert normalize_email(value) == normalized
    cyrillic_women = [p for p in people if p[3] == "f" and "а" <= p[0][-1] <= "я"]
    assert cyrillic_women and all(p[0].endswith(("а", "ая")) for p in cyrillic_women)
    patronymics = [p[2] for p in people if p[2]]
    assert len(patronymics) > len(people) / 3
    assert all(p.endswith(("ович", "евич", "овна", "евна")) for p in patronymics)
    assert any("ș" in p[0].lower() or "ț" in p[0].lower() or "ă" in p[0].lower() for p in people)
    assert children > 0 and future == 0


def test_demo_goes_into_an_empty_base_only(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        with pytest.raises(UserError, match=f"already holds {CLIENTS} clients"):
            demo.load(conn, 10, seed=1)
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == CLIENTS
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


IDENTITY_COLUMNS = """
SELECT c.relname, a.attname, pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname)
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE a.attidentity <> '' AND n.nspname = current_schema() AND c.relkind = 'r'
"""


def test_every_identity_sequence_is_past_its_tables_largest_id(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        columns = conn.execute(IDENTITY_COLUMNS).fetchall()
        assert {"product", "purchase", "client", "subscription"} <= {table for table, _, _ in columns}
        for table, column, sequence in columns:
            largest = conn.execute(f'SELECT max("{column}") FROM "{table}"').fetchone()[0]
            following = conn.execute("SELECT nextval(%s)", (sequence,)).fetchone()[0]
            assert largest is None or following > largest, (table, following, largest)


def test_a_new_user_imports_clients_and_purchases_of_new_products_into_the_demo_base(small_demo, tmp_path):
    from tests.test_import import RU_HEADERS, RU_ROWS, run_cli, write_csv
    from tests.test_import_purchases import HEADERS

    result = run_cli(small_demo, "import", write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS))
    assert result.returncode == 0, result.stderr
    rows = [["1001", "", "01.03.2026", "1 500,00", "700", "Новый крем собственной марки", "2", "shop", "R-1"],
            ["1002", "", "02.03.2026", "990", "", "Совсем новый шампунь", "1", "online", "R-2"],
            ["A-77", "", "03.03.2026", "250", "", "Новый крем собственной марки", "1", "shop", "R-3"]]
    sales = write_csv(tmp_path / "sales.csv", HEADERS, rows, "cp1251", ";")
    result = run_cli(small_demo, "import", sales, "--purchases", "--create-missing")
    assert result.returncode == 0, result.stderr
    assert "purchases added:             3" in result.stdout, result.stdout
    with small_demo.connect(autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == CLIENTS + 3 + 1
        products = conn.execute("SELECT id, name FROM product WHERE id > %s ORDER BY id",
                                (len(demo.PRODUCTS),)).fetchall()
        assert [name for _, name in products] == ["Новый крем собственной марки", "Совсем новый шампунь"]
        assert conn.execute("SELECT count(*) FROM purchase_line pl JOIN product pr ON pr.id = pl.product_id"
                            " WHERE pr.id = ANY(%s)", ([p for p, _ in products],)).fetchone()[0] == 3


def test_copy_lines_escape_what_copy_reserves_and_only_that():
    assert demo._copy_line([7, None, "Иванова", True, date(2026, 6, 15)]) == "7\t\\N\tИванова\tTrue\t2026-06-15"
    assert demo._copy_line([1, "a\tb", "c\\d", "e\nf\rg", None]) == "1\ta\\tb\tc\\\\d\te\\nf\\rg\t\\N"


def test_the_loads_memory_does_not_grow_with_the_number_of_clients(fresh_db, make_db, monkeypatch):
    """A million people have two million contacts: they must not wait in memory for their COPY."""
    import tracemalloc

    monkeypatch.setattr(demo, "COPY_BATCH", 1000)  # the one buffer that may grow, small enough to see the rest
    peaks = []
    # Contacts kept in memory cost about 350 bytes a person: 4,000 more people would stand ~1.4 MB above the
    # margin, so three times the people shows the growth as well as 12,000 against 4,000 did, in half the time.
    for database, clients in ((fresh_db, 2000), (make_db(), 6000)):
        with database.connect(autocommit=True) as conn:
            tracemalloc.start()
            try:
                demo.load(conn, clients, seed=3, as_of=AS_OF)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
    assert peaks[1] < peaks[0] + 500_000, peaks
