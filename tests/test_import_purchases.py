"""Importing years of sales history and linking it to the clients."""

from __future__ import annotations

from tests.test_import import RU_HEADERS, RU_ROWS, run_cli, write_csv

HEADERS = ["Код клиента", "Телефон", "Дата", "Сумма", "Себестоимость", "Товар", "Кол-во", "Канал", "Номер чека"]
ROWS = [
    ["1001", "", "01.03.2024", "1 500,00", "700", "Крем", "2", "shop", ""],
    ["1001", "", "01.03.2024", "1 500,00", "700", "Крем", "2", "shop", ""],   # a second, identical purchase
    ["", "+7 913 111-22-33", "2024-03-05 14:30", "990", "", "Шампунь", "", "online", "R-17"],
    ["9999", "", "10.03.2024", "250", "", "", "", "", ""],                   # nobody with this number
    ["1003", "", "32.03.2024", "100", "", "", "", "", ""],                   # no such date
    ["1003", "", "11.03.2024", "двести", "", "", "", "", ""],                # not an amount
]


def stats(db):
    with db.connect() as conn:
        return conn.execute("SELECT external_key, purchase_count, total_spent, total_profit FROM client"
                            " ORDER BY external_key").fetchall()


def test_purchases_link_to_clients_and_reimport_adds_nothing(fresh_db, tmp_path):
    run_cli(fresh_db, "import", write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS))
    path = write_csv(tmp_path / "sales.csv", HEADERS, ROWS, "cp1251", ";")
    result = run_cli(fresh_db, "import", path, "--purchases")
    assert result.returncode == 0, result.stderr
    assert "purchases added:             3" in result.stdout, result.stdout
    assert "invalid rows:                3" in result.stdout
    assert stats(fresh_db) == [("1001", 2, 3000, 1600), ("1002", 1, 990, 990), ("1003", 0, 0, 0)]
    with fresh_db.connect() as conn:
        lines = conn.execute("SELECT pl.description, pl.quantity, pl.price, pr.name FROM purchase_line pl"
                             " JOIN product pr ON pr.id = pl.product_id ORDER BY pl.id").fetchall()
        moment = conn.execute("SELECT purchased_at AT TIME ZONE 'Europe/Moscow' FROM purchase"
                              " WHERE external_key = 'R-17'").fetchone()[0]
    assert [line[0] for line in lines] == ["Крем", "Крем", "Шампунь"] and lines[0][2] == 750
    assert moment.isoformat() == "2024-03-05T14:30:00"
    rejected = (tmp_path / "sales.rejected.csv").read_text(encoding="cp1251")
    assert "9999" in rejected and "no client with this number" in rejected and "32.03.2024" in rejected
    again = run_cli(fresh_db, "import", path, "--purchases")
    assert "purchases added:             0" in again.stdout
    assert "purchases already in base:   3" in again.stdout
    assert stats(fresh_db)[0] == ("1001", 2, 3000, 1600)


def test_unknown_client_numbers_become_minimal_cards_on_request(fresh_db, tmp_path):
    path = write_csv(tmp_path / "sales.csv", ["Client number", "Name", "Date", "Amount"],
                     [["A-1", "Popescu Ion", "2024-01-02", "10"], ["A-1", "", "2024-01-03", "20"],
                      ["A-2", "", "2024-01-03", "5"]])
    dry = run_cli(fresh_db, "import", path, "--purchases", "--create-missing", "--dry-run")
    assert "clients created (minimal):   2" in dry.stdout and stats(fresh_db) == []
    result = run_cli(fresh_db, "import", path, "--purchases", "--create-missing")
    assert result.returncode == 0, result.stderr
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT external_key, last_name, first_name, purchase_count FROM client"
                            " ORDER BY 1").fetchall() == [("A-1", "Ion", "Popescu", 2), ("A-2", "Client A-2", "", 1)]


def test_create_missing_never_doubles_a_client_known_by_phone_and_keeps_the_new_cards_contacts(fresh_db, tmp_path):
    run_cli(fresh_db, "import", write_csv(tmp_path / "clients.csv", RU_HEADERS, RU_ROWS))
    with fresh_db.connect() as conn:
        known = conn.execute("SELECT client_id FROM contact_point WHERE normalized = '+79131112233'").fetchone()[0]
        before = conn.execute("SELECT count(*) FROM client").fetchone()[0]
    path = write_csv(tmp_path / "sales.csv", ["Код клиента", "Телефон", "Дата", "Сумма"],
                     [["X-1", "+7 913 111-22-33", "2024-04-01", "100"],     # a new number, a known phone
                      ["X-2", "+7 914 555-66-77", "2024-04-02", "200"]])    # a new number, a new phone
    result = run_cli(fresh_db, "import", path, "--purchases", "--create-missing")
    assert result.returncode == 0, result.stderr
    assert "clients created (minimal):   1" in result.stdout, result.stdout
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] == before + 1
        assert conn.execute("SELECT client_id FROM purchase WHERE amount = 100").fetchone()[0] == known
        created = conn.execute("SELECT id FROM client WHERE external_key = 'X-2'").fetchone()[0]
        assert conn.execute("SELECT kind, normalized FROM contact_point WHERE client_id = %s",
                            (created,)).fetchall() == [("mobile", "+79145556677")]
