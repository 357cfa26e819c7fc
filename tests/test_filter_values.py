"""The filter panel's suggestions: the base's own values, most common first, checked against a count made
in Python from the raw rows."""

from __future__ import annotations

from collections import Counter
from datetime import date

from db import demo, session
from db.clients.filter_values import filter_values, spelled_as_in_base


def _most_common_first(values) -> list[str]:
    counts = Counter(value for value in values if value)
    return sorted(counts, key=lambda value: (-counts[value], value))


def test_values_are_those_of_the_base_most_common_first(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 400, seed=3, as_of=date(2026, 6, 15))
        rows = conn.execute("SELECT region, city, assigned_to, tags FROM client").fetchall()
    session.bind(fresh_db.target("sales"))
    found = session.read(filter_values)
    assert found["region"] == _most_common_first(row[0] for row in rows)
    assert found["city"] == _most_common_first(row[1] for row in rows)
    assert found["assigned_to"] == _most_common_first(row[2] for row in rows)
    assert found["tag"] == _most_common_first(tag for row in rows for tag in row[3])
    assert found["city"] and found["tag"]


def test_a_typed_value_takes_the_spelling_of_the_base_only_when_it_differs_in_case():
    assert spelled_as_in_base("edinburgh", ["London", "Edinburgh"]) == "Edinburgh"
    assert spelled_as_in_base("москва", ["Москва"]) == "Москва"
    assert spelled_as_in_base("Edinburg", ["Edinburgh"]) == "Edinburg"
