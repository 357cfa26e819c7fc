"""Reading the client base: type-ahead search, filters, keyset pages and counts.

Everything here reads, binds the user's text as parameters (never as SQL) and returns frozen dataclasses.
Next to each query is the index it relies on; tests/bench_clients.py times them on the 1M demo base and
the plans were read with EXPLAIN there. The search box's text becomes SQL in db/clients/search.py.
"""

from __future__ import annotations

import calendar
import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Callable, Sequence

from db.clients.search import search_mode, search_sql, collect_first
from db import rows
from db.errors import UserError, ValidationError
from db.models import database
from db.i18n import N_
from db.settings import CATALOGUE

PAGE = 100
EXACT_COUNT_UP_TO = 10_000
FUZZY_BELOW = 5
# Word similarity that still forgives one wrong letter in a six-letter surname ("иванво" finds "иванов").
FUZZY_THRESHOLD = "0.5"
CATEGORIES = ("potential", "one-time", "regular")
GENDERS = ("m", "f")



@dataclass(frozen=True)
class Filters:
    """Combinable filters; None means "any". See `_filter_sql` for what each one means precisely."""

    category: str | None = None
    segment_id: int | None = None
    tag: str | None = None
    region: str | None = None
    city: str | None = None
    assigned_to: str | None = None
    gender: str | None = None
    age_min: int | None = None
    age_max: int | None = None
    has_children: bool | None = None
    birthday_within: int | None = None
    no_purchase_days: int | None = None
    spent_min: Decimal | None = None
    spent_max: Decimal | None = None
    # Classes of the last analytics refresh (db/analytics/reads.py): "A".."C", "A".."E", a segment's name.
    abc_class: str | None = None
    ae_class: str | None = None
    rfm_segment: str | None = None
    # None: the clients in use; True: the archived ones only (see where_sql).
    archived: bool | None = None
    custom: tuple[tuple[str, str], ...] = ()
    # The hook for filters that other parts of the app define (the ABC/RFM class of the analytics issue):
    # (name, value) pairs looked up in EXTRA_FILTERS, so a new filter needs no change here.
    extra: tuple[tuple[str, str], ...] = ()

    def active(self) -> list[tuple[str, str]]:
        """The filters in use, as (name, value) pairs, in declaration order."""
        shown: list[tuple[str, str]] = []
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None or value == ():
                continue
            if item.name in ("custom", "extra"):
                shown.extend((name, str(val)) for name, val in value)
            else:
                shown.append((item.name, str(value)))
        return shown

    def to_json(self) -> dict:
        data = {}
        for key, value in asdict(self).items():
            if value is None or value == ():
                continue
            data[key] = str(value) if isinstance(value, Decimal) else value
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Filters":
        known = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("spent_min", "spent_max"):
            if values.get(key) is not None:
                values[key] = Decimal(str(values[key]))
        for key in ("custom", "extra"):
            if key in values:
                values[key] = tuple((str(name), str(val)) for name, val in values[key])
        return cls(**values)


@dataclass(frozen=True)
class Criteria:
    """What the list shows: the search box, the filters and the sort; what a segment saves."""

    text: str = ""
    filters: Filters = field(default_factory=Filters)
    sort: str = "name"
    # The sort's order turned round (Z to A, the least spent first, the furthest birthday first...).
    reverse: bool = False

    def to_json(self) -> dict:
        data: dict = {"text": self.text, "sort": self.sort, "filters": self.filters.to_json()}
        if self.reverse:
            data["reverse"] = True
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Criteria":
        sort = data.get("sort", "name")
        return cls(text=str(data.get("text", "")), filters=Filters.from_json(data.get("filters", {})),
                   sort=sort if sort in SORTS else "name", reverse=bool(data.get("reverse", False)))


