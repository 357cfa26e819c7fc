"""Exporting lists, and the round trip: what goes out of one base comes back into an empty one unchanged."""

from __future__ import annotations

import csv
import sys
import subprocess

import openpyxl
import pytest


def run_cli(db, *args, role="admin"):
    """A real `clientbase` process. Tests that check only what a command wrote and said take `cli_in_process`
    (the same answer without an interpreter's start-up); the vCard round trip, the unwritable file and
    test_export_safety keep real processes."""
    return subprocess.run([sys.executable, "-m", "tui.cli", *map(str, args)], env=db.env(role),
                          capture_output=True, text=True, timeout=180)


def snapshot(db):
    """Clients, contacts and purchases, keyed by what survives a round trip (names and the client number)."""
    with db.connect() as conn:
        people = conn.execute(
            "SELECT coalesce(c.external_key, 'cb-' || c.id), c.last_name, c.first_name, c.middle_name, c.gender,"
            " c.birth_date, co.name, c.position, c.region, c.city, c.address, c.postal_address, c.tags, c.notes,"
            " c.source, c.assigned_to, c.consent_email, c.consent_sms, c.custom, c.purchase_count, c.total_spent"
            " FROM client c LEFT JOIN company co ON co.id = c.company_id ORDER BY 1").fetchall()
        contact_rows = conn.execute(
            "SELECT coalesce(c.external_key, 'cb-' || c.id), cp.kind, cp.normalized, cp.is_primary"
            " FROM contact_point cp JOIN client c ON c.id = cp.client_id ORDER BY 1, 2, 4").fetchall()
        purchases = conn.execute(
            "SELECT coalesce(c.external_key, 'cb-' || c.id), p.purchased_at, p.amount, p.cost, p.channel,"
            " (SELECT string_agg(coalesce(nullif(l.description, ''), pr.name), ',') FROM purchase_line l"
            "  LEFT JOIN product pr ON pr.id = l.product_id WHERE l.purchase_id = p.id)"
            " FROM purchase p JOIN client c ON c.id = p.client_id ORDER BY 1, 2, 3").fetchall()
    return people, contact_rows, purchases


@pytest.fixture
def demo_base(make_db, demo_template):
    """`demo.load(200, seed=1)`'s base, cloned from one loaded once per session."""
    return make_db(demo_template(200, seed=1))


@pytest.mark.parametrize("fmt,extra", [("csv", []), ("xlsx", []), ("csv", ["--encoding", "utf-8", "--delimiter", ","])])
def test_export_then_import_into_an_empty_base_gives_the_same_base(demo_base, make_db, tmp_path, fmt, extra,
                                                                   cli_in_process):
    with demo_base.connect(autocommit=True) as conn:
        conn.execute("UPDATE client SET custom = jsonb_build_object('shoe_size', '42') WHERE id % 7 = 0")
    clients_file, purchases_file = tmp_path / f"clients.{fmt}", tmp_path / f"purchases.{fmt}"
    for path, more in ((clients_file, []), (purchases_file, ["--purchases"])):
        result = cli_in_process(demo_base, "export", path, *extra, *more)
        assert result.returncode == 0, result.stderr
    empty = make_db()
    for path, more in ((clients_file, []), (purchases_file, ["--purchases"])):
        result = cli_in_process(empty, "import", path, *more)
        assert result.returncode == 0, result.stderr
        assert "invalid rows:                0" in result.stdout, result.stdout
    before, after = snapshot(demo_base), snapshot(empty)
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[2] == before[2]


def test_csv_opens_in_excel_with_cyrillic_and_semicolons(demo_base, tmp_path, cli_in_process):
    cli_in_process(demo_base, "export", tmp_path / "out.csv")
    data = (tmp_path / "out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfClient number;Last name;")
    cli_in_process(demo_base, "export", tmp_path / "win.csv", "--encoding", "cp1251")
    text = (tmp_path / "win.csv").read_text(encoding="cp1251")
    with demo_base.connect() as conn:
        name = conn.execute("SELECT last_name FROM client WHERE last_name ~ '[а-я]' LIMIT 1").fetchone()[0]
    assert name in text


