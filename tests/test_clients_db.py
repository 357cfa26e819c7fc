"""db.clients.listing against an independent computation: the demo base read back raw and filtered in Python."""

from __future__ import annotations

import threading
import uuid
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest

from db import demo, notify, session
from db.clients import listing as clients

from db.clients import segments
from db.clients.listing import Criteria, Filters
from db.embedded import SUPERUSER
from db.errors import UserError
from tests.benchlib import statements_sent
from tests.conftest import TEMPLATE, ScratchDatabase
from db.i18n import N_

TODAY = date(2026, 6, 15)
SEED = 11


@dataclass(frozen=True)
class Raw:
    id: int
    folded: str
    search: str
    gender: str | None
    birth_date: date | None
    city: str
    region: str
    tags: list
    category: str
    total_spent: Decimal
    last_purchase_at: datetime | None
    created_at: datetime
    custom: dict
    phones: tuple[str, ...]
    emails: tuple[str, ...]
    children: int


def fold(text: str) -> str:
    """Case and accents away, the way a user expects ("Ștefan" is "stefan", "ё" is "е")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@pytest.fixture(scope="module")
def shared_db(pg_server):
    """One base for the whole module: these tests read it (the two that write touch nothing the others
    read), and loading it once keeps the module at seconds instead of a minute."""
    name = f"t_clients_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    yield ScratchDatabase(pg_server, name)
    from db.models import database

    database.close_all()
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def raw_base(shared_db):
    with shared_db.connect(autocommit=True) as conn:
        demo.load(conn, 300, seed=SEED, as_of=TODAY)
        # A few custom values, and a client whose name is made of LIKE's special characters.
        conn.execute("UPDATE client SET custom = '{\"vip\": \"yes\"}' WHERE id % 37 = 0")
        conn.execute("INSERT INTO client (last_name, first_name) VALUES ('100%_\\sure', 'O''Brien')")
        rows = conn.execute(
            """SELECT c.id, concat_ws(' ', NULLIF(c.last_name, ''), NULLIF(c.first_name, ''),
                                      NULLIF(c.middle_name, ''), co.name),
                      c.search, c.gender, c.birth_date, c.city, c.region, c.tags, c.category, c.total_spent,
                      c.last_purchase_at, c.created_at, c.custom,
                      ARRAY(SELECT normalized FROM contact_point p WHERE p.client_id = c.id
                             AND p.kind IN ('mobile', 'home', 'work', 'whatsapp')),
                      ARRAY(SELECT normalized FROM contact_point p WHERE p.client_id = c.id AND p.kind = 'email'),
                      (SELECT count(*) FROM relative r WHERE r.client_id = c.id AND r.relation = 'child')
                 FROM client c LEFT JOIN company co ON co.id = c.company_id""").fetchall()
    return [Raw(r[0], fold(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                tuple(r[13]), tuple(r[14]), r[15]) for r in rows]


@pytest.fixture
def base(raw_base, shared_db):
    session.bind(shared_db.target("admin"))
    return raw_base


def matches(r: Raw, text: str) -> bool:
    """The search as DESIGN.md and db.clients.listing say it: every word somewhere in the name; a lone word of one
    or two letters starts the name; short words beside longer ones start some word of it."""
    words = fold(text).split()
    if len(words) == 1 and len(words[0]) < 3:
        return r.folded.startswith(words[0])
    return all(any(w.startswith(word) for w in r.folded.split()) if len(word) < 3 else word in r.folded
               for word in words)


def every_row(criteria: Criteria, limit: int = 7) -> list[clients.ClientRow]:
    page = clients.find_page(criteria, limit=limit, today=TODAY)
    rows = list(page.rows)
    while page.next is not None:
        page = clients.find_page(criteria, after=page.next, limit=limit, today=TODAY)
        rows += page.rows
    return rows


def ids(criteria: Criteria) -> set[int]:
    found = every_row(criteria)
    assert len(found) == len({row.id for row in found}), "a row came twice across pages"
    return {row.id for row in found}


def days_to_birthday(birth_date: date, today: date) -> int:
    """Days from `today` to the next birthday, 29 February kept on 1 March in a year without it."""
    for year in (today.year, today.year + 1):
        try:
            day = birth_date.replace(year=year)
        except ValueError:
            day = date(year, 3, 1)
        if day >= today:
            return (day - today).days
    raise AssertionError("a birthday comes within a year")


def birthday_order(r: Raw) -> tuple:
    if r.birth_date is None:
        return (1, 0, 0, r.id)
    return (0, days_to_birthday(r.birth_date, TODAY), r.birth_date.month * 100 + r.birth_date.day, r.id)


@pytest.mark.parametrize("reverse", [False, True], ids=["natural", "reversed"])
@pytest.mark.parametrize("sort", list(clients.SORTS))
def test_every_sort_pages_through_everyone_once_in_order(base, sort, reverse):
    order = {
        "name": lambda r: (r.search, r.id),
        "last_purchase": lambda r: (r.last_purchase_at is None, -(r.last_purchase_at or TODAY_TS).timestamp(), r.id),
        "total_spent": lambda r: (-r.total_spent, r.id),
        "created": lambda r: (-r.created_at.timestamp(), r.id),
        "birthday": birthday_order,
    }[sort]
    expected = [r.id for r in sorted(base, key=order, reverse=reverse)]
    assert [row.id for row in every_row(Criteria(sort=sort, reverse=reverse))] == expected


@pytest.mark.parametrize("reverse", [False, True], ids=["natural", "reversed"])
@pytest.mark.parametrize("sort", list(clients.SORTS))
def test_a_page_starting_at_a_row_number_is_that_slice_of_the_order(base, sort, reverse):
    """Jumps (End, the scrollbar) start a page at a row number; the pages that follow it are keyset pages
    again, so the slice must meet the keyset order exactly, ties and NULLs included."""
    criteria = Criteria(sort=sort, reverse=reverse)
    expected = [row.id for row in every_row(criteria)]
    for start in (1, 3, len(expected) // 2, len(expected) - 2, len(expected) - 1):
        page = clients.find_page(criteria, after=clients.RowNumber(start, False), limit=4, today=TODAY)
        assert [row.id for row in page.rows] == expected[start:start + 4], start
        following = clients.find_page(criteria, after=page.next, limit=4, today=TODAY) if page.next else None
        assert ([row.id for row in following.rows] if following else []) == expected[start + 4:start + 8]
        assert page.total is None
    past = clients.find_page(criteria, after=clients.RowNumber(len(expected) + 5, False), today=TODAY)
    assert past.rows == () and past.next is None and past.total == len(expected)


def test_a_page_at_a_row_number_keeps_the_filters_and_the_search_mode(base):
    criteria = Criteria(text="иванво", filters=Filters())  # a typo: found only by the fuzzy search
    first = clients.find_page(criteria, limit=1, today=TODAY)
    assert first.fuzzy and first.next is not None
    everyone = [row.id for row in every_row(criteria, limit=1)]
    assert len(everyone) >= 2
    jumped = clients.find_page(criteria, after=clients.RowNumber(1, True), limit=1, today=TODAY)
    assert jumped.fuzzy and [row.id for row in jumped.rows] == everyone[1:2]
    regular = Criteria(filters=Filters(category="regular"))
    expected = [row.id for row in every_row(regular)]
    assert len(expected) >= 5
    page = clients.find_page(regular, after=clients.RowNumber(2, False), limit=3, today=TODAY)
    assert [row.id for row in page.rows] == expected[2:5]


TODAY_TS = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["ова", "ИВАНОВ", "stefan", "ова ан", "ова ал", "ana"])
def test_name_search_matches_every_word_in_any_order_and_case(base, text):
    expected = {r.id for r in base if matches(r, text)}
    assert expected, "the demo base should hold such names"
    found = ids(Criteria(text=text))
    if len(expected) >= clients.FUZZY_BELOW:
        assert found == expected
    else:  # few exact matches: similar names are added, never instead of them
        assert found >= expected and clients.find_page(Criteria(text=text), today=TODAY).fuzzy


def test_word_order_does_not_matter(base):
    someone = next(r for r in base if r.folded.count(" ") >= 2)
    last, first = someone.folded.split()[:2]
    assert someone.id in ids(Criteria(text=f"{first} {last}"))


def test_one_or_two_characters_search_the_start_of_the_name(base):
    start = next(r.search[:2] for r in base if r.search[:1].isalpha() and not r.search.isascii())
    expected = {r.id for r in base if r.search.startswith(start)}
    assert ids(Criteria(text=start.upper())) == expected
    assert ids(Criteria(text=start[:1])) == {r.id for r in base if r.search.startswith(start[:1])}


def test_a_typo_still_finds_the_client(base):
    surname = next(r.folded.split()[0] for r in base if len(r.folded.split()[0]) >= 7
                   and r.folded.split()[0].isalpha())
    typo = surname[:-2] + surname[-1] + surname[-2]
    page = clients.find_page(Criteria(text=typo), today=TODAY)
    assert page.fuzzy
    assert any(row.search.startswith(surname) for row in page.rows)


def test_last_digits_of_a_phone(base):
    phone = next(p for r in base for p in r.phones if p.startswith("+7"))
    tail = phone[-4:]
    expected = {r.id for r in base if any(p.endswith(tail) for p in r.phones)}
    assert ids(Criteria(text=tail)) == expected


def test_a_whole_phone_in_another_format(base):
    someone = next(r for r in base if any(p.startswith("+7") for p in r.phones))
    digits = next(p for p in someone.phones if p.startswith("+7"))[2:]
    written = f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    assert someone.id in ids(Criteria(text=written))
    assert ids(Criteria(text=written)) == {r.id for r in base if f"+7{digits}" in r.phones}


def test_email_fragment(base):
    email = next(e for r in base for e in r.emails)
    fragment = email.split("@")[0][-8:] + "@"
    expected = {r.id for r in base if any(fragment in e for e in r.emails)}
    assert ids(Criteria(text=fragment.upper())) == expected


@pytest.mark.parametrize("text", ["%", "_", "\\", "'", "\"; DROP TABLE client; --", "%%%", "_ _", "😀", "ива😀",
                                  "x" * 200, "O'Brien", "100%_\\sure"])
def test_search_text_is_data(base, text):
    found = ids(Criteria(text=text))
    if clients.search_mode(text) == "name":
        assert found >= {r.id for r in base if matches(r, text)}
    if text in ("%", "_", "%%%", "_ _", "\\"):
        assert found == set()
    assert clients.count(Criteria(text=text), today=TODAY).value >= 0


def test_special_characters_match_literally(base):
    odd = next(r.id for r in base if r.search.startswith("100%_\\sure"))
    assert ids(Criteria(text="100%_\\sure")) == {odd}
    assert ids(Criteria(text="0%_")) == {odd}


def test_fullwidth_wildcards_fold_into_literal_characters(base):
    """NFKC folding turns ％ ＿ ＼ into % _ \\; they must then be searched for, not act as wildcards."""
    odd = next(r.id for r in base if r.search.startswith("100%_\\sure"))
    assert ids(Criteria(text="％")) == set()  # no name starts with a percent sign
    assert ids(Criteria(text="＿")) == set()
    assert ids(Criteria(text="＼")) == set()
    assert ids(Criteria(text="a％")) == set()
    assert ids(Criteria(text="0％＿")) == {odd}
    assert ids(Criteria(text="ив ％")) == set()


@pytest.mark.parametrize("text", ["ива\x00нов", "\x00", "ив\udcffа", "\ud800"])
def test_unsearchable_characters_are_one_sentence(base, text):
    with pytest.raises(UserError) as raised:
        clients.find_page(Criteria(text=text), today=TODAY)
    assert raised.value.key == N_("The search text holds a character that cannot be searched for (a NUL or a broken "
                                  "character); type it again.")
    with pytest.raises(UserError):
        clients.count(Criteria(text=text), today=TODAY)


def test_search_text_has_a_limit(base):
    ten_words = " ".join(["ива"] * 10)
    assert clients.find_page(Criteria(text=ten_words), today=TODAY) is not None
    for text in (" ".join(["ива"] * 11), "ж" * 201, " ".join(["abc"] * 10_000)):
        with pytest.raises(UserError) as raised:
            clients.find_page(Criteria(text=text), today=TODAY)
        assert raised.value.key == N_("A search may hold at most {words} words and {chars} characters; shorten it.")
    assert ids(Criteria(text=" " * 300 + "O'Brien")) == {r.id for r in base if matches(r, "O'Brien")}


FILTER_CASES = {
    "category": (Filters(category="regular"), lambda r: r.category == "regular"),
    "gender": (Filters(gender="f"), lambda r: r.gender == "f"),
    "city": (Filters(city="Москва"), lambda r: r.city == "Москва"),
    "tag": (Filters(tag="йога"), lambda r: "йога" in r.tags),
    "children": (Filters(has_children=True), lambda r: r.children > 0),
    "no children": (Filters(has_children=False), lambda r: r.children == 0),
    "age": (Filters(age_min=30, age_max=39), lambda r: r.birth_date is not None and 30 <= age(r.birth_date) <= 39),
    "birthday": (Filters(birthday_within=30), lambda r: r.birth_date is not None and birthday_soon(r.birth_date, 30)),
    "quiet": (Filters(no_purchase_days=180), lambda r: r.last_purchase_at is not None
              and r.last_purchase_at < datetime(2026, 6, 15, tzinfo=timezone.utc) - timedelta(days=180)),
    "spent": (Filters(spent_min=Decimal(5000), spent_max=Decimal(20000)),
              lambda r: Decimal(5000) <= r.total_spent <= Decimal(20000)),
    "custom": (Filters(custom=(("vip", "yes"),)), lambda r: r.custom.get("vip") == "yes"),
    "combined": (Filters(category="regular", gender="m", region="Москва"),
                 lambda r: r.category == "regular" and r.gender == "m" and r.region == "Москва"),
}


def age(born: date) -> int:
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


def birthday_soon(born: date, days: int) -> bool:
    return any((d.month, d.day) == (born.month, born.day) for d in (TODAY + timedelta(n) for n in range(days + 1)))


@pytest.mark.parametrize("case", list(FILTER_CASES))
def test_filters(base, case):
    filters, wanted = FILTER_CASES[case]
    expected = {r.id for r in base if wanted(r)}
    assert expected, f"the demo base should hold clients for {case}"
    assert ids(Criteria(filters=filters)) == expected
    assert clients.count(Criteria(filters=filters), today=TODAY) == clients.Count(len(expected), exact=True)


def test_filters_combine_with_search_and_sort(base):
    expected = [r.id for r in sorted(base, key=lambda r: (-r.total_spent, r.id))
                if r.gender == "f" and "ова" in r.folded]
    assert [row.id for row in every_row(Criteria(text="ова", filters=Filters(gender="f"), sort="total_spent"))] \
        == expected


def test_extra_filter_hook(base, monkeypatch):
    monkeypatch.setitem(clients.EXTRA_FILTERS, "even", lambda value: ("c.id %% 2 = %s", [int(value)]))
    assert ids(Criteria(filters=Filters(extra=(("even", "0"),)))) == {r.id for r in base if r.id % 2 == 0}
    with pytest.raises(ValueError):
        ids(Criteria(filters=Filters(extra=(("no such", "0"),))))


def test_count_says_about_above_the_exact_limit(base, monkeypatch):
    monkeypatch.setattr(clients, "EXACT_COUNT_UP_TO", 50)
    counted = clients.count(Criteria(), today=TODAY)
    assert not counted.exact and counted.value > 50
    assert clients.count(Criteria(text="ива"), today=TODAY).exact


def test_rows_show_the_main_phone_and_email(base):
    someone = next(r for r in base if r.phones and r.emails)
    row = clients.get_rows([someone.id])[someone.id]
    assert row.phone in someone.phones and row.email.lower() in someone.emails


def test_segments_save_list_load_and_filter(base, shared_db):
    criteria = Criteria(text="ова", filters=Filters(gender="f", spent_min=Decimal("100.50")), sort="created")
    saved = segments.save("Women ova", criteria)
    assert segments.load(saved.id).criteria == criteria
    assert [s.name for s in segments.list_segments()] == ["Women ova"]
    assert ids(Criteria(filters=Filters(segment_id=saved.id))) == ids(criteria)
    session.bind(shared_db.target("sales"))
    with pytest.raises(UserError):
        segments.save("Sneaky", criteria)
    assert [s.name for s in segments.list_segments()] == ["Women ova"]


def test_listen_hands_back_the_ids_another_connection_changed(base, shared_db):
    got: list[notify.Changes] = []
    stop = threading.Event()
    listening = threading.Event()
    thread = threading.Thread(target=notify.listen, args=(notify.CLIENT_CHANGED, got.append, stop.is_set),
                              kwargs={"poll": 0.1})
    thread.start()
    try:
        with shared_db.connect("admin", autocommit=True) as conn:
            for _ in range(50):  # until the listener's LISTEN is in place
                conn.execute("UPDATE client SET notes = notes || '.' WHERE id = 5")
                if got:
                    break
                listening.wait(0.1)
        assert any(5 in changes.ids for changes in got)
    finally:
        stop.set()
        thread.join(5)


PLANS = {
    "sorted by name": (Criteria(sort="name"), "client_search_sort"),
    "sorted by last purchase": (Criteria(sort="last_purchase"), "client_last_purchase_sort"),
    "sorted by total spent": (Criteria(sort="total_spent"), "client_total_spent_sort"),
    "sorted by date added": (Criteria(sort="created"), "client_created_sort"),
    "sorted by next birthday": (Criteria(sort="birthday"), "client_birthday"),
    "reversed by name": (Criteria(sort="name", reverse=True), "client_search_sort"),
    "reversed by last purchase": (Criteria(sort="last_purchase", reverse=True), "client_last_purchase_sort"),
    "reversed by next birthday": (Criteria(sort="birthday", reverse=True), "client_birthday"),
    "name prefix": (Criteria(text="Ив"), "client_search_sort"),
    "trigram": (Criteria(text="иванов"), "client_search_trgm"),
    "last digits": (Criteria(text="4567"), "contact_point_digits"),
    "whole phone": (Criteria(text="+7 912 345-67-89"), "contact_point_normalized"),
    "e-mail": (Criteria(text="ivanov@"), "contact_point_email_trgm"),
}


@pytest.mark.parametrize("case", list(PLANS))
def test_each_page_query_can_use_the_index_named_beside_it(base, shared_db, case):
    """On 300 rows the planner rightly prefers to read the table; forbidding that shows which index the
    query can use, as the 1M base does by itself (tests/bench_clients.py)."""
    criteria, index = PLANS[case]
    first = clients.find_page(criteria, limit=5, today=TODAY)
    calls = [lambda: clients.find_page(criteria, limit=5, today=TODAY)]
    if first.next is not None:
        calls.append(lambda: clients.find_page(criteria, after=first.next, limit=5, today=TODAY))
    with shared_db.connect(autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        for call in calls:
            statement, params = max(statements_sent(call), key=lambda sent: len(sent[0]))
            plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + statement, params, prepare=False))
            assert index in plan, plan


@pytest.mark.parametrize(("sort", "reverse"), [(sort, reverse) for sort in clients.SORTS for reverse in (False, True)])
def test_a_jump_skips_its_rows_on_the_sort_index_alone(base, shared_db, sort, reverse):
    """The OFFSET of a jump (End, the scrollbar) reads only the sort's index, archived clients left out by the
    entry's own archived_at (0022): an index-only scan, not a fetch of every skipped client's row (seconds on the
    1M base) nor a sort of the table."""
    criteria = Criteria(sort=sort, reverse=reverse)
    start = clients.RowNumber(150, False)
    (statement, params), = [(sql, values) for sql, values in statements_sent(
        lambda: clients.find_page(criteria, after=start, limit=5, today=TODAY)) if "OFFSET" in sql]
    with shared_db.connect(autocommit=True) as conn:
        conn.execute("VACUUM client")  # the visibility map an index-only scan relies on, as autovacuum keeps it
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + statement, params, prepare=False))
    scans = [line for line in plan.splitlines() if "Scan" in line]
    assert scans and all("Index Only Scan" in line for line in scans), plan
    assert "Sort" not in plan, plan
