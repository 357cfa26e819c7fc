"""Files with personal data are private (0600) whatever the umask: exports, reject files, backups."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import openpyxl
import pytest

from db import demo
from tui.transfer.private_files import open_private


def run_cli(db, *args):
    # A common umask that leaves new files readable by everyone: the files must be private all the same.
    return subprocess.run([sys.executable, "-m", "tui.cli", *map(str, args)], env=db.env("admin"),
                          capture_output=True, text=True, timeout=180, preexec_fn=lambda: os.umask(0o022))


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def small_base(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        demo.load(conn, 20, seed=1)
    return fresh_db


@pytest.mark.parametrize("name", ["out.csv", "out.xlsx", "out.vcf", "out.txt"])
def test_every_export_is_private(small_base, tmp_path, name):
    result = run_cli(small_base, "export", tmp_path / name)
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / name) == 0o600


def test_an_existing_file_is_narrowed_before_it_is_overwritten(small_base, tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old")
    target.chmod(0o644)
    assert run_cli(small_base, "export", target).returncode == 0
    assert mode(target) == 0o600 and "Client number" in target.read_text(encoding="utf-8-sig")


def test_backup_and_manifest_are_private(small_base, tmp_path):
    result = run_cli(small_base, "backup", tmp_path / "base.dump")
    assert result.returncode == 0, result.stderr
    assert mode(tmp_path / "base.dump") == 0o600
    assert mode(tmp_path / "base.dump.manifest.json") == 0o600


def _csv(path):
    path.write_text("Фамилия;Телефон\nОрлов;+7 912 000 11 22\nКозлов;12\n", encoding="utf-8")


def _xlsx(path):
    book = openpyxl.Workbook()
    book.active.append(["Фамилия", "Телефон"])
    book.active.append(["Орлов", "+7 912 000 11 22"])
    book.active.append(["Козлов", "12"])
    book.save(path)


def _vcf(path):
    path.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nN:Орлов;Олег;;;\r\nTEL:+79120001122\r\nEND:VCARD\r\n"
                    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Козлов;Игорь;;;\r\nTEL:12\r\nEND:VCARD\r\n", encoding="utf-8")


@pytest.mark.parametrize("name,make", [("in.csv", _csv), ("in.xlsx", _xlsx), ("in.vcf", _vcf)])
def test_reject_files_are_private(fresh_db, tmp_path, name, make):
    make(tmp_path / name)
    result = run_cli(fresh_db, "import", tmp_path / name)
    assert result.returncode == 0, result.stderr
    assert "invalid rows:                1" in result.stdout, result.stdout
    rejected = tmp_path / name.replace("in.", "in.rejected.")
    assert mode(rejected) == 0o600


def test_open_private_writes_only(tmp_path):
    with pytest.raises(ValueError):
        open_private(tmp_path / "x", "a")