def test_segment_search_vcard_and_mailing_list(demo_base, tmp_path, cli_in_process):
    with demo_base.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO segment (name, filter)"
                     " VALUES ('Regulars', '{\"filters\": {\"category\": \"regular\"}}')")
        regulars = conn.execute("SELECT count(*) FROM client WHERE category = 'regular'").fetchone()[0]
        consented = conn.execute(
            "SELECT DISTINCT ON (c.id) cp.normalized FROM client c JOIN contact_point cp ON cp.client_id = c.id"
            " AND cp.kind = 'email' WHERE c.consent_email ORDER BY c.id, cp.is_primary DESC, cp.id").fetchall()
        suppressed = consented[0][0]
        conn.execute("INSERT INTO suppression (channel, address, reason) VALUES ('email', %s, 'unsubscribed')",
                     (suppressed,))
        surname = conn.execute("SELECT last_name FROM client ORDER BY id LIMIT 1").fetchone()[0]
        with_surname = conn.execute("SELECT count(*) FROM client WHERE search LIKE '%%' || cb_fold(%s) || '%%'",
                                    (surname,)).fetchone()[0]
    result = cli_in_process(demo_base, "export", tmp_path / "seg.xlsx", "--segment", "Regulars")
    assert result.returncode == 0, result.stderr
    sheet = openpyxl.load_workbook(tmp_path / "seg.xlsx", read_only=True).worksheets[0]
    assert sum(1 for _ in sheet.iter_rows()) == regulars + 1
    cli_in_process(demo_base, "export", tmp_path / "found.csv", "--search", surname)
    with open(tmp_path / "found.csv", encoding="utf-8-sig") as found:
        assert len(list(csv.reader(found, delimiter=";"))) == with_surname + 1
    cli_in_process(demo_base, "export", tmp_path / "all.vcf")
    cards = (tmp_path / "all.vcf").read_bytes().decode("utf-8")
    assert cards.count("BEGIN:VCARD") == 200 and all(len(line.encode()) <= 75 for line in cards.split("\r\n"))
    cli_in_process(demo_base, "export", tmp_path / "mail.txt")
    lines = (tmp_path / "mail.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(consented) - 1
    assert all(line.endswith(">") and " <" in line for line in lines)
    assert not any(suppressed in line for line in lines)
    cli_in_process(demo_base, "export", tmp_path / "sms.txt", "--channel", "sms")
    assert all(line.startswith("+") for line in (tmp_path / "sms.txt").read_text().splitlines())
    missing = cli_in_process(demo_base, "export", tmp_path / "x.csv", "--segment", "Nope")
    assert missing.returncode == 1 and "There is no segment 'Nope'; the segments are: Regulars." in missing.stderr


@pytest.mark.parametrize("role,allowed_by_default,allowed_when_set", [
    ("admin", True, True), ("manager", True, True), ("sales", False, True), ("mailer", False, False)])
def test_who_may_export(demo_base, tmp_path, role, allowed_by_default, allowed_when_set, cli_in_process):
    result = cli_in_process(demo_base, "export", tmp_path / "a.csv", role=role)
    assert (result.returncode == 0) == allowed_by_default, result.stderr
    if not allowed_by_default:
        assert "may not export" in result.stderr and "Traceback" not in result.stderr
    assert cli_in_process(demo_base, "settings", "set", "sales_may_export", "yes").returncode == 0
    result = cli_in_process(demo_base, "export", tmp_path / "b.csv", role=role)
    assert (result.returncode == 0) == allowed_when_set, result.stderr
    if role == "sales":
        refused = cli_in_process(demo_base, "export", tmp_path / "c.txt", role=role)
        assert refused.returncode == 1 and "Mailing lists" in refused.stderr


def test_vcards_exported_import_back_with_their_names_and_contacts(demo_base, make_db, tmp_path):
    assert run_cli(demo_base, "export", tmp_path / "all.vcf").returncode == 0
    empty = make_db()
    result = run_cli(empty, "import", tmp_path / "all.vcf")
    assert result.returncode == 0 and "invalid rows:                0" in result.stdout, result.stdout

    def people(db):
        with db.connect() as conn:
            return sorted(conn.execute(
                "SELECT c.last_name, c.first_name, c.middle_name, c.birth_date,"
                " array(SELECT normalized FROM contact_point p WHERE p.client_id = c.id"
                "       AND kind IN ('mobile', 'home', 'work', 'whatsapp', 'email') ORDER BY normalized)"
                " FROM client c").fetchall())

    assert people(empty) == people(demo_base)


def test_an_unwritable_file_is_one_sentence(demo_base, tmp_path):
    (tmp_path / "taken.csv").mkdir()
    result = run_cli(demo_base, "export", tmp_path / "taken.csv")
    assert result.returncode == 1 and "Cannot write" in result.stderr and "Traceback" not in result.stderr


def test_importing_an_export_back_into_its_own_base_adds_nothing(demo_base, tmp_path, cli_in_process):
    with demo_base.connect(autocommit=True) as conn:
        conn.execute("UPDATE client SET external_key = NULL WHERE id % 2 = 0")
        conn.execute("DELETE FROM contact_point WHERE client_id % 4 = 0")  # some known by their id alone
    before = snapshot(demo_base)
    for more in ([], ["--purchases"]):
        assert cli_in_process(demo_base, "export", tmp_path / "out.csv", *more).returncode == 0
        result = cli_in_process(demo_base, "import", tmp_path / "out.csv", *more)
        assert result.returncode == 0 and "invalid rows:                0" in result.stdout, result.stdout
        assert "new clients:                 0" in result.stdout or "purchases added:             0" in result.stdout
    after = snapshot(demo_base)
    assert after == before
    with demo_base.connect() as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == 200
