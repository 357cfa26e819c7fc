"""What comes in: a broken or hostile file ends in one sentence or in rows of the reject file, never in a
traceback, a silent loss or mojibake in the base; and an import waiting on another one says whose it is."""

from __future__ import annotations

import struct
import threading
import zipfile

import openpyxl
import pytest

from db.transfer import import_clients as importing
from db.errors import UserError
from tests.test_import import clients, run_cli
from tui.transfer import vcard
from tui.transfer.import_job import ImportOptions, run_import
from db.i18n import N_


def refused(db, path, *more):
    """The import says one sentence, exits non-zero and writes nothing."""
    result = run_cli(db, "import", path, *more)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert clients(db) == []
    assert not path.with_name(f"{path.stem}.rejected{path.suffix}").exists()
    return result.stderr


def test_a_nul_byte_in_a_csv_is_one_sentence(fresh_db, tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes("Фамилия;Телефон\nОрлов;+7 912 000 11 22\nКоз\0лов;+7 912 000 11 23\n".encode())
    assert "Line 3 of a.csv holds a NUL byte" in refused(fresh_db, path)


def test_a_cell_over_the_csv_field_limit_is_one_sentence(fresh_db, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('Фамилия;Заметки\nОрлов;"' + "x" * 200_000 + "\nЗуев;y\n", encoding="utf-8")
    message = refused(fresh_db, path)
    assert "cannot be read as CSV at line 2" in message and "field limit" in message


def test_a_50_mb_line_is_refused_early_with_a_short_sentence(fresh_db, tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as out:
        out.write("Фамилия;Заметки\nОрлов;".encode())
        block = b"ab;" * (1 << 20)
        for _ in range(17):
            out.write(block)
        out.write(b"\n")
    message = refused(fresh_db, path)
    assert "Line 2 of huge.csv is longer than 1,024 KB (it begins 'Орлов;ab;ab;" in message
    assert len(message) < 300


def _patch_declared_size(path, member: str, size: int) -> None:
    """Makes the zip's central directory declare `size` unpacked bytes for `member`: what a zip bomb declares,
    without writing gigabytes."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + name_length]) == name:
            struct.pack_into("<I", data, at + 24, size)
            path.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 46)
    raise AssertionError(member)


@pytest.mark.parametrize("member,size", [("xl/worksheets/sheet1.xml", 0xFFFF_0000), ("xl/styles.xml", 900 << 20)])
def test_an_xlsx_that_unpacks_to_gigabytes_is_refused_before_reading(fresh_db, tmp_path, member, size):
    path = tmp_path / "bomb.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Фамилия", "Телефон"])
    book.active.append(["Орлов", "+7 912 000 11 22"])
    book.save(path)
    _patch_declared_size(path, member, size)
    with zipfile.ZipFile(path) as check:
        assert check.getinfo(member).file_size == size
    assert "The workbook bomb.xlsx would unpack to" in refused(fresh_db, path)


VCARD = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Орлов;Олег;;;\r\nTEL:+79120001122\r\nEND:VCARD\r\n"
         # A card begun inside another: the outer one is never finished.
         "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Внешний;Иван;;;\r\nTEL:+79120001133\r\n"
         "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Внутренний;Пётр;;;\r\nEND:VCARD\r\n"
         "TEL:+79120001144\r\nEND:VCARD\r\n"
         "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Нулев;Ник;;;\r\nNOTE;ENCODING=QUOTED-PRINTABLE:a=00b\r\nEND:VCARD\r\n"
         # The file ends inside a card.
         "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Зуев;Антон;;;\r\nTEL:+79120001155\r\n")


def test_broken_vcards_go_to_the_reject_file_with_their_reason(fresh_db, tmp_path):
    path = tmp_path / "phone.vcf"
    path.write_bytes(VCARD.encode())
    result = run_cli(fresh_db, "import", path)
    assert result.returncode == 0, result.stderr
    assert "new clients:                 2" in result.stdout and "invalid rows:                4" in result.stdout
    assert [row[1] for row in clients(fresh_db)] == ["Внутренний", "Орлов"]
    rejected = list(vcard.parse((tmp_path / "phone.rejected.vcf").read_bytes().decode()))
    assert [card.error for card in rejected] == [""] * 4  # whole cards again, each with its reason
    reasons = [card.text.split("X-CLIENTBASE-REJECTED:")[1].split("\r\n")[0] for card in rejected]
    assert "no END:VCARD before the next BEGIN:VCARD" in reasons[0] and "Внешний" in rejected[0].text
    assert "outside any card" in reasons[1] and "TEL:+79120001144" in rejected[1].text
    assert "NUL character" in reasons[2] and "Нулев" in rejected[2].text
    assert "the file ends inside this card" in reasons[3] and "+79120001155" in rejected[3].text


@pytest.mark.parametrize("rows,line,message", [
    (["Орлов;Москва".encode("utf-8"), "Зуев;Казань".encode("cp1251")], 3,
     "is in Windows-1251 while the lines before it are in UTF-8 (it begins 'Зуев;Казань')"),
    (["Орлов;Москва".encode("cp1251"), "Зуев;Казань".encode("utf-8")], 3,
     "is in UTF-8 while the lines before it are in Windows-1251"),
    (["Орлов;Москва".encode("cp1251"), b"\x98\x98;x"], 3, "is neither UTF-8 nor Windows-1251"),
])
def test_a_csv_mixing_encodings_is_refused_naming_the_first_bad_line(fresh_db, tmp_path, rows, line, message):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"Last name;City\n" + b"\n".join(rows) + b"\n")
    text = refused(fresh_db, path)
    assert f"Line {line} of mixed.csv" in text and message in text, text


def test_an_import_waiting_on_another_says_whose_it_is(admin_session, tmp_path, monkeypatch):
    path = tmp_path / "a.csv"
    path.write_text("Фамилия;Телефон\nОрлов;+7 912 000 11 22\n", encoding="utf-8")
    sales = tmp_path / "s.csv"
    sales.write_text("Телефон;Дата;Сумма\n+7 912 000 11 22;01.02.2024;100\n", encoding="utf-8")
    monkeypatch.setattr(importing, "LOCK_WAIT", 0.5)
    with admin_session.connect("admin") as other:
        other.execute("SELECT pg_advisory_xact_lock(%s, %s)", importing.IMPORT_LOCK)  # an import in progress
        for file, options in ((path, ImportOptions()), (sales, ImportOptions(purchases=True))):
            with pytest.raises(UserError) as refusal:
                run_import(file, options)
            assert refusal.value.key == N_("Another import is running (by '{login}', since {since}); nothing was "
                                           "written: import this file again "
                                           "when it has finished.") and "by 't_admin', since" in str(refusal.value)
        assert clients(admin_session) == []
        # Once the other import ends, this one goes through, without being asked again.
        release = threading.Timer(0.2, other.rollback)
        release.start()
        monkeypatch.setattr(importing, "LOCK_WAIT", 30)
        result = run_import(path, ImportOptions())
        release.join()
    assert result.clients.new == 1


def test_a_large_file_with_old_mac_line_ends_is_not_one_long_line(fresh_db, tmp_path):
    path = tmp_path / "mac.csv"
    rows = "".join(f"Клиент{n};+7 912 {n:07d};{'заметка ' * 20}\r"
                   for n in range(8000))
    path.write_bytes(("Фамилия;Телефон;Заметки\r" + rows).encode("utf-8"))
    assert path.stat().st_size > 2 << 20
    result = run_cli(fresh_db, "import", path, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "invalid rows:                0" in result.stdout, result.stdout
