"""Migration 0006: set-based auditing of inserts, so that an import stays fast and is still in the log."""

from __future__ import annotations

DERIVED = {"version", "updated_at", "updated_by", "search", "purchase_count", "total_spent", "total_profit",
           "first_purchase_at", "last_purchase_at"}


def test_client_edit_triggers_cover_every_edited_column(fresh_db):
    """touch_row and audit fire on a column list; a column added later must be in it, or its edits would
    bump no version and reach no log."""
    with fresh_db.connect() as conn:
        columns = {name for (name,) in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'client'::regclass AND attnum > 0"
            " AND NOT attisdropped AND attgenerated = ''")}
        for trigger in ("touch_row", "audit"):
            listed = {name for (name,) in conn.execute(
                "SELECT a.attname FROM pg_trigger t JOIN pg_attribute a ON a.attrelid = t.tgrelid"
                " AND a.attnum = ANY(t.tgattr) WHERE t.tgrelid = 'client'::regclass AND t.tgname = %s",
                (trigger,))}
            assert listed == columns - DERIVED, trigger


def test_inserts_are_logged_per_row_and_bulk_purchases_as_one_summary(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("INSERT INTO client (id, last_name) SELECT g, 'Клиент ' || g FROM generate_series(1, 3) g")
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (1, now(), 10)")
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount)"
                     " SELECT 1 + g % 3, now(), g FROM generate_series(1, 1500) g")
        conn.execute("UPDATE client SET notes = 'x' WHERE id = 2")
    with fresh_db.connect() as conn:
        log = conn.execute("SELECT login, table_name, row_id, action, new_values FROM audit_log ORDER BY id").fetchall()
        stats = conn.execute("SELECT purchase_count, version FROM client ORDER BY id").fetchall()
    assert [(row[1], row[2], row[3]) for row in log[:3]] == [("client", "1", "insert"), ("client", "2", "insert"),
                                                             ("client", "3", "insert")]
    assert log[0][0] == "t_admin" and log[0][4]["last_name"] == "Клиент 1" and "search" not in log[0][4]
    assert (log[3][1], log[3][2], log[3][4]["amount"]) == ("purchase", "1", 10)
    assert (log[4][1], log[4][2], log[4][4]) == ("purchase", None, {"rows": 1500, "first_id": 2, "last_id": 1501})
    assert [(row[1], row[2], row[3], row[4]) for row in log[5:]] == [("client", "2", "update", {"notes": "x"})]
    # The statistics changed without counting as an edit.
    assert stats == [(501, 1), (500, 2), (500, 1)]
