"""The queue's rights, tried with raw psycopg as each role: only the mailer changes delivery state, and only that."""

from __future__ import annotations

import pytest

from db.mailing import campaigns
from tests.test_mailing_fixtures import add_client, email_campaign
from tests.test_roles import _allowed

DELIVERY_STATE = ("status", "skip_reason", "attempts", "not_before", "lease_until", "leased_by", "sent_at", "error",
                  "lease_token", "last_reply")
MAILER_ONLY = ("public.mailing_claim_turn()", "public.mailing_suppress_bounced('email', 'x@example.com', 1)",
               "public.mailing_unsubscribe('email', 'x@example.com')", "public.mailing_pause_on_errors(1, 0, 1)",
               "public.mailing_settle(1)", "public.mailing_favourite_product(1)")


@pytest.fixture
def queued(fresh_db):
    with fresh_db.connect() as setup:
        add_client(setup, "Анна", email="anna@example.com")
        setup.commit()
    with fresh_db.connect("admin", autocommit=True) as conn:
        campaign = email_campaign(conn)
        campaigns.start(conn, campaign)
    return campaign


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_readers_cannot_write_the_queue_nor_call_the_mailers_functions(fresh_db, queued, role):
    with fresh_db.connect(role, autocommit=True) as conn:
        for column in DELIVERY_STATE + ("address",):
            assert not _allowed(conn, f"UPDATE message SET {column} = {column}"), column
        assert not _allowed(conn, "DELETE FROM message")
        assert not _allowed(conn, f"INSERT INTO message (campaign_id, client_id, channel, address)"
                                  f" SELECT {queued}, id, 'email', 'x@example.com' FROM client")
        assert not _allowed(conn, "INSERT INTO suppression (channel, address, reason) VALUES ('email', 'a', 'manual')")
        for call in MAILER_ONLY:
            assert not _allowed(conn, f"SELECT {call}"), call
        assert conn.execute("SELECT * FROM public.mailing_progress(%s)", (queued,)).fetchall() == [
            ("queued", None, 1)]
        # Whom it went to, yes (0024); the lease, only the manager, who reads everything.
        assert _allowed(conn, "SELECT * FROM message") == (role == "manager")
        for column in ("lease_token", "leased_by"):
            assert _allowed(conn, f"SELECT {column} FROM message") == (role == "manager"), column


RECIPIENT_COLUMNS = ("id, campaign_id, variant_id, client_id, channel, address, status, skip_reason, attempts,"
                     " not_before, lease_until, sent_at, error, created_at, last_reply, extra")


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_readers_read_the_templates_and_the_recipients_and_write_neither(fresh_db, queued, role):
    with fresh_db.connect(role, autocommit=True) as conn:
        assert conn.execute("SELECT name, subject FROM template").fetchall() == [
            ("Осень template", "Скидка для вас, {{ first_name }}")]
        [(campaign_id, address, status)] = conn.execute(
            "SELECT campaign_id, address, status FROM message WHERE campaign_id = %s", (queued,)).fetchall()
        assert (campaign_id, address, status) == (queued, "anna@example.com", "queued")
        assert len(conn.execute(f"SELECT {RECIPIENT_COLUMNS} FROM message").fetchall()) == 1
        for statement in ("UPDATE template SET body = body", "UPDATE template SET name = name",
                          "DELETE FROM template",
                          "INSERT INTO template (name, channel, body) VALUES ('x', 'sms', 'x')",
                          "TRUNCATE template", "TRUNCATE message",
                          "UPDATE message SET address = address", "UPDATE message SET status = status",
                          "UPDATE message SET extra = extra", "DELETE FROM message"):
            assert not _allowed(conn, statement), statement
        assert _allowed(conn, "SELECT * FROM suppression") == (role == "manager")  # 0007: the card says it
        # A table of one's own cannot stand in for them: a reading role may create no temporary object, so
        # neither the screens nor a definer function can be pointed at a shadow.
        for shadow in ("CREATE TEMP TABLE template (id bigint)", "CREATE TEMP TABLE message (id bigint)",
                       "CREATE TEMP VIEW message AS SELECT 1 AS id"):
            assert not _allowed(conn, shadow), shadow


def test_the_mailer_changes_only_the_delivery_state(fresh_db, queued):
    with fresh_db.connect("mailer", autocommit=True) as conn:
        for column in DELIVERY_STATE:
            assert _allowed(conn, f"UPDATE message SET {column} = {column}"), column
        for column in ("address", "client_id", "campaign_id", "channel", "variant_id"):
            assert not _allowed(conn, f"UPDATE message SET {column} = {column}"), column
        assert not _allowed(conn, "DELETE FROM message")
        assert not _allowed(conn, "INSERT INTO message (campaign_id, client_id, channel, address)"
                                  " SELECT campaign_id, client_id, channel, address FROM message")
        assert not _allowed(conn, "INSERT INTO suppression (channel, address, reason) VALUES ('email', 'a', 'manual')")
        assert not _allowed(conn, "DELETE FROM suppression")
        assert not _allowed(conn, "UPDATE campaign SET status = 'paused'")
        assert not _allowed(conn, "UPDATE client SET consent_email = true")
        assert not _allowed(conn, "SELECT * FROM purchase")
        for call in MAILER_ONLY:
            assert _allowed(conn, f"SELECT {call}"), call


def test_the_mailers_functions_decide_for_themselves(fresh_db, queued):
    """Asking is not enough: an address without bounces stays, a healthy campaign keeps sending."""
    with fresh_db.connect("mailer", autocommit=True) as conn:
        assert conn.execute("SELECT public.mailing_suppress_bounced('email', 'anna@example.com', 1)").fetchone() == (
            False,)
        assert conn.execute("SELECT public.mailing_pause_on_errors(%s, 0, 1)", (queued,)).fetchone() == (False,)
        conn.execute("SELECT public.mailing_settle(%s)", (queued,))
        assert conn.execute("SELECT status FROM campaign WHERE id = %s", (queued,)).fetchone() == ("sending",)
        assert conn.execute("SELECT count(*) FROM suppression").fetchone() == (0,)


def test_no_table_a_reader_can_select_holds_a_secret(fresh_db):
    """SMTP passwords and gateway tokens come from the environment; no column may grow to hold one."""
    with fresh_db.connect() as conn:
        found = conn.execute(
            "SELECT c.relname, a.attname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0"
            " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v')"
            "   AND a.attname ~* '(password|secret|api_?key|smtp)'").fetchall()
        secret_settings = conn.execute("SELECT key FROM settings WHERE key ~* '(password|secret|token)'").fetchall()
    assert found == [] and secret_settings == []
