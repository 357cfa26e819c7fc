"""Rights are PostgreSQL's: each role connects with raw psycopg and tries every kind of write on every table."""

from __future__ import annotations

import psycopg
import pytest

TABLES = ["settings", "company", "client", "contact_point", "relative", "product", "purchase", "purchase_line",
          "subscription", "interaction", "reminder", "custom_field", "segment", "template", "campaign",
          "campaign_variant", "message", "suppression", "audit_log", "schema_migration"]
ADMIN_WRITES = set(TABLES) - {"audit_log", "schema_migration"}
SALES_READS = {"settings", "company", "client", "contact_point", "relative", "product", "purchase",
               "purchase_line", "subscription", "interaction", "reminder", "custom_field", "segment",
               "template", "campaign", "campaign_variant", "schema_migration"}  # message: by column, 0024
MAILER_READS = {"settings", "client", "contact_point", "relative", "company", "template", "campaign",
                "campaign_variant", "message", "suppression", "schema_migration"}

EXPECTED_READS = {"admin": set(TABLES), "manager": set(TABLES), "sales": SALES_READS, "mailer": MAILER_READS}
EXPECTED_WRITES = {"admin": ADMIN_WRITES, "manager": set(), "sales": set(), "mailer": set()}


def _allowed(conn: psycopg.Connection, statement: str) -> bool:
    """Privileges are checked before any row is looked at, so a statement that touches no row still
    proves or disproves the right; a constraint error means the right was there."""
    try:
        with conn.transaction():
            conn.execute(statement)
            raise _Rollback
    except _Rollback:
        return True
    except psycopg.errors.InsufficientPrivilege:
        return False
    except psycopg.errors.IntegrityError:
        return True


class _Rollback(Exception):
    pass


@pytest.mark.parametrize("role", ["admin", "manager", "sales", "mailer"])
def test_each_role_has_exactly_its_rights(fresh_db, role):
    with fresh_db.connect(role, autocommit=True) as conn:
        reads = {table for table in TABLES if _allowed(conn, f"SELECT * FROM {table} LIMIT 0")}
        inserts = {table for table in TABLES if _allowed(conn, f"INSERT INTO {table} DEFAULT VALUES")}
        updates = {table for table in TABLES if _allowed(conn, f"UPDATE {table} SET {_a_column(table)} = "
                                                               f"{_a_column(table)} WHERE false")}
        deletes = {table for table in TABLES if _allowed(conn, f"DELETE FROM {table} WHERE false")}
        truncates = {table for table in TABLES if _allowed(conn, f"TRUNCATE {table} CASCADE")}
    assert reads == EXPECTED_READS[role]
    assert inserts == EXPECTED_WRITES[role]
    assert updates == EXPECTED_WRITES[role]
    assert deletes == EXPECTED_WRITES[role]
    assert truncates == set()


def _a_column(table: str) -> str:
    return {"settings": "value", "schema_migration": "name", "audit_log": "login", "suppression": "reason",
            "message": "address"}.get(table, "version" if table != "message" else "status")


def test_mailer_may_change_only_the_delivery_state_of_messages(fresh_db):
    with fresh_db.connect("mailer", autocommit=True) as conn:
        for column in ("status", "skip_reason", "attempts", "not_before", "lease_until", "leased_by", "sent_at",
                       "error"):
            assert _allowed(conn, f"UPDATE message SET {column} = {column} WHERE false"), column
        for column in ("address", "client_id", "campaign_id", "channel"):
            assert not _allowed(conn, f"UPDATE message SET {column} = {column} WHERE false"), column


@pytest.mark.parametrize("role", ["manager", "sales", "mailer"])
def test_read_only_roles_cannot_change_the_schema(fresh_db, role):
    with fresh_db.connect(role, autocommit=True) as conn:
        for statement in ("CREATE TABLE sneaky (id int)", "ALTER TABLE client ADD COLUMN sneaky int",
                          "DROP TABLE client", "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql RETURN 1"):
            assert not _allowed(conn, statement), statement


def test_a_real_row_is_written_by_admin_and_refused_to_sales(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        client_id = conn.execute("INSERT INTO client (last_name, first_name) VALUES ('Иванов', 'Иван') "
                                 "RETURNING id").fetchone()[0]
    with fresh_db.connect("sales", autocommit=True) as conn:
        assert conn.execute("SELECT last_name FROM client WHERE id = %s", (client_id,)).fetchone() == ("Иванов",)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE client SET notes = 'changed' WHERE id = %s", (client_id,))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM client WHERE id = %s", (client_id,))
    with fresh_db.connect("admin", autocommit=True) as conn:
        assert conn.execute("SELECT notes FROM client WHERE id = %s", (client_id,)).fetchone() == ("",)
