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
def small_demo(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 1500, seed=7, as_of=AS_OF)
    return fresh_db


def test_same_seed_same_base_other_seed_other_base(small_demo, make_db):
    with small_demo.connect(autocommit=True) as conn:
        first = conn.execute(FINGERPRINT).fetchone()
    again = make_db()
    with again.connect(autocommit=True) as conn:
        demo.load(conn, 1500, seed=7, as_of=AS_OF)
        assert conn.execute(FINGERPRINT).fetchone() == first
        conn.execute("TRUNCATE client, company, product CASCADE")
        demo.load(conn, 1500, seed=8, as_of=AS_OF)
        assert conn.execute(FINGERPRINT).fetchone()[0] != first[0]


def test_revenue_is_skewed_and_categories_are_mixed(small_demo):
    with small_demo.connect(autocommit=True) as conn:
        purchases = conn.execute("SELECT client_id, amount FROM purchase").fetchall()
        clients = conn.execute("SELECT id FROM client").fetchall()
    revenue = defaultdict(float)
    for client_id, amount in purchases:
        revenue[client_id] += float(amount)
    per_client = sorted((revenue.get(client_id, 0.0) for (client_id,) in clients), reverse=True)
    top = per_client[: len(per_client) // 5]
    assert sum(top) / sum(per_client) > 0.6
    counts = defaultdict(int)
    for client_id, _ in purchases:
        counts[client_id] += 1
    never = sum(1 for (client_id,) in clients if counts[client_id] == 0)
    once = sum(1 for (client_id,) in clients if counts[client_id] == 1)
    assert 0.15 < never / len(clients) < 0.4 and 0.2 < once / len(clients) < 0.45
    assert 3.5 < len(purchases) / len(clients) < 7


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
        with pytest.raises(UserError, match="already holds 1500 clients"):
            demo.load(conn, 10, seed=1)
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == 1500
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
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == 1500 + 3 + 1
        products = conn.execute("SELECT id, name FROM product WHERE id > %s ORDER BY id",
                                (len(demo.PRODUCTS),)).fetchall()
        assert [name for _, name in products] == ["Новый крем собственной марки", "Совсем новый шампунь"]
        assert conn.execute("SELECT count(*) FROM purchase_line pl JOIN product pr ON pr.id = pl.product_id"
                            " WHERE pr.id = ANY(%s)", ([p for p, _ in products],)).fetchone()[0] == 3