@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    phone: str
    email: str
    city: str
    category: str
    last_purchase_at: datetime | None
    total_spent: Decimal
    created_at: datetime
    search: str
    birth_date: date | None = None


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after this sort value and id, in this search mode."""

    sort: str
    value: object
    id: int
    fuzzy: bool
    # Which of the sort's ranges the row is in (see _bands): the birthday sort has three.
    band: int = 0


@dataclass(frozen=True)
class RowNumber:
    """Where a page starts when the list jumps (End, the scrollbar): this many rows from the top."""

    rows: int
    fuzzy: bool


@dataclass(frozen=True)
class Page:
    rows: tuple[ClientRow, ...]
    next: Cursor | None
    fuzzy: bool
    # Given when a RowNumber start was past the last match (the count was an estimate): how many there are.
    total: int | None = None


@dataclass(frozen=True)
class Count:
    value: int
    exact: bool


@dataclass(frozen=True)
class _Sort:
    """A sort as its btree index holds it: `expression` (over `client c`) in `descending` order with NULLs
    where the index keeps them (`nulls_last`), then id ascending. Reversed, the same index is read backward."""

    expression: str
    descending: bool
    nullable: bool
    nulls_last: bool
    # The next birthday: the index's order starts at today's (month, day) and wraps round to 1 January.
    wraps: bool = False

    @property
    def attribute(self) -> str:
        return self.expression.removeprefix("c.")


# Each sort walks one btree index, with id as the tie-breaker:
#   name           client_search_sort (search, id)
#   last_purchase  client_last_purchase_sort (last_purchase_at DESC NULLS LAST, id)
#   total_spent    client_total_spent_sort (total_spent DESC, id)
#   created        client_created_sort (created_at DESC, id)
#   birthday       client_birthday (month * 100 + day, id) of 0016, in two ranges: from today's day to the
#                  year's end, then from 1 January to yesterday; clients without a birth date last.
#                  EXPLAIN ANALYZE on the 1M base (statistics fresh): first page 8 ms, next pages 1-2 ms,
#                  the 32nd page 46 ms (a bitmap over one day's 2,700 birthdays for the ties), reversed
#                  1-20 ms; every part an index range of client_birthday, no sort of the million rows.
#                  Without statistics on the index's expression (ANALYZE not run since 0016 built it) the
#                  planner misjudges the ranges: run ANALYZE client after that migration.
_BIRTHDAY_KEY = "(extract(month FROM c.birth_date) * 100 + extract(day FROM c.birth_date))"
SORTS = {
    "name": _Sort("c.search", descending=False, nullable=False, nulls_last=True),
    "last_purchase": _Sort("c.last_purchase_at", descending=True, nullable=True, nulls_last=True),
    "total_spent": _Sort("c.total_spent", descending=True, nullable=False, nulls_last=False),
    "created": _Sort("c.created_at", descending=True, nullable=False, nulls_last=False),
    "birthday": _Sort(_BIRTHDAY_KEY, descending=False, nullable=True, nulls_last=True, wraps=True),
}


# What a number filter can sensibly hold; anything outside is a typing mistake, said before any query.
FILTER_LIMITS: dict[str, tuple[int, int]] = {
    "age_min": (0, 150), "age_max": (0, 150), "birthday_within": (0, 366), "no_purchase_days": (0, 36_500),
    "spent_min": (0, 10**12), "spent_max": (0, 10**12),
}


def check_filter_number(name: str, value: int | Decimal) -> None:
    low, high = FILTER_LIMITS[name]
    if not low <= value <= high:
        raise ValidationError(name, N_("expected a number from {low} to {high:,}."), low=low, high=high)


# name -> function(value) returning (SQL over client c, parameters); see Filters.extra.
EXTRA_FILTERS: dict[str, Callable[[str], tuple[str, list]]] = {}

# The clients of one class in the last published analytics refresh (migration 0011: readers follow the slot
# of the latest published run; analytics_run_published keeps that one index probe, then the slot's primary
# key). A client added since the refresh is in no class yet.
_ANALYTICS_CLASS_SQL = ("c.id IN (SELECT a.client_id FROM analytics_client a WHERE a.slot = (SELECT slot FROM"
                        " analytics_run WHERE published ORDER BY id DESC LIMIT 1) AND a.{column} = %s)")


# --- filters -------------------------------------------------------------------------------------------


def _years_ago(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        return today.replace(year=today.year - years, day=28)


def _filter_sql(filters: Filters, today: date, seen_segments: frozenset[int] = frozenset()) -> tuple[str, list]:
    parts: list[str] = []
    params: list = []
    for name in FILTER_LIMITS:  # a saved segment may hold what the filter panel would refuse today
        if getattr(filters, name) is not None:
            check_filter_number(name, getattr(filters, name))

    def add(sql: str, *values: object) -> None:
        parts.append(sql)
        params.extend(values)

    if filters.category is not None:
        add("c.category = %s", filters.category)
    if filters.tag is not None:
        add("c.tags @> ARRAY[%s]::text[]", filters.tag)  # client_tags (gin)
    if filters.region is not None:
        add("c.region = %s", filters.region)  # client_region_city
    if filters.city is not None:
        add("c.city = %s", filters.city)
    if filters.assigned_to is not None:
        add("c.assigned_to = %s", filters.assigned_to)  # client_assigned_to
    if filters.gender is not None:
        add("c.gender = %s", filters.gender)
    if filters.age_min is not None:
        add("c.birth_date <= %s", _years_ago(today, filters.age_min))
    if filters.age_max is not None:
        add("c.birth_date > %s", _years_ago(today, filters.age_max + 1))
    if filters.has_children is not None:
        # relative_client
        exists = "EXISTS (SELECT 1 FROM relative r WHERE r.client_id = c.id AND r.relation = 'child')"
        add(exists if filters.has_children else f"NOT {exists}")
    if filters.birthday_within is not None:
        # client_birthday, an index on month * 100 + day: the coming days as a list of those numbers.
        days = [today + timedelta(days=n) for n in range(min(filters.birthday_within, 366) + 1)]
        keys = sorted({d.month * 100 + d.day for d in days} | ({229} if any(
            (d.month, d.day) == (3, 1) for d in days) else set()))
        add("(extract(month FROM c.birth_date) * 100 + extract(day FROM c.birth_date)) = ANY(%s::numeric[])",
            keys)
    if filters.no_purchase_days is not None:
        # Gone quiet: bought before, not since; a client who never bought is the "potential" category.
        since = datetime(today.year, today.month, today.day, tzinfo=timezone.utc) - timedelta(
            days=filters.no_purchase_days)
        add("c.last_purchase_at < %s", since)
    if filters.spent_min is not None:
        add("c.total_spent >= %s", filters.spent_min)
    if filters.spent_max is not None:
        add("c.total_spent <= %s", filters.spent_max)
    for name in ("abc_class", "ae_class", "rfm_segment"):
        if getattr(filters, name) is not None:
            add(_ANALYTICS_CLASS_SQL.format(column=name), getattr(filters, name))
    for name, value in filters.custom:
        add("c.custom ->> %s = %s", name, value)
    for name, value in filters.extra:
        try:
            sql, values = EXTRA_FILTERS[name](value)
        except KeyError:
            raise ValueError(f"no filter named {name!r} is registered") from None
        add(f"({sql})", *values)
    if filters.segment_id is not None:
        add(*_segment_sql(filters.segment_id, today, seen_segments))
    return " AND ".join(parts) or "true", params


def _segment_sql(segment_id: int, today: date, seen: frozenset[int]) -> tuple[str, ...]:
    if segment_id in seen:
        return ("true",)  # a segment that includes itself adds nothing more
    stored = rows.value(database.execute_sql("SELECT filter FROM segment WHERE id = %s", (segment_id,)))
    if stored is None:
        raise UserError(N_("That segment no longer exists; someone may have deleted it."))
    saved = Criteria.from_json(stored if isinstance(stored, dict) else json.loads(stored))
    search, search_params = search_sql(saved.text, fuzzy=False)
    rest, rest_params = _filter_sql(saved.filters, today, seen | {segment_id})
    return (f"({search}) AND ({rest})", *search_params, *rest_params)


def where_sql(criteria: Criteria, fuzzy: bool, today: date | None) -> tuple[str, list]:
    """The WHERE condition (over `client c`) and its parameters for what the list shows; export reuses it."""
    search, search_params = search_sql(criteria.text, fuzzy)
    rest, rest_params = _filter_sql(criteria.filters, today or date.today())
    # Archived clients (0018) are out of the list, exports and mailings until the filter asks for them. Most
    # clients are in use, so the condition is a cheap check of the rows the sort index already yields.
    archived = "c.archived_at IS NOT NULL" if criteria.filters.archived else "c.archived_at IS NULL"
    return f"({search}) AND ({rest}) AND {archived}", search_params + rest_params


# --- pages ---------------------------------------------------------------------------------------------

# The page's rows with what the list shows: the company's name, the main phone and e-mail
# (contact_point_client for each lateral lookup, so the cost is per shown row, not per match).
_ROWS_SQL = """{prefix}
SELECT p.id, p.kind, p.last_name, p.first_name, p.middle_name,
       (SELECT name FROM company WHERE id = p.company_id) AS company, p.city, p.category,
       p.last_purchase_at, p.total_spent, p.created_at, p.search, p.birth_date, p.band, p.sort_key,
       ph.value AS phone, em.value AS email
  FROM ({paged}) p
  LEFT JOIN LATERAL (SELECT normalized AS value FROM contact_point
                      WHERE client_id = p.id AND kind IN ('mobile', 'work', 'home', 'whatsapp')
                      ORDER BY is_primary DESC, kind = 'mobile' DESC, id LIMIT 1) ph ON true
  LEFT JOIN LATERAL (SELECT value FROM contact_point
                      WHERE client_id = p.id AND kind = 'email'
                      ORDER BY is_primary DESC, id LIMIT 1) em ON true
 ORDER BY p.ord
