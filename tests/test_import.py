"""Importing clients as a new user would: spreadsheets from Excel, phones' vCards, messy rows."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tui.transfer.import_job import ImportOptions, run_import
from db.i18n import N_

RU_HEADERS = ["Код клиента", "ФИО", "Моб. телефон", "E-mail", "Дата рождения", "Город", "Хобби"]
RU_ROWS = [
    ["1001", "Иванов Иван Иванович", "8 (912) 345-67-89", "Ivanov@Mail.ru", "01.02.1985", "Москва", "рыбалка"],
    ["1002", "Петрова Анна Сергеевна", "+7 913 111 22 33", "", "15.07.1990", "Казань", ""],
    ["1003", "Сидоров Пётр", "89140000001", "petr@yandex.ru", "", "Сочи", "йога, бег"],
]


def run_cli(db, *args, role="admin"):
    """A real `clientbase` process. Tests that check only what an import wrote and said take `cli_in_process`
    (the same answer without an interpreter's start-up); the dry run, xlsx, vCard, command-line mistakes,
    roles and custom fields keep real processes here, as test_import_purchases and test_import_bad_files do."""
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
def test_csv_in_each_encoding_and_separator(fresh_db, tmp_path, encoding, delimiter, cli_in_process):
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS, encoding, delimiter)
    result = cli_in_process(fresh_db, "import", path)
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


def test_malformed_rows_go_to_the_reject_file_and_the_rest_imports(fresh_db, tmp_path, cli_in_process):
    path = tmp_path / "messy.csv"
    path.write_text(
        "Фамилия;Имя;Телефон;E-mail;Дата рождения\n"
        "Орлов;Олег;+7 912 000 11 22;oleg@mail.ru;03.04.1979\n"
        "Белова;Вера;+7 912 000 11 23;;31.02.1980\n"          # no such date
        "Козлов;Игорь;12;;\n"                                 # impossible phone
        ";;+7 912 000 11 24;nobody@mail.ru;\n"                # no name
        "Жуков;Павел;+7 912 000 11 25;pavel@mail.ru;;лишнее\n"  # a column too many
        "Зуев;Антон;;not-an-email;\n"                          # bad e-mail
        '"Лебедева";"Ирина";"+7 912 000 11 26";"";"1.1.1990"\n',
        encoding="cp1251")
    result = cli_in_process(fresh_db, "import", path)
    assert result.returncode == 0, result.stderr
    assert "new clients:                 2" in result.stdout
    assert "invalid rows:                5" in result.stdout
    with open(tmp_path / "messy.rejected.csv", encoding="cp1251", newline="") as rejected:
        rows = list(csv.reader(rejected, delimiter=";"))
    assert rows[0] == ["Фамилия", "Имя", "Телефон", "E-mail", "Дата рождения", "Reason rejected"]
    reasons = {row[0]: row[-1] for row in rows[1:]}
    assert "'31.02.1980' is not a date" in reasons["Белова"]
    assert reasons["Козлов"].startswith("Телефон: ")
    assert "neither a name nor a company" in reasons[""]
    assert "6 columns" in reasons["Жуков"]
    assert reasons["Зуев"].startswith("E-mail: ")
    assert [row[0] for row in clients(fresh_db)] == [None, None]
    # The fixed reject file imports on its own; its reason column is reported, not imported.
    rows[1:] = [["Белова", "Вера", "+7 912 000 11 23", "", "28.02.1980", ""]]
    with open(tmp_path / "fixed.csv", "w", encoding="cp1251", newline="") as out:
        csv.writer(out, delimiter=";").writerows(rows)
    again = cli_in_process(fresh_db, "import", tmp_path / "fixed.csv")
    assert "new clients:                 1" in again.stdout and "Reason rejected" in again.stdout


def test_reimporting_the_same_file_adds_nothing_and_duplicates_merge(fresh_db, tmp_path, cli_in_process):
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS + [
        # The same person again in the file, by phone in another format, with a second e-mail.
        ["", "Иванов Иван", "+79123456789", "ivan.work@mail.ru", "", "", ""],
    ])
    first = cli_in_process(fresh_db, "import", path)
    assert "duplicate rows in the file:  1" in first.stdout, first.stdout
    before = (clients(fresh_db), contacts(fresh_db))
    with fresh_db.connect() as conn:
        audit_before = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    second = cli_in_process(fresh_db, "import", path)
    assert "new clients:                 0" in second.stdout
    assert "clients already up to date:  3" in second.stdout
    assert (clients(fresh_db), contacts(fresh_db)) == before
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM audit_log").fetchone()[0] == audit_before
    assert ("1001", "email", "ivan.work@mail.ru", False) in before[1]


def test_a_later_file_fills_empty_fields_and_never_overwrites_without_overwrite(fresh_db, tmp_path, cli_in_process):
    cli_in_process(fresh_db, "import", write_csv(tmp_path / "a.csv", RU_HEADERS, RU_ROWS))
    later = write_csv(tmp_path / "b.csv", ["Телефон", "Фамилия", "Имя", "Город", "Дата рождения", "Пол"],
                      [["8 914 000-00-01", "Сидоров", "Пётр", "Адлер", "05.05.1975", "м"]])
    result = cli_in_process(fresh_db, "import", later)
    assert "clients updated:             1" in result.stdout, result.stdout
    row = [r for r in clients(fresh_db) if r[0] == "1003"][0]
    assert (row[4], row[5], row[6]) == ("m", "1975-05-05", "Сочи")
    cli_in_process(fresh_db, "import", later, "--overwrite")
    assert [r for r in clients(fresh_db) if r[0] == "1003"][0][6] == "Адлер"


def test_dry_run_counts_and_writes_nothing(fresh_db, tmp_path):
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS + [["1004", "Без Телефона", "12", "", "", "", ""]])
    result = run_cli(fresh_db, "import", path, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "new clients:                 3" in result.stdout
    assert "invalid rows:                1" in result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert clients(fresh_db) == []
    assert not (tmp_path / "clients.rejected.csv").exists()


def test_xlsx_named_sheet_and_romanian_headers(fresh_db, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Clienți")
    sheet.append(["Nume", "Prenume", "Telefon", "Data nașterii", "Oraș", "Hobby"])
    sheet.append(["Popescu", "Ion", "+373 69 123 456", __import__("datetime").datetime(1980, 3, 4), "Chișinău", "vin"])
    sheet.append(["Rusu", "Maria", 37379000111, "4/3/1985", "Bălți", None])
    sheet.append(["Lungu", "Ana", "0", None, None, None])
    book.save(tmp_path / "clienti.xlsx")
    result = run_cli(fresh_db, "import", tmp_path / "clienti.xlsx", "--sheet", "Clienți", "--map", "Hobby=tags")
    assert result.returncode == 0, result.stderr
    assert clients(fresh_db) == [(None, "Popescu", "Ion", "", None, "1980-03-04", "Chișinău", ["vin"]),
                                 (None, "Rusu", "Maria", "", None, "1985-03-04", "Bălți", [])]
    assert sorted(c[2] for c in contacts(fresh_db)) == ["+37369123456", "+37379000111"]
    rejected = openpyxl.load_workbook(tmp_path / "clienti.rejected.xlsx").worksheets[0]
    assert rejected.title == "Clienți"
    rows = list(rejected.iter_rows(values_only=True))
    assert rows[0][-1] == "Reason rejected" and rows[1][:2] == ("Lungu", "Ana") and rows[1][-1].startswith("Telefon")


VCARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Смирнова;Елена;Викторовна;;\r\nFN:Елена Смирнова\r\n"
    "TEL;TYPE=CELL:+7 916 123-45-67\r\nTEL;TYPE=WORK,VOICE:+7 495 123-45-67\r\n"
    "EMAIL;TYPE=INTERNET:elena@mail.ru\r\nEMAIL;TYPE=INTERNET,WORK:e.smirnova@firm.ru\r\n"
    "NOTE:Очень длинная заметка о клиентке, которая не помещается в одну строку и потому\r\n"
    "  перенесена по правилам vCard\r\nBDAY:1988-11-30\r\nORG:ООО «Вектор»;Отдел\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\nVERSION:4.0\nFN:John Smith\nN:Smith;John;;;\nTEL;VALUE=uri;TYPE=\"cell,voice\":tel:+44-7931-123456\n"
    "item1.EMAIL:john@example.com\nEND:VCARD\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=9F=D0=B5=D1=82=D1=80=D0=BE=D0=B2;=D0=\r\n"
    "=9F=D1=91=D1=82=D1=80\r\nTEL;CELL:89261112233\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken Phone\r\nN:Phone;Broken;;;\r\nTEL;TYPE=CELL:123\r\nEND:VCARD\r\n"
)


def test_vcards_with_several_phones_and_emails_and_folded_lines(fresh_db, tmp_path):
    (tmp_path / "contacts.vcf").write_text(VCARDS, encoding="utf-8", newline="")
    result = run_cli(fresh_db, "import", tmp_path / "contacts.vcf")
    assert result.returncode == 0, result.stderr
    assert "new clients:                 3" in result.stdout
    with fresh_db.connect() as conn:
        smirnova = conn.execute("SELECT c.notes, c.birth_date::text, c.gender, co.name FROM client c "
                                "JOIN company co ON co.id = c.company_id WHERE last_name = 'Смирнова'").fetchone()
        kinds = conn.execute("SELECT kind, normalized FROM contact_point ORDER BY normalized").fetchall()
        petrov = conn.execute("SELECT first_name FROM client WHERE last_name = 'Петров'").fetchone()
    assert smirnova == ("Очень длинная заметка о клиентке, которая не помещается в одну строку и потому "
                        "перенесена по правилам vCard", "1988-11-30", "f", "ООО «Вектор»")
    assert ("work", "+74951234567") in kinds and ("mobile", "+79161234567") in kinds
    assert ("email", "e.smirnova@firm.ru") in kinds and ("mobile", "+447931123456") in kinds
    assert petrov == ("Пётр",)
    rejected = (tmp_path / "contacts.rejected.vcf").read_text(encoding="utf-8")
    assert rejected.count("BEGIN:VCARD") == 1 and "X-CLIENTBASE-REJECTED:" in rejected


def test_a_failure_mid_import_leaves_nothing_behind(admin_session, tmp_path):
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS)

    def crash(stage, done, total):
        if stage == N_("Writing") and done >= total // 2 and done:
            raise RuntimeError("the power went out")

    with pytest.raises(RuntimeError):
        run_import(path, ImportOptions(), crash)
    assert clients(admin_session) == [] and contacts(admin_session) == []


@pytest.mark.parametrize("args,message", [
    (["import", "missing.csv"], "There is no file"),
    (["import", "clients.csv", "--map", "Nope=mobile"], "which the file does not have"),
    (["import", "clients.csv", "--map", "ФИО=shoe_size"], "which does not exist"),
    (["import", "clients.csv", "--map", "broken"], "--map expects COLUMN=FIELD"),
    (["import", "clients.csv", "--purchases"], "needs a date column"),
    (["import", "book.xlsx"], "not an Excel workbook"),
])
def test_bad_input_on_the_command_line_is_one_sentence(fresh_db, tmp_path, args, message):
    write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS)
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    args = [str(tmp_path / a) if a.endswith((".csv", ".xlsx")) else a for a in args]
    result = run_cli(fresh_db, *args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_only_the_administrator_imports(fresh_db, tmp_path):
    path = write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS)
    result = run_cli(fresh_db, "import", path, role="sales")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "Only the administrator imports" in result.stderr and clients(fresh_db) == []


def test_unknown_columns_are_reported_or_kept_as_custom_fields(fresh_db, tmp_path, cli_in_process):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO custom_field (name, label, type) VALUES ('shoe_size', 'Размер обуви', 'text')")
    path = write_csv(tmp_path / "c.csv", ["ФИО", "Размер обуви", "Любимый цвет", "Карта"],
                     [["Орлов Олег", "43", "синий", "A-77"]])
    result = cli_in_process(fresh_db, "import", path, "--map", "Карта=external_key")
    assert "Columns not imported: Любимый цвет." in result.stdout, result.stdout
    cli_in_process(fresh_db, "import", path, "--map", "Карта=external_key", "--map", "Любимый цвет=custom.colour")
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT external_key, custom FROM client").fetchall() == [
            ("A-77", {"shoe_size": "43", "colour": "синий"})]


def test_defined_custom_fields_get_typed_values_and_bad_ones_are_rejected(fresh_db, tmp_path):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO custom_field (name, label, type) VALUES ('last_visit', 'Последний визит', 'date'),"
                     " ('shoe_size', 'Размер обуви', 'number'), ('vip', 'VIP', 'bool')")
    path = write_csv(tmp_path / "typed.csv", ["ФИО", "Последний визит", "Размер обуви", "VIP"],
                     [["Орлов Олег", "01.02.2024", "43", "да"], ["Белов Юрий", "32.13.2024", "41", "нет"]])
    result = run_cli(fresh_db, "import", path)
    assert "new clients:                 1" in result.stdout, result.stdout
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT last_name, custom FROM client").fetchall() == [
            ("Орлов", {"last_visit": "2024-02-01", "shoe_size": 43, "vip": True})]
    rejected = (tmp_path / "typed.rejected.csv").read_text(encoding="utf-8-sig")
    assert "Белов" in rejected and "Последний визит" in rejected


def test_rows_with_only_a_name_are_found_again_by_name_and_birth_date(fresh_db, tmp_path, cli_in_process):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO client (last_name, first_name) VALUES ('Орлова', 'Вера')")
        client_id = conn.execute("INSERT INTO client (last_name, first_name) VALUES ('Орлова', 'Вера')"
                                 " RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized)"
                     " VALUES (%s, 'mobile', '+79120001122', '+79120001122')", (client_id,))
    path = write_csv(tmp_path / "names.csv", ["Фамилия", "Имя", "Дата рождения"],
                     [["Орлова", "Вера", ""], ["Белов", "Юрий", "02.03.1970"], ["Белов", "Юрий", ""]])
    first = cli_in_process(fresh_db, "import", path)
    assert "new clients:                 2" in first.stdout, first.stdout  # Белов twice: two people
    assert "already in the base:         1" in first.stdout  # the Орлова without a phone
    again = cli_in_process(fresh_db, "import", path)
    assert "new clients:                 0" in again.stdout and "already in the base:         3" in again.stdout
    assert len(clients(fresh_db)) == 4


def test_quoted_fields_with_line_breaks_and_separators(fresh_db, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_bytes('Фамилия;Имя;Примечание;Адрес\r\n'
                     'Орлов;Олег;"Аллергия на орехи.\r\nЗвонить после 18:00";"г. Казань; ул. Ленина, 1"\r\n'
                     'Белов;Юрий;"Сказал ""позже""";\r\n'.encode("cp1251"))
    result = run_cli(fresh_db, "import", path)
    assert "new clients:                 2" in result.stdout, result.stdout
    with fresh_db.connect() as conn:
        rows = conn.execute("SELECT last_name, notes, address FROM client ORDER BY last_name").fetchall()
    assert rows == [("Белов", 'Сказал "позже"', ""),
                    ("Орлов", "Аллергия на орехи.\nЗвонить после 18:00", "г. Казань; ул. Ленина, 1")]
