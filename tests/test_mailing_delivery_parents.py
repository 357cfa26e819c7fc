"""Migration 0019: message's campaign and arm are checked per statement by triggers instead of foreign keys;
what the keys guaranteed still holds."""

from __future__ import annotations

import threading

import psycopg
import pytest

from db.mailing import campaigns
from tests.test_mailing_fixtures import add_client, email_campaign


def _campaign_with_messages(db, clients: int = 3) -> tuple[int, int]:
    with db.connect() as setup:
        for number in range(clients):
            add_client(setup, f"Клиент{number}", email=f"c{number}@example.com")
        setup.commit()
    with db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn)
        assert campaigns.start(conn, campaign) == clients
        variant = conn.execute("SELECT id FROM campaign_variant WHERE campaign_id = %s", (campaign,)).fetchone()[0]
    return campaign, variant


def test_a_message_must_name_an_existing_campaign_and_arm(fresh_db):
    campaign, variant = _campaign_with_messages(fresh_db, 1)
    with fresh_db.connect() as conn:
        client = add_client(conn, "Новый", email="new@example.com")  # no message yet
        conn.commit()
        insert = ("INSERT INTO message (campaign_id, variant_id, client_id, channel, address)"
                  " VALUES (%s, %s, %s, 'email', 'x@example.com')")
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="campaign 999999"):
            conn.execute(insert, (999999, None, client))
        conn.rollback()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="arm 999999"):
            conn.execute(insert, (campaign, 999999, client))
        conn.rollback()
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="campaign 999999"):
            conn.execute("UPDATE message SET campaign_id = 999999")
        conn.rollback()
        other = conn.execute("INSERT INTO campaign (name, channel) VALUES ('Другая', 'email')"
                             " RETURNING id").fetchone()[0]
        conn.execute("UPDATE message SET status = 'cancelled'")  # an update that re-points nothing is not checked
        # An arm is its own campaign's (0027): moved to another campaign, a message may not keep it.
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match=f"arm {variant}"):
            with conn.transaction():
                conn.execute("UPDATE message SET campaign_id = %s, client_id = client_id", (other,))
        conn.execute("UPDATE message SET campaign_id = %s, variant_id = NULL", (other,))
        conn.rollback()


def test_deleting_an_arm_unlinks_its_messages_and_deleting_a_campaign_deletes_them(fresh_db):
    campaign, variant = _campaign_with_messages(fresh_db)
    with fresh_db.connect() as conn:
        conn.execute("DELETE FROM campaign_variant WHERE id = %s", (variant,))
        assert conn.execute("SELECT count(*), count(variant_id) FROM message WHERE campaign_id = %s",
                            (campaign,)).fetchone() == (3, 0)
        conn.execute("DELETE FROM campaign WHERE id = %s", (campaign,))
        assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 0
        conn.commit()


def test_a_campaign_deleted_while_its_messages_are_inserted_takes_them_along(fresh_db):
    campaign, variant = _campaign_with_messages(fresh_db, 1)
    with fresh_db.connect() as setup:
        late = add_client(setup, "Поздний", email="late@example.com")
        setup.commit()
    inserting = fresh_db.connect()
    inserting.execute("INSERT INTO message (campaign_id, variant_id, client_id, channel, address)"
                      " VALUES (%s, %s, %s, 'email', 'late@example.com')", (campaign, variant, late))
    deleted = threading.Event()

    def delete() -> None:
        with fresh_db.connect() as deleting:
            deleting.execute("DELETE FROM campaign WHERE id = %s", (campaign,))
            deleting.commit()
        deleted.set()

    deleter = threading.Thread(target=delete)
    deleter.start()
    assert not deleted.wait(1.0)  # the insert's KEY SHARE lock holds the delete back, as a foreign key's would
    inserting.commit()
    inserting.close()
    deleter.join(30)
    assert deleted.is_set()
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 0  # no orphan