"""
_COLUMNS = ("c.id, c.kind, c.last_name, c.first_name, c.middle_name, c.company_id, c.city, c.category, "
            "c.last_purchase_at, c.total_spent, c.created_at, c.search, c.birth_date")


def birthday_start(today: date) -> int:
    """month * 100 + day where the next-birthday order starts: today, or 29 February on 1 March of a year
    without one (such a birthday is kept on 1 March, as the Today screen does)."""
    if (today.month, today.day) == (3, 1) and not calendar.isleap(today.year):
        return 229
    return today.month * 100 + today.day


def _order_sql(sort: _Sort, reverse: bool) -> str:
    """The ORDER BY of a sort, as its index holds it (read backward when reversed)."""
    descending, nulls_last = sort.descending != reverse, sort.nulls_last != reverse
    return (f"{sort.expression} {'DESC' if descending else 'ASC'} NULLS {'LAST' if nulls_last else 'FIRST'}, "
            f"c.id {'DESC' if reverse else 'ASC'}")


def _bands(sort: _Sort, reverse: bool, today: date) -> list[tuple[str, list]]:
    """The ranges of the sort's index that the list reads one after the other, as conditions over `client c`.
    The next birthday cannot be one ORDER BY over an index (it wraps round at the year's end), but it is
    two ranges of client_birthday and the NULLs, each read in index order."""
    if sort.wraps:
        start = birthday_start(today)
        # "birth_date IS NULL", not the expression: the column's statistics know that one client in seven
        # has no birth date, so the planner walks the index (LIMIT) instead of a bitmap of 150,000 rows
        # (1 s on the 1M base) that the expression's default estimate of 0.5 % invites.
        bands = [(f"{sort.expression} >= %s", [start]), (f"{sort.expression} < %s", [start]),
                 ("c.birth_date IS NULL", [])]
    elif sort.nullable:
        bands = [(f"{sort.expression} IS NOT NULL", []), (f"{sort.expression} IS NULL", [])]
        if not sort.nulls_last:
            bands.reverse()
    else:
        bands = [("true", [])]
    return bands[::-1] if reverse else bands


def _paged_sql(where: str, params: list, sort: _Sort, reverse: bool, today: date, after: Cursor | None,
               limit: int, materialize: bool) -> tuple[str, str, list]:
    """One statement for one page. The page after (band, v, id) is, in index order: the rest of v's ties
    (by id), then the rest of v's band, then each following band. A descending sort with an ascending id
    tie-breaker cannot be a row comparison, hence the split; each part is a range of the same index, and
    the LIMIT over the UNION ALL stops the Append as soon as the page is full.

    With `materialize`, the matches are collected first (a bitmap over the trigram index, or the phone
    index) and sorted after: walking the sort index instead would read past the 400,000 Latin names that
    sort before the first Cyrillic one before finding "ива" (EXPLAIN: 940 ms against 40 ms on the 1M
    base); see client_search.collect_first."""
    order = _order_sql(sort, reverse)
    prefix, source, part_where, part_params = "", "client c", where, params
    if materialize:
        prefix = f"WITH matched AS MATERIALIZED (SELECT {_COLUMNS} FROM client c WHERE {where}) "
        source, part_where, part_params = "matched c", "true", []
    pieces: list[tuple[str, list]] = []

    def part(band: int, condition: str, values: list) -> None:
        pieces.append((f"(SELECT {_COLUMNS}, {band} AS band, {sort.expression} AS sort_key, {len(pieces)} AS part "
                       f"FROM {source} WHERE {part_where} AND {condition} ORDER BY {order} LIMIT %s)",
                       part_params + values + [limit]))

    bands = _bands(sort, reverse, today)
    first = 0
    if after is not None:
        first = after.band + 1
        condition, values = bands[after.band]
        later_id = "<" if reverse else ">"
        if after.value is None:
            part(after.band, f"{condition} AND c.id {later_id} %s", values + [after.id])
        else:
            later_value = "<" if sort.descending != reverse else ">"
            part(after.band, f"{condition} AND {sort.expression} = %s AND c.id {later_id} %s",
                 values + [after.value, after.id])
            part(after.band, f"{condition} AND {sort.expression} {later_value} %s", values + [after.value])
    for band in range(first, len(bands)):
        part(band, *bands[band])
    union = " UNION ALL ".join(sql for sql, _ in pieces)
    values = [value for _, piece_values in pieces for value in piece_values]
    # The window restates the page order for the outer query; it sorts at most `limit` rows.
    window = order.replace(sort.expression, "c.sort_key")
    paged = (f"SELECT c.*, row_number() OVER (ORDER BY c.part, {window}) AS ord "
             f"FROM (SELECT * FROM ({union}) u LIMIT %s) c")
    return prefix, paged, (params if materialize else []) + values + [limit]


def _row(record: dict) -> ClientRow:
    company = record["company"]
    name = " ".join(part for part in (record["last_name"], record["first_name"], record["middle_name"]) if part)
    if record["kind"] == "company" or not name:
        name = company or name
    elif company:
        name = f"{name} ({company})"
    return ClientRow(id=record["id"], name=name, phone=record["phone"] or "", email=record["email"] or "",
                     city=record["city"], category=record["category"], last_purchase_at=record["last_purchase_at"],
                     total_spent=record["total_spent"], created_at=record["created_at"], search=record["search"],
                     birth_date=record["birth_date"])


def _query(fuzzy: bool, statement: str, values: list) -> list[dict]:
    if not fuzzy:
        return rows.dicts(database.execute_sql(statement, values))
    with database.atomic():
        database.execute_sql("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                             (FUZZY_THRESHOLD,))
        return rows.dicts(database.execute_sql(statement, values))


def _fetch(criteria: Criteria, after: Cursor | None, limit: int, fuzzy: bool,
           today: date) -> tuple[list[ClientRow], list[Cursor]]:
    """The rows, and for each the cursor of the page that would follow it."""
    sort = SORTS[criteria.sort]
    where, params = where_sql(criteria, fuzzy, today)
    prefix, paged, values = _paged_sql(where, params, sort, criteria.reverse, today, after, limit,
                                       collect_first(criteria.text))
    records = _query(fuzzy, _ROWS_SQL.format(prefix=prefix, paged=paged), values)
    cursors = [Cursor(criteria.sort, record["sort_key"], record["id"], fuzzy, record["band"]) for record in records]
    return [_row(record) for record in records], cursors


def _cursor_before(criteria: Criteria, start: RowNumber, today: date) -> Cursor | None:
    """The keyset cursor of the row just before `start`, None past the last match. Only the sort key and
    id are read (OFFSET 999,900 took 70 ms on the 1M base as an index-only scan, against 1.9 s for whole
    rows). The bands are read one after the other (an Append of index ranges, each stopping at `start`
    rows). Every query also filters out archived clients (0018): the sort indexes carry archived_at (0022), so
    that filter is checked on the index entry and the skip stays index-only (by name, row 500,000 of the 1M
    base: 2.3 s while the row of each skipped client was read, 0.1 s since)."""
    sort = SORTS[criteria.sort]
    where, params = where_sql(criteria, start.fuzzy, today)
    order = _order_sql(sort, criteria.reverse)
    parts, values = [], []
    for band, (condition, band_values) in enumerate(_bands(sort, criteria.reverse, today)):
        parts.append(f"(SELECT {band} AS band, {sort.expression} AS sort_key, c.id FROM client c "
                     f"WHERE {where} AND {condition} ORDER BY {order} LIMIT %s)")
        values += params + band_values + [start.rows]
    found = _query(start.fuzzy, f"SELECT * FROM ({' UNION ALL '.join(parts)}) u OFFSET %s LIMIT 1",
                   values + [start.rows - 1])
    if not found:
        return None
    return Cursor(criteria.sort, found[-1]["sort_key"], found[-1]["id"], start.fuzzy, found[-1]["band"])


def shop_today() -> date:
    """Today's date in the shop's time zone (the `timezone` setting), where birthdays are counted."""
    return rows.value(database.execute_sql(
        "SELECT (now() AT TIME ZONE coalesce((SELECT value FROM public.settings WHERE key = 'timezone'), %s))::date",
        (CATALOGUE["timezone"].default,)))


def find_page(criteria: Criteria, after: Cursor | RowNumber | None = None, limit: int = PAGE,
              today: date | None = None) -> Page:
    """One page of the list: the first (after=None), the one following `after`, or the one starting at a
    row number (which costs an OFFSET over the sort's index: keyset pages are for scrolling, this is for
    jumping). `today` (for the birthday sort and the age filters) defaults to the shop's date."""
    if criteria.sort not in SORTS:
        raise ValueError(f"unknown sort {criteria.sort!r}")
    fuzzy = after.fuzzy if after is not None else False
    with database.connection_context():
        today = today or shop_today()
        if isinstance(after, RowNumber) and after.rows > 0:
            after = _cursor_before(criteria, after, today)
            if after is None:
                return Page(rows=(), next=None, fuzzy=fuzzy, total=count(criteria, fuzzy, today, exact=True).value)
        elif isinstance(after, RowNumber):
            after = None
        found, cursors = _fetch(criteria, after, limit + 1, fuzzy, today)
        if after is None and len(found) < FUZZY_BELOW and search_mode(criteria.text) == "name" and any(
                len(word) >= 3 for word in criteria.text.split()):
            fuzzy = True
            found, cursors = _fetch(criteria, None, limit + 1, fuzzy, today)
    following = None
    if len(found) > limit:
        found, following = found[:limit], cursors[limit - 1]
    return Page(rows=tuple(found), next=following, fuzzy=fuzzy)


def get_rows(client_ids: Sequence[int]) -> dict[int, ClientRow]:
    """Clients as the list shows them, by id, e.g. after the card saved one or another terminal changed
    some; an id that no longer exists is absent from the answer. Primary key lookups, one query."""
    paged = f"SELECT {_COLUMNS}, 0 AS band, NULL AS sort_key, 1 AS ord FROM client c WHERE c.id = ANY(%s)"
    with database.connection_context():
        records = rows.dicts(database.execute_sql(_ROWS_SQL.format(prefix="", paged=paged), (list(client_ids),)))
    return {row.id: row for row in map(_row, records)}


def count(criteria: Criteria, fuzzy: bool = False, today: date | None = None, exact: bool = False) -> Count:
    """Exact up to EXACT_COUNT_UP_TO (the LIMIT stops the scan there), the planner's estimate above; with
    `exact`, exact whatever it costs (a full count of a million rows: 30 ms to 400 ms)."""
    where, params = where_sql(criteria, fuzzy, today)
    up_to = None if exact else EXACT_COUNT_UP_TO + 1
    with database.connection_context(), database.atomic():
        if fuzzy:
            database.execute_sql("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                                 (FUZZY_THRESHOLD,))
        counted = rows.value(database.execute_sql(
            f"SELECT count(*) FROM (SELECT 1 FROM client c WHERE {where} LIMIT %s) s", params + [up_to]))
        if exact or counted <= EXACT_COUNT_UP_TO:
            return Count(counted, exact=True)
        plan = rows.value(database.execute_sql(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM client c WHERE {where}",
                                               params))
    plan = plan if isinstance(plan, list) else json.loads(plan)
    # EXPLAIN's JSON is a list holding the one statement's plan.
    (statement,) = plan
    return Count(max(int(statement["Plan"]["Plan Rows"]), EXACT_COUNT_UP_TO + 1), exact=False)


def with_sort(criteria: Criteria, sort: str) -> Criteria:
    """Another sort, in its natural direction."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    return replace(criteria, sort=sort, reverse=False)


def reversed_sort(criteria: Criteria) -> Criteria:
    return replace(criteria, reverse=not criteria.reverse)
