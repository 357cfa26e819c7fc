"""Reading the client base: type-ahead search, filters, keyset pages and counts.

Everything here reads, binds the user's text as parameters (never as SQL) and returns frozen dataclasses.
Next to each query is the index it relies on; tests/bench_clients.py times them on the 1M demo base and
the plans were read with EXPLAIN there. The search box's text becomes SQL in db/clients/search.py.
"""

from __future__ import annotations

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

    def to_json(self) -> dict:
        return {"text": self.text, "sort": self.sort, "filters": self.filters.to_json()}

    @classmethod
    def from_json(cls, data: dict) -> "Criteria":
        sort = data.get("sort", "name")
        return cls(text=str(data.get("text", "")), filters=Filters.from_json(data.get("filters", {})),
                   sort=sort if sort in SORTS else "name")


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

    def sort_value(self, sort: str) -> object:
        return getattr(self, SORTS[sort].attribute)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after this sort value and id, in this search mode."""

    sort: str
    value: object
    id: int
    fuzzy: bool


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
    attribute: str
    descending: bool
    nullable: bool


# Each sort walks one btree index of 0001_schema.sql, with id as the tie-breaker:
#   name           client_search_sort (search, id)
#   last_purchase  client_last_purchase_sort (last_purchase_at DESC NULLS LAST, id)
#   total_spent    client_total_spent_sort (total_spent DESC, id)
#   created        client_created_sort (created_at DESC, id)
SORTS = {
    "name": _Sort("search", descending=False, nullable=False),
    "last_purchase": _Sort("last_purchase_at", descending=True, nullable=True),
    "total_spent": _Sort("total_spent", descending=True, nullable=False),
    "created": _Sort("created_at", descending=True, nullable=False),
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
       p.last_purchase_at, p.total_spent, p.created_at, p.search, ph.value AS phone, em.value AS email
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
            "c.last_purchase_at, c.total_spent, c.created_at, c.search")


def _order_sql(sort: _Sort) -> str:
    """The ORDER BY of a sort, as its index holds it."""
    direction = (" DESC NULLS LAST" if sort.nullable else " DESC") if sort.descending else ""
    return f"c.{sort.attribute}{direction}, c.id"


def _paged_sql(where: str, params: list, sort: _Sort, after: Cursor | None, limit: int,
               materialize: bool) -> tuple[str, str, list]:
    """One statement for one page. A descending sort with an ascending id tie-breaker cannot be a row
    comparison, so the page after (v, id) is, in index order: the rest of v's ties, then everything
    below v, then (for a nullable column) the NULLs. Each part is a range of the same index, and the
    LIMIT over the UNION ALL stops the Append as soon as the page is full.

    With `materialize`, the matches are collected first (a bitmap over the trigram index, or the phone
    index) and sorted after: walking the sort index instead would read past the 400,000 Latin names that
    sort before the first Cyrillic one before finding "ива" (EXPLAIN: 940 ms against 40 ms on the 1M
    base); see client_search.collect_first."""
    order = _order_sql(sort)
    prefix, source, part_where, part_params = "", "client c", where, params
    if materialize:
        prefix = f"WITH matched AS MATERIALIZED (SELECT {_COLUMNS} FROM client c WHERE {where}) "
        source, part_where, part_params = "matched c", "true", []

    def part(number: int, condition: str, values: list, part_order: str) -> tuple[str, list]:
        return (f"(SELECT {_COLUMNS}, {number} AS part FROM {source} WHERE {part_where} AND {condition} "
                f"ORDER BY {part_order} LIMIT %s)", part_params + values + [limit])

    if after is None:
        pieces = [part(0, "true", [], order)]
    elif not sort.descending:
        pieces = [part(0, f"(c.{sort.attribute}, c.id) > (%s, %s)", [after.value, after.id], order)]
    elif after.value is None:
        pieces = [part(0, f"c.{sort.attribute} IS NULL AND c.id > %s", [after.id], "c.id")]
    else:
        pieces = [part(0, f"c.{sort.attribute} = %s AND c.id > %s", [after.value, after.id], "c.id"),
                  part(1, f"c.{sort.attribute} < %s", [after.value], order)]
        if sort.nullable:
            pieces.append(part(2, f"c.{sort.attribute} IS NULL", [], "c.id"))
    union = " UNION ALL ".join(sql for sql, _ in pieces)
    values = [value for _, piece_values in pieces for value in piece_values]
    # The window restates the page order for the outer query; it sorts at most `limit` rows.
    paged = (f"SELECT c.*, row_number() OVER (ORDER BY c.part, {order}) AS ord "
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
                     total_spent=record["total_spent"], created_at=record["created_at"], search=record["search"])


def _query(fuzzy: bool, statement: str, values: list) -> list[dict]:
    if not fuzzy:
        return rows.dicts(database.execute_sql(statement, values))
    with database.atomic():
        database.execute_sql("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
                             (FUZZY_THRESHOLD,))
        return rows.dicts(database.execute_sql(statement, values))


def _fetch(criteria: Criteria, after: Cursor | None, limit: int, fuzzy: bool, today: date | None) -> list[ClientRow]:
    sort = SORTS[criteria.sort]
    where, params = where_sql(criteria, fuzzy, today)
    prefix, paged, values = _paged_sql(where, params, sort, after, limit, collect_first(criteria.text))
    return [_row(record) for record in _query(fuzzy, _ROWS_SQL.format(prefix=prefix, paged=paged), values)]


def _cursor_before(criteria: Criteria, start: RowNumber, today: date | None) -> Cursor | None:
    """The keyset cursor of the row just before `start`, None past the last match. Only the sort column
    and id are read, so without filters it is an index-only scan of the sort's index: OFFSET 999,900
    takes 70 ms on the 1M base, against 1.9 s for whole rows."""
    sort = SORTS[criteria.sort]
    where, params = where_sql(criteria, start.fuzzy, today)
    found = _query(start.fuzzy, f"SELECT c.{sort.attribute}, c.id FROM client c WHERE {where} "
                                f"ORDER BY {_order_sql(sort)} OFFSET %s LIMIT 1", params + [start.rows - 1])
    if not found:
        return None
    return Cursor(criteria.sort, found[-1][sort.attribute], found[-1]["id"], start.fuzzy)


def find_page(criteria: Criteria, after: Cursor | RowNumber | None = None, limit: int = PAGE,
              today: date | None = None) -> Page:
    """One page of the list: the first (after=None), the one following `after`, or the one starting at a
    row number (which costs an OFFSET over the sort's index: keyset pages are for scrolling, this is for
    jumping)."""
    if criteria.sort not in SORTS:
        raise ValueError(f"unknown sort {criteria.sort!r}")
    fuzzy = after.fuzzy if after is not None else False
    with database.connection_context():
        if isinstance(after, RowNumber) and after.rows > 0:
            after = _cursor_before(criteria, after, today)
            if after is None:
                return Page(rows=(), next=None, fuzzy=fuzzy, total=count(criteria, fuzzy, today, exact=True).value)
        elif isinstance(after, RowNumber):
            after = None
        found = _fetch(criteria, after, limit + 1, fuzzy, today)
        if after is None and len(found) < FUZZY_BELOW and search_mode(criteria.text) == "name" and any(
                len(word) >= 3 for word in criteria.text.split()):
            fuzzy = True
            found = _fetch(criteria, None, limit + 1, fuzzy, today)
    following = None
    if len(found) > limit:
        found = found[:limit]
        last = found[-1]
        following = Cursor(criteria.sort, last.sort_value(criteria.sort), last.id, fuzzy)
    return Page(rows=tuple(found), next=following, fuzzy=fuzzy)


def get_rows(client_ids: Sequence[int]) -> dict[int, ClientRow]:
    """Clients as the list shows them, by id, e.g. after the card saved one or another terminal changed
    some; an id that no longer exists is absent from the answer. Primary key lookups, one query."""
    paged = f"SELECT {_COLUMNS}, 1 AS ord FROM client c WHERE c.id = ANY(%s)"
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
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    return replace(criteria, sort=sort)
