"""What goes out is safe: no live formulas in a spreadsheet, no property smuggled into a vCard, no file in a
format its name does not promise; and what goes out still comes back unchanged."""

from __future__ import annotations

import csv
import zipfile

import openpyxl
import pytest

from tests.test_export import run_cli, snapshot
from tui.transfer import vcard
from tui.transfer.cells import neutralise, restore

HOSTILE = {
    "last_name": "=HYPERLINK(\"http://evil.example\",\"click\")",
    "first_name": "@SUM(1+1)",
    "position": "-2+3",
    "notes": "'=a quote the user typed",
    "city": "+cmd|' /C calc'!A0",
}


@pytest.fixture
def hostile_base(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        client_id = conn.execute(
            "INSERT INTO client (external_key, last_name, first_name, position, notes, city, tags, custom)"
            " VALUES ('k1', %(last_name)s, %(first_name)s, %(position)s, %(notes)s, %(city)s,"
            " ARRAY['-minus', 'plain'], '{\"code\": \"=1+2\"}') RETURNING id", HOSTILE).fetchone()[0]
        conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized, is_primary)"
                     " VALUES (%s, 'mobile', '+7 912 345-67-89', '+79123456789', true)", (client_id,))
        conn.execute("INSERT INTO client (external_key, last_name, first_name) VALUES ('k2', 'Орлов', 'Олег')")
    return fresh_db


@pytest.mark.parametrize("value", ["=1+2", "+7 912", "-5", "@x", "\tcmd", "\rcmd", "'=x", "''+y", "'", "'plain",
                                   "plain", "", "a=b"])
def test_neutralise_is_undone_exactly_by_restore(value):
    out = neutralise(value)
    assert restore(out) == value
    assert str(out)[:1] not in ("=", "+", "-", "@", "\t", "\r")


def test_csv_cells_never_start_a_formula_and_import_back_unchanged(hostile_base, make_db, tmp_path):
    assert run_cli(hostile_base, "export", tmp_path / "out.csv").returncode == 0
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as source:
        rows = list(csv.reader(source, delimiter=";"))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    row = dict(zip(rows[0], next(r for r in rows if r[0] == "k1"), strict=True))
    assert row["Last name"] == "'" + HOSTILE["last_name"]
    assert row["Mobile"] == "'+7 912 345-67-89"
    assert row["Notes"] == "''=a quote the user typed"
    assert row["custom.code"] == "'=1+2"
    empty = make_db()
    result = run_cli(empty, "import", tmp_path / "out.csv")
    assert "invalid rows:                0" in result.stdout, result.stdout + result.stderr
    assert snapshot(empty)[:2] == snapshot(hostile_base)[:2]


def test_xlsx_holds_no_formula_and_imports_back_unchanged(hostile_base, make_db, tmp_path):
    assert run_cli(hostile_base, "export", tmp_path / "out.xlsx").returncode == 0
    with zipfile.ZipFile(tmp_path / "out.xlsx") as book:
        sheet_xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").worksheets[0]
    values = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert not [cell.coordinate for cell in values if cell.data_type == "f"]
    by_value = {cell.value: cell for cell in values}
    # The value is kept as it was, shown as text: Excel's own "typed with a leading '" flag.
    assert by_value[HOSTILE["last_name"]].quotePrefix and by_value["+7 912 345-67-89"].quotePrefix
    empty = make_db()
    result = run_cli(empty, "import", tmp_path / "out.xlsx")
    assert "invalid rows:                0" in result.stdout, result.stdout + result.stderr
    assert snapshot(empty)[:2] == snapshot(hostile_base)[:2]


def test_a_line_break_in_a_value_starts_no_vcard_property(fresh_db, make_db, tmp_path):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO client (last_name, first_name, notes, position) VALUES"
                     " ('Зуев', 'Антон', E'hi\\r\\nADR:;;Evil street 1;Eviltown;;;', E'boss\\rEMAIL:evil@example.com'),"
                     " ('Жуков', E'Павел\\nTEL:+79990000000', 'x', '')")
    assert run_cli(fresh_db, "export", tmp_path / "all.vcf").returncode == 0
    text = (tmp_path / "all.vcf").read_bytes().decode("utf-8")
    lines = text.split("\r\n")
    assert not [line for line in lines if line.startswith(("ADR", "EMAIL", "TEL"))]
    assert "\r" not in text.replace("\r\n", "") and "\n" not in text.replace("\r\n", "")
    cards = list(vcard.parse(text))
    assert len(cards) == 2 and not any(card.values.get(k) for card in cards for k in ("address", "city", "email",
                                                                                      "mobile", "phone"))
    before = snapshot(fresh_db)
    again = run_cli(fresh_db, "import", tmp_path / "all.vcf")  # into its own base: harmless
    assert again.returncode == 0 and "invalid rows:                0" in again.stdout, again.stdout + again.stderr
    assert snapshot(fresh_db) == before
    empty = make_db()
    assert run_cli(empty, "import", tmp_path / "all.vcf").returncode == 0
    with empty.connect() as conn:
        assert conn.execute("SELECT count(*) FROM contact_point").fetchone()[0] == 0
        assert conn.execute("SELECT notes, address, city FROM client WHERE last_name = 'Зуев'").fetchone() == (
            "hi\nADR:;;Evil street 1;Eviltown;;;", "", "")


@pytest.mark.parametrize("name,more,message", [
    ("out.pdf", [], "Cannot tell the format from the name 'out.pdf'"),
    ("out", [], "Cannot tell the format from the name 'out'"),
    ("x.vcf", ["--format", "xlsx"], "The name 'x.vcf' does not end in .xlsx"),
    ("x.pdf", ["--format", "csv"], "The name 'x.pdf' does not end in .csv"),
])
def test_a_file_name_that_does_not_match_the_format_writes_nothing(hostile_base, tmp_path, name, more, message):
    result = run_cli(hostile_base, "export", tmp_path / name, *more)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / name).exists()


def test_format_given_for_a_name_without_extension_or_matching_it(hostile_base, tmp_path):
    assert run_cli(hostile_base, "export", tmp_path / "plain", "--format", "csv").returncode == 0
    assert (tmp_path / "plain").read_bytes().startswith(b"\xef\xbb\xbfClient number;")
    assert run_cli(hostile_base, "export", tmp_path / "b.XLSX", "--format", "xlsx").returncode == 0
    assert zipfile.is_zipfile(tmp_path / "b.XLSX")


def test_a_control_character_in_a_value_does_not_end_an_xlsx_export(fresh_db, tmp_path):
    """XLSX cannot hold most control characters; a note pasted with one must not cost the whole export."""
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO client (last_name, notes) VALUES ('Ionescu', 'bell\x07 and form\x0cfeed'),"
                     " ('Popescu', '=x\x01')")
    result = run_cli(fresh_db, "export", tmp_path / "out.xlsx")
    assert result.returncode == 0, result.stderr
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").worksheets[0]
    values = {cell.value for row in sheet.iter_rows() for cell in row}
    assert {"Ionescu", "Popescu", "bell and formfeed", "=x"} <= values
