"""The search box's text as SQL over `client c`: parameters only, LIKE wildcards escaped.

Search modes, decided from the text alone:
- phone: only digits and phone punctuation, 3+ digits. A complete number (in the `phone_country`
  setting's format) matches `contact_point.normalized` exactly; a fragment matches the last digits
  through `digits_reversed`; a fragment written with "+" also matches from the start.
- e-mail: contains "@", or is one word with a dot and no letters beyond ASCII.
- name: every word must occur in `client.search` (folded last, first, middle name and company), in any
  order. A lone word of one or two characters is a prefix of the whole name (the surname, or the company
  of a company card); short words beside longer ones match the start of any word. When the plain match
  finds fewer than db.clients.listing.FUZZY_BELOW rows on the first page, the same search runs again with trigram word
  similarity, which forgives a typo or two; the page says so and its cursor carries the choice on.
"""

from __future__ import annotations

import re
import threading
import time

from db import settings
from db.errors import UserError, ValidationError
from db.normalize import normalize_phone
from db.i18n import N_

_PHONE_TEXT = re.compile(r"[\d\s+()\-.]+")
# A search is typed or pasted by a person; longer text is a mistake (a pasted document) and costs the
# server dearly: 10,000 three-letter words took 29 s on 2,000 clients, each word one more LIKE.
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 10
# The folded text escaped for LIKE in SQL, after cb_fold: folding turns fullwidth ％ ＿ ＼ into % _ \, so
# text escaped before folding would hand LIKE live wildcards.
_FOLDED_LITERAL = r"replace(replace(replace(cb_fold(%s), '\', '\\'), '%%', '\%%'), '_', '\_')"


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (backslash is PostgreSQL's default escape)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def check_search_text(text: str) -> None:
    """Refuses, in one sentence, text that PostgreSQL cannot take (NUL, a lone surrogate from a broken
    paste or argv) or that is far longer than any search a person types."""
    if "\x00" in text or any("\ud800" <= ch <= "\udfff" for ch in text):
        raise UserError(N_("The search text holds a character that cannot be searched for (a NUL or a broken "
                           "character); type it again."))
    if len(text.strip()) > MAX_SEARCH_CHARS or len(text.split()) > MAX_SEARCH_WORDS:
        raise UserError(N_("A search may hold at most {words} "
                           "words and {chars} characters; shorten it."), chars=MAX_SEARCH_CHARS, words=MAX_SEARCH_WORDS)


def search_mode(text: str) -> str:
    text = text.strip()
    if not text:
        return "all"
    if _PHONE_TEXT.fullmatch(text) and sum(ch.isdigit() for ch in text) >= 3:
        return "phone"
    if "@" in text or (" " not in text and "." in text.strip(".") and text.isascii()
                       and any(ch.isalpha() for ch in text)):
        return "email"
    return "name"


_country_cache: tuple[float, str] = (0.0, "RU")
_country_lock = threading.Lock()


def _phone_country() -> str:
    """The `phone_country` setting, re-read at most once a minute: a keystroke should cost one query."""
    global _country_cache
    with _country_lock:
        read_at, country = _country_cache
        if time.monotonic() - read_at > 60:
            country = settings.get("phone_country")
            _country_cache = (time.monotonic(), country)
        return country


def search_sql(text: str, fuzzy: bool) -> tuple[str, list]:
    check_search_text(text)
    mode = search_mode(text)
    text = text.strip()
    if mode == "all":
        return "true", []
    if mode == "phone":
        return _phone_sql(text)
    if mode == "email":
        # contact_point_email_trgm (gin, normalized gin_trgm_ops WHERE kind = 'email')
        return ("c.id IN (SELECT client_id FROM contact_point WHERE kind = 'email' "
                "AND normalized LIKE '%%' || lower(%s) || '%%')", [like_escape(text)])
    words = text.split()
    if len(words) == 1 and len(words[0]) < 3:
        # client_search_sort (search, id): the database collation is C, so LIKE 'prefix%' is a btree range.
        return f"c.search LIKE {_FOLDED_LITERAL} || '%%'", [words[0]]
    parts, params = [], []
    for word in words:
        if len(word) < 3:
            parts.append(f"(' ' || c.search) LIKE '%% ' || {_FOLDED_LITERAL} || '%%'")
            params.append(word)
        elif fuzzy:
            # client_search_trgm serves both LIKE and <% (word similarity) in one bitmap.
            parts.append(f"(c.search LIKE '%%' || {_FOLDED_LITERAL} || '%%' OR cb_fold(%s) <%% c.search)")
            params += [word, word]
        else:
            # client_search_trgm (gin, search gin_trgm_ops)
            parts.append(f"c.search LIKE '%%' || {_FOLDED_LITERAL} || '%%'")
            params.append(word)
    return " AND ".join(parts), params


def collect_first(text: str) -> bool:
    """Whether the matches are better collected through the search's own index and sorted after, than
    found by walking the sort index: true for trigram and phone searches. (Walking client_search_sort
    for the last digits "881" probes contact_point for 170,000 clients: 1.7 s on the 1M base, against
    10 ms for collecting the 1,200 numbers that end so.)"""
    mode = search_mode(text)
    return mode in ("email", "phone") or (mode == "name" and any(len(word) >= 3 for word in text.split()))


def _phone_sql(text: str) -> tuple[str, list]:
    digits = "".join(ch for ch in text if ch.isdigit())
    try:
        full = normalize_phone(text, _phone_country())
    except ValidationError:
        full = None
    if full is not None:
        # contact_point_normalized (btree)
        return "c.id = ANY(ARRAY(SELECT client_id FROM contact_point WHERE normalized = %s))", [full]
    # contact_point_digits (digits_reversed text_pattern_ops): the last digits are a prefix backwards.
    subquery = "SELECT client_id FROM contact_point WHERE digits_reversed LIKE %s"
    params: list = [digits[::-1] + "%"]
    if text.startswith("+"):
        # contact_point_normalized: under the C collation a LIKE prefix is a btree range.
        subquery += " UNION SELECT client_id FROM contact_point WHERE normalized LIKE %s"
        params.append("+" + digits + "%")
    # = ANY(ARRAY(...)) makes the matching numbers an init plan and the clients primary-key lookups; as
    # IN (...) the planner guessed ten times the rows and read the whole client table to hash-join them.
    return f"c.id = ANY(ARRAY({subquery}))", params
