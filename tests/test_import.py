"""Importing clients as a new user would: spreadsheets from Excel, phones' vCards, messy rows."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tui.importing import ImportOptions, run_import

RU_HEADERS = ["Код клиента", "ФИО", "Моб. телефон", "E-mail", "Дата рождения", "Город", "Хобби"]
RU_ROWS = [
    ["1001", "Иванов Иван Иванович", "8 (912) 345-67-89", "Ivanov@Mail.ru", "01.02.1985", "Москва", "рыбалка"],
    ["1002", "Петрова Анна Сергеевна", "+7 913 111 22 33", "", "15.07.1990", "Казань", ""],
    ["1003", "Сидоров Пётр", "89140000001", "petr@yandex.ru", "", "Сочи", "йога, бег"],
]


def run_cli(db, *args, role="admin"):
    return subprocess.run([sys.executable, "-m", "tui.cli", *map(str, args)], env=db.env(role),
                          capture_output=True, text=True, timeout=120)


def write_csv(path: Path, headers, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(headers)
        writer.writerows(rows)
    return path


def clients(db):
    with db.connect() as conn:
        return conn.execute("SELECT external_key, last_name, first_name, middle_name, gender, birth_date::text, city,"
                            " tags FROM client ORDER BY external_key NULLS LAST, last_name").fetchall()


def contacts(db):
    with db.connect() as conn:
        return conn.execute("SELECT c.external_key, cp.kind, cp.normalized, cp.is_primary FROM contact_point cp "
                            "JOIN client c ON c.id = cp.client_id ORDER BY 1, 2, 3").fetchall()


@pytest.mark.parametrize("encoding,delimiter", [("cp1251", ";"), ("utf-8-sig", ";"), ("utf-8", ","),
                                                ("utf-8", "\t")])
def test_csv_in_each_encoding_and_separator(fresh_db, tmp_path, encoding, delimiter):
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS, encoding, delimiter)
    result = run_cli(fresh_db, "import", path)
    assert result.returncode == 0, result.stderr
    assert "new clients:                 3" in result.stdout
    assert clients(fresh_db) == [
        ("1001", "Иванов", "Иван", "Иванович", "m", "1985-02-01", "Москва", ["рыбалка"]),
        ("1002", "Петрова", "Анна", "Сергеевна", "f", "1990-07-15", "Казань", []),
        ("1003", "Сидоров", "Пётр", "", None, None, "Сочи", ["йога", "бег"]),
    ]
    assert contacts(fresh_db) == [
        ("1001", "email", "ivanov@mail.ru", True), ("1001", "mobile", "+79123456789", True),
        ("1002", "mobile", "+79131112233", True),
        ("1003", "email", "petr@yandex.ru", True), ("1003", "mobile", "+79140000001", True),
    ]
