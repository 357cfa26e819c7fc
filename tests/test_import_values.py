"""How the importer reads what people write: names, dates, amounts, headers. No database needed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from db.errors import UserError
from tui.transfer import columns
from tui.transfer import progress
from tui.transfer import values
from tui.transfer.readers import scan_text, sniff_delimiter
from db.i18n import N_


@pytest.mark.parametrize("text,parts", [
    ("Иванов Иван Иванович", ("Иванов", "Иван", "Иванович")),
    ("Иван Иванович Иванов", ("Иванов", "Иван", "Иванович")),
    ("Петрова Анна", ("Петрова", "Анна", "")),
    ("Анна Сергеевна", ("", "Анна", "Сергеевна")),
    ("Алиев Рашид Гасан оглы", ("Алиев", "Рашид", "Гасан оглы")),
    ("John Smith", ("Smith", "John", "")),
    ("Cher", ("Cher", "", "")),
])
def test_full_names_split_in_the_order_each_language_writes_them(text, parts):
    assert values.split_full_name(text) == parts


@pytest.mark.parametrize("text,day_first,expected", [
    ("01.02.1985", True, date(1985, 2, 1)), ("01.02.1985", False, date(1985, 2, 1)),
    ("1985-02-01", True, date(1985, 2, 1)), ("1/2/85", True, date(1985, 2, 1)),
    ("1/2/85", False, date(1985, 1, 2)), ("3 марта 1990 г.", True, date(1990, 3, 3)),
    ("12 Feb 2001", True, date(2001, 2, 12)), ("5 mai 1977", True, date(1977, 5, 5)),
    ("01.02.1985 10:30", True, date(1985, 2, 1)),
])
def test_dates_in_the_usual_written_forms(text, day_first, expected):
    assert values.parse_date(text, day_first) == expected


@pytest.mark.parametrize("text", ["31.02.1980", "soon", "1985-13-01", "00.00.0000"])
def test_impossible_dates_are_refused_with_the_value(text):
    with pytest.raises(ValueError, match="is not a date"):
        values.parse_date(text)


@pytest.mark.parametrize("text,expected", [("1 234,50", "1234.50"), ("1,234.50", "1234.50"), ("990 ₽", "990"),
                                           ("12.5", "12.5"), ("1.234,5", "1234.5")])
def test_amounts_as_shops_write_them(text, expected):
    assert values.parse_amount(text) == Decimal(expected)


def test_headers_are_guessed_in_three_languages_and_map_wins():
    headers = ["ФИО", "Моб. телефон", "E-mail", "Дата рождения", "Prenume", "Data nașterii", "Mystery"]
    mapping = columns.guess(headers, {"Mystery": "notes"})
    assert mapping.fields == ["full_name", "mobile", "email", "birth_date", "first_name", "birth_date", "notes"]
    assert mapping.unknown == []
    with pytest.raises(UserError):
        columns.guess(["Amount", "Date"], {})


def test_encodings_and_separators_are_detected(tmp_path):
    path = tmp_path / "a.csv"
    for data, expected in [("Фамилия\nИванов".encode("cp1251"), ("cp1251", 2)),
                           ("\ufeffФамилия\n".encode("utf-8"), ("utf-8-sig", 1)),
                           ("Nume\nIon\n".encode("utf-8"), ("utf-8", 2)),
                           ("Nume\nȘtefan\n".encode("utf-8"), ("utf-8", 2))]:
        path.write_bytes(data)
        assert scan_text(path) == expected
    assert sniff_delimiter('"a;b",c,d\n1;2;3') == ","
    assert sniff_delimiter("a;b;c\n") == ";" and sniff_delimiter("a\tb\n") == "\t"


def test_the_progress_bar_draws_on_a_terminal(capsys):
    with progress.bar(enabled=True) as report:
        report(N_("Reading rows"), 5, 10)
        report(N_("Writing"), 10, 10)
    assert "Writing" in capsys.readouterr().err


def test_amounts_with_thousands_separators_and_impossible_sizes():
    from tui.transfer.values import parse_amount

    assert parse_amount("12,000") == Decimal("12000")
    assert parse_amount("1,234,567") == Decimal("1234567")
    assert parse_amount("12,50") == Decimal("12.50")
    with pytest.raises(ValueError, match="too large"):
        parse_amount("99999999999")


def test_a_vcard_line_without_a_name_or_with_an_unknown_charset_is_read_around():
    from tui.transfer import vcard
    cards = list(vcard.parse("BEGIN:VCARD\r\nVERSION:2.1\r\n:stray\r\nN:Ivanov;Ivan\r\n"
                        "TEL;CELL;ENCODING=QUOTED-PRINTABLE;CHARSET=x-unknown:=38=39=31=32\r\nEND:VCARD\r\n"))
    assert cards[0].values["last_name"] == ["Ivanov"] and cards[0].values["mobile"] == ["8912"]
