"""A second probe with psql as every role, of what landed since migration 0013: refunds, weekly schedules and the
message tally, the audit's client index, triggers, the administrator's tools (archive, forget), the message
parent checks, stored campaign results, and the mailing tables' grants.

A test that passes is the database refusing. The probe found nine holes; migration 0027 and db/notify.py closed
them, and each of their tests failed before: the mailer moving a message back to the queue, pausing a healthy
campaign, a reader stalling a results refresh, forgetting one client erasing another's unsubscribe or history,
leaving the person's messages queued or letting a waiting write bring the person back, a message naming another
campaign's arm, and a NOTIFY payload that ended every terminal's listener.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import psycopg
import pytest
from psycopg import errors

from db.mailing import queue

ROLES = ("admin", "manager", "sales", "mailer")
READERS = ("manager", "sales", "mailer")
CLAIM_TURN_LOCK = 7301401300  # mailing_claim_turn (0013)
TRIGGERS_RUN_LOCK = 7301501700  # db/mailing/triggers.py


def _shop(db) -> dict[str, int]:
    """Two clients sharing a family e-mail, a sending campaign with one arm, and one message each: the first
    sent, the second skipped as the split test's holdout. Made by the superuser, as a migration would."""
    with db.connect(autocommit=True) as conn:
        ids = {}
        for name in ("Ionescu", "Popescu"):
            ids[name] = conn.execute("INSERT INTO client (last_name, first_name, consent_email) "
                                     "VALUES (%s, 'Maria', true) RETURNING id", (name,)).fetchone()[0]
            conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized) "
                         "VALUES (%s, 'email', 'Family@Example.md', 'family@example.md')", (ids[name],))
        template = conn.execute("INSERT INTO template (name, channel, subject, body) "
                                "VALUES ('Promo', 'email', 'Hi', 'Hello') RETURNING id").fetchone()[0]
        campaign = conn.execute("INSERT INTO campaign (name, channel, status) VALUES ('Spring', 'email', 'sending') "
                                "RETURNING id").fetchone()[0]
        variant = conn.execute("INSERT INTO campaign_variant (campaign_id, template_id) VALUES (%s, %s) RETURNING id",
                               (campaign, template)).fetchone()[0]
        sent = conn.execute("INSERT INTO message (campaign_id, variant_id, client_id, channel, address, status, "
                            "sent_at, last_reply) VALUES (%s, %s, %s, 'email', 'family@example.md', 'sent', "
                            "now() - interval '1 day', '250 ok') RETURNING id",
                            (campaign, variant, ids["Ionescu"])).fetchone()[0]
        held = conn.execute("INSERT INTO message (campaign_id, variant_id, client_id, channel, address, status, "
                            "skip_reason) VALUES (%s, %s, %s, 'email', 'family@example.md', 'skipped', 'holdout') "
                            "RETURNING id", (campaign, variant, ids["Popescu"])).fetchone()[0]
        conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, now(), 100)",
                     (ids["Ionescu"],))
    return {"first": ids["Ionescu"], "second": ids["Popescu"], "campaign": campaign, "variant": variant,
            "sent": sent, "held": held, "template": template}


def _refused(conn: psycopg.Connection, statement: str, params: tuple = (),
             error: type[Exception] = errors.InsufficientPrivilege) -> None:
    with pytest.raises(error):
        conn.execute(statement, params)


def _progress(conn: psycopg.Connection, campaign: int) -> dict:
    return {(status, reason): count for status, reason, count in
            conn.execute("SELECT * FROM mailing_progress(%s)", (campaign,)).fetchall()}


def _truth(conn: psycopg.Connection, campaign: int) -> dict:
    return {(status, reason): count for status, reason, count in
            conn.execute("SELECT status, skip_reason, count(*) FROM message WHERE campaign_id = %s "
                         "GROUP BY 1, 2", (campaign,)).fetchall()}


# -- Writing what a role may not ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_no_login_writes_derived_mailing_figures_or_the_greeted_list(fresh_db, role):
    shop = _shop(fresh_db)
    with fresh_db.connect(role, autocommit=True) as conn:
        for statement in (
                "INSERT INTO message_tally VALUES (%(c)s, 'sent', '', 0, 1000000)",
                "UPDATE message_tally SET messages = 0",
                "DELETE FROM message_tally",
                "INSERT INTO campaign_result VALUES (%(c)s, 'A', 30, 1, 1, 0, 0, 1, 1e9, now(), now(), now())",
                "UPDATE campaign_result SET revenue = 1e9",
                "DELETE FROM campaign_result",
                "UPDATE client SET forgotten_at = now() WHERE id = %(client)s",
                "DELETE FROM trigger_occasion",  # would greet everyone again
                "UPDATE trigger_occasion SET occasion = 'x'",
                "DELETE FROM trigger_campaign",
                "DELETE FROM audit_log",
                "SELECT setval('audit_log_id_seq', 1)",
                "TRUNCATE message", "TRUNCATE message_tally", "TRUNCATE campaign_result", "TRUNCATE campaign",
                "TRUNCATE campaign_variant", "TRUNCATE trigger_occasion", "TRUNCATE suppression",
                "TRUNCATE audit_log"):
            _refused(conn, statement, {"c": shop["campaign"], "client": shop["first"]})
        for table in ("message_tally", "campaign_result", "audit_log", "trigger_occasion"):
            with pytest.raises(errors.InsufficientPrivilege):
                with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write("")


@pytest.mark.parametrize("role", READERS)
def test_reading_logins_write_no_campaign_trigger_or_refund(fresh_db, role):
    shop = _shop(fresh_db)
    with fresh_db.connect(role, autocommit=True) as conn:
        for statement in (
                "INSERT INTO purchase (client_id, purchased_at, amount, cost) VALUES (%(client)s, now(), -50, -10)",
                "UPDATE campaign SET holdout_percent = 50, weekly_day = 1, weekly_time = '10:00'",
                "UPDATE campaign SET next_run_at = now()",
                "INSERT INTO campaign (name, channel, parent_id, occurrence) VALUES ('x', 'email', %(c)s, now())",
                "INSERT INTO trigger_campaign (trigger, day) VALUES ('birthday', current_date)",
                "INSERT INTO trigger_occasion (trigger, client_id, occasion, campaign_id) "
                "VALUES ('birthday', %(client)s, '2026', %(c)s)",
                "UPDATE client SET archived_at = now()",
                "UPDATE message SET extra = '{\"child\": \"x\"}'",
                "INSERT INTO message (campaign_id, client_id, channel, address) "
                "VALUES (%(c)s, %(client)s, 'email', 'a@b.md')",
                "DELETE FROM message"):
            _refused(conn, statement, {"c": shop["campaign"], "client": shop["first"]})


# -- Reading what a role may not ----------------------------------------------------------------------------------

def test_a_salesperson_reads_neither_the_lease_nor_the_audit_nor_who_was_greeted(fresh_db):
    """0024 lets salespeople read templates and whom a campaign went to, but not the lease of a message."""
    shop = _shop(fresh_db)
    with fresh_db.connect("sales", autocommit=True) as conn:
        for column in ("lease_token", "leased_by"):
            _refused(conn, f"SELECT {column} FROM message")
        for table in ("audit_log", "message", "message_tally", "trigger_occasion", "suppression"):
            _refused(conn, f"SELECT * FROM {table}")
            with pytest.raises(errors.InsufficientPrivilege):
                with conn.cursor().copy(f"COPY (SELECT * FROM {table}) TO STDOUT") as copy:
                    list(copy)
        # The audit's client index function would tell which clients' rows were edited.
        _refused(conn, "SELECT cb_audit_client('client', '1', NULL, NULL)")
        # The split results' computation reads the queue and the suppression list as its caller.
        _refused(conn, "SELECT * FROM campaign_results_compute(%s)", (shop["campaign"],))
        # Locking rows needs an update right: nobody reading may hold a campaign against its deletion.
        _refused(conn, "SELECT 1 FROM campaign FOR KEY SHARE")
        _refused(conn, "SELECT 1 FROM client FOR UPDATE")
        # What the counts through mailing_progress give is all there is.
        assert _progress(conn, shop["campaign"]) == {("sent", None): 1, ("skipped", "holdout"): 1}


def test_the_mailer_reads_no_purchases_results_or_triggers(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        for table in ("purchase", "purchase_line", "message_tally", "campaign_result", "trigger_campaign",
                      "trigger_occasion", "audit_log", "interaction"):
            _refused(conn, f"SELECT * FROM {table}")
        _refused(conn, "SELECT * FROM campaign_results_compute(%s)", (shop["campaign"],))
        _refused(conn, "SELECT campaign_results_refresh(%s)", (shop["campaign"],))
        _refused(conn, "SELECT 1 FROM campaign FOR KEY SHARE")
        with pytest.raises(errors.InsufficientPrivilege):
            with conn.transaction():
                conn.execute("LOCK TABLE message IN SHARE ROW EXCLUSIVE MODE")


# -- Functions: who may call them, and with what ------------------------------------------------------------------

@pytest.mark.parametrize("role", ("manager", "sales"))
def test_readers_call_no_mailing_or_admin_function(fresh_db, role):
    shop = _shop(fresh_db)
    with fresh_db.connect(role, autocommit=True) as conn:
        for call in ("mailing_claim_turn()", "mailing_unsubscribe('email', 'family@example.md')",
                     "mailing_suppress_bounced('email', 'family@example.md', 1)",
                     "mailing_pause_on_errors(%(c)s, 0, 1)", "mailing_settle(%(c)s)",
                     "mailing_favourite_product(%(client)s)", "refresh_client_stats(ARRAY[%(client)s])",
                     "client_forget(%(client)s)"):
            _refused(conn, f"SELECT {call}", {"c": shop["campaign"], "client": shop["first"]})


def test_the_mailer_forgets_nobody_and_recounts_nothing(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        _refused(conn, "SELECT client_forget(%s)", (shop["first"],))
        _refused(conn, "SELECT refresh_client_stats(ARRAY[%s])", (shop["first"],))


def test_client_forget_with_hostile_arguments(fresh_db):
    _shop(fresh_db)
    with fresh_db.connect("admin", autocommit=True) as conn:
        for argument in (None, -1, 2**63 - 1):
            _refused(conn, "SELECT client_forget(%s)", (argument,), errors.NoDataFound)
        _refused(conn, "SELECT client_forget(ARRAY[1, 2])", error=errors.UndefinedFunction)
        # Statistics recounted from the truth, whatever ids are asked for.
        conn.execute("SELECT refresh_client_stats(NULL)")
        conn.execute("SELECT refresh_client_stats(ARRAY[NULL, -1, 9223372036854775807]::bigint[])")
        assert conn.execute("SELECT count(*) FROM client WHERE forgotten_at IS NOT NULL").fetchone()[0] == 0


def test_campaign_results_refresh_with_hostile_arguments(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("sales", autocommit=True) as conn:
        for argument in (None, -1, 2**63 - 1):
            conn.execute("SELECT campaign_results_refresh(%s)", (argument,))
        assert conn.execute("SELECT count(*) FROM campaign_result").fetchone()[0] == 0
        conn.execute("SELECT campaign_results_refresh(%s)", (shop["campaign"],))
        # Only this campaign's own messages count: one sent, one held back.
        rows = conn.execute("SELECT arm, recipients, sent, revenue FROM campaign_result WHERE days = 30 "
                            "ORDER BY arm").fetchall()
    assert rows == [("A", 1, 1, 100), ("holdout", 1, 0, 0)]


def test_unsubscribe_and_bounce_take_only_well_formed_addresses(fresh_db):
    _shop(fresh_db)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        _refused(conn, "SELECT mailing_unsubscribe('email', NULL)", error=errors.NotNullViolation)
        _refused(conn, "SELECT mailing_unsubscribe('fax', 'x')", error=errors.CheckViolation)
        # No bounce on record: no suppression, whatever threshold is asked for.
        for threshold in (0, -5, None):
            assert conn.execute("SELECT mailing_suppress_bounced('email', 'family@example.md', %s)",
                                (threshold,)).fetchone()[0] is False
        assert conn.execute("SELECT count(*) FROM suppression").fetchone()[0] == 0
        for argument in (None, -1, 2**63 - 1):
            assert conn.execute("SELECT mailing_favourite_product(%s)", (argument,)).fetchone()[0] is None
            assert conn.execute("SELECT count(*) FROM mailing_progress(%s)", (argument,)).fetchone()[0] == 0


def test_the_mailer_cannot_pause_a_healthy_campaign(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        for threshold, minimum in ((0, 1), (None, None), (-1, 0)):
            try:
                conn.execute("SELECT mailing_pause_on_errors(%s, %s, %s)", (shop["campaign"], threshold, minimum))
            except psycopg.DatabaseError:
                pass  # a refusal of the argument is as good as no pause
        status = conn.execute("SELECT status FROM campaign WHERE id = %s", (shop["campaign"],)).fetchone()[0]
    assert status == "sending"


# -- Locks ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", READERS)
def test_readers_take_none_of_the_mailings_locks(fresh_db, role):
    with fresh_db.connect(role, autocommit=True) as conn:
        for statement in (f"SELECT pg_advisory_lock({CLAIM_TURN_LOCK})",
                          f"SELECT pg_advisory_lock_shared({CLAIM_TURN_LOCK})",
                          f"SELECT pg_try_advisory_xact_lock({CLAIM_TURN_LOCK})",
                          f"SELECT pg_advisory_xact_lock_shared({TRIGGERS_RUN_LOCK})",
                          f"SELECT pg_try_advisory_lock({TRIGGERS_RUN_LOCK})"):
            _refused(conn, statement)


def test_a_lease_is_its_tokens_only(fresh_db):
    """A guessed token renews or marks nothing: the queue's own statements name the token and 'sending'."""
    shop = _shop(fresh_db)
    with fresh_db.connect(autocommit=True) as conn:
        third = conn.execute("INSERT INTO client (last_name) VALUES ('Rusu') RETURNING id").fetchone()[0]
        leased = conn.execute("INSERT INTO message (campaign_id, variant_id, client_id, channel, address, status, "
                              "lease_token, lease_until, leased_by) VALUES (%s, %s, %s, 'email', 'r@example.md', "
                              "'sending', %s, now() + interval '1 minute', 'w1') RETURNING id",
                              (shop["campaign"], shop["variant"], third, uuid4())).fetchone()[0]
    with fresh_db.connect("mailer") as conn:
        assert queue.renew(conn, uuid4(), timedelta(minutes=5), datetime.now(timezone.utc)) == 0
        assert queue.mark_sent(conn, leased, uuid4(), "250 ok", datetime.now(timezone.utc)) is False
        assert queue.release(conn, uuid4()) == 0
        conn.commit()
        assert conn.execute("SELECT status, leased_by FROM message WHERE id = %s",
                            (leased,)).fetchone() == ("sending", "w1")


def test_a_salesperson_cannot_stall_everyone_elses_results_refresh(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("sales") as holder, fresh_db.connect("admin", autocommit=True) as admin:
        holder.execute("SELECT campaign_results_refresh(%s)", (shop["campaign"],))  # and stays in the transaction
        admin.execute("SET lock_timeout = '1s'")
        try:
            admin.execute("SELECT campaign_results_refresh(%s)", (shop["campaign"],))
        finally:
            holder.rollback()


def test_the_mailer_settles_no_campaign_before_its_time(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect(autocommit=True) as conn:
        weekly = conn.execute("INSERT INTO campaign (name, channel, status, weekly_day, weekly_time, next_run_at) "
                              "VALUES ('Weekly', 'email', 'scheduled', 0, '10:00', now() + interval '1 day') "
                              "RETURNING id").fetchone()[0]
        later = conn.execute("INSERT INTO campaign (name, channel, status, scheduled_at) "
                             "VALUES ('Later', 'email', 'scheduled', now() + interval '1 day') RETURNING id"
                             ).fetchone()[0]
        conn.execute("INSERT INTO message (campaign_id, variant_id, client_id, channel, address) "
                     "VALUES (%s, %s, %s, 'email', 'family@example.md')", (later, None, shop["first"]))
    with fresh_db.connect("mailer", autocommit=True) as conn:
        for campaign in (weekly, later, None, -1):
            conn.execute("SELECT mailing_settle(%s)", (campaign,))
            assert conn.execute("SELECT mailing_pause_on_errors(%s, 0.5, 1)", (campaign,)).fetchone()[0] is False
        assert conn.execute("SELECT id, status FROM campaign WHERE id IN (%s, %s) ORDER BY id",
                            (weekly, later)).fetchall() == [(weekly, "scheduled"), (later, "scheduled")]


def test_nobody_attaches_the_queues_definer_triggers_to_a_table_of_their_own(fresh_db):
    """mailing_tally on a look-alike would write any count into the real tally as its owner."""
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE message AS SELECT * FROM public.message WITH NO DATA")
        conn.execute("CREATE TEMP TABLE campaign AS SELECT * FROM public.campaign WITH NO DATA")
        for table, function, tables in (
                ("message", "mailing_tally", "NEW TABLE AS new_rows"),
                ("message", "message_parents_exist", "NEW TABLE AS new_rows"),
                ("campaign", "message_campaign_deleted", "OLD TABLE AS old_rows"),
                ("campaign", "message_variant_deleted", "OLD TABLE AS old_rows")):
            event = "INSERT" if "NEW" in tables else "DELETE"
            _refused(conn, f"CREATE TRIGGER fake AFTER {event} ON pg_temp.{table} REFERENCING {tables} "
                           f"FOR EACH STATEMENT EXECUTE FUNCTION public.{function}()")
        _refused(conn, "CREATE TRIGGER fake AFTER UPDATE ON pg_temp.message FOR EACH ROW "
                       "EXECUTE FUNCTION public.message_parents_exist_row()")


# -- The queue's states and the tally ----------------------------------------------------------------------------

def test_the_mailer_cannot_move_a_message_back_to_the_queue(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        for message in (shop["sent"], shop["held"]):
            with pytest.raises(psycopg.DatabaseError):  # today the mailer's right lets it through
                conn.execute("UPDATE message SET status = 'queued', skip_reason = NULL WHERE id = %s", (message,))
            # A lease long expired is claimed again just the same.
            with pytest.raises(psycopg.DatabaseError):
                conn.execute("UPDATE message SET status = 'sending', skip_reason = NULL, lease_until = now() - "
                             "interval '1 hour' WHERE id = %s", (message,))


def test_the_tally_follows_every_change_of_the_queue(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("admin", autocommit=True) as conn:
        third = conn.execute("INSERT INTO client (last_name) VALUES ('Rusu') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO message (campaign_id, client_id, channel, address) "
                     "VALUES (%s, %s, 'email', 'r@example.md')", (shop["campaign"], third))
    with fresh_db.connect("mailer", autocommit=True) as conn:
        conn.execute("UPDATE message SET status = 'sending' WHERE client_id = %s", (third,))
        conn.execute("UPDATE message SET status = 'failed', last_reply = '550 no' WHERE client_id = %s", (third,))
        conn.execute("UPDATE message SET skip_reason = 'invented' WHERE id = %s", (shop["held"],))
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("DELETE FROM client WHERE id = %s", (shop["second"],))  # the client's key cascades
        fourth = conn.execute("INSERT INTO client (last_name) VALUES ('Lungu') RETURNING id").fetchone()[0]
        with conn.cursor().copy("COPY message (campaign_id, client_id, channel, address) FROM STDIN") as copy:
            copy.write_row((shop["campaign"], fourth, "email", "x@example.md"))
    with fresh_db.connect("admin", autocommit=True) as conn:
        assert _progress(conn, shop["campaign"]) == _truth(conn, shop["campaign"])
        assert sum(_progress(conn, shop["campaign"]).values()) == 3


def test_a_message_names_an_existing_campaign_and_arm_whatever_the_path(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect(autocommit=True) as conn:
        other = conn.execute("INSERT INTO campaign (name, channel) VALUES ('Other', 'email') RETURNING id"
                             ).fetchone()[0]
    with fresh_db.connect("admin", autocommit=True) as conn:
        _refused(conn, "UPDATE message SET campaign_id = -1 WHERE id = %s", (shop["sent"],),
                 errors.ForeignKeyViolation)
        _refused(conn, "UPDATE message SET variant_id = -1 WHERE id = %s", (shop["sent"],),
                 errors.ForeignKeyViolation)
        with pytest.raises(errors.ForeignKeyViolation):
            with conn.cursor().copy("COPY message (campaign_id, client_id, channel, address) FROM STDIN") as copy:
                copy.write_row((-7, shop["first"], "email", "x@example.md"))
        # Deleting a campaign takes its messages and their tally with it.
        conn.execute("UPDATE message SET campaign_id = %s, variant_id = NULL WHERE id = %s", (other, shop["held"]))
        conn.execute("DELETE FROM campaign WHERE id = %s", (other,))
        assert conn.execute("SELECT count(*) FROM message WHERE id = %s", (shop["held"],)).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM message_tally WHERE campaign_id = %s", (other,)).fetchone()[0] == 0
        assert _progress(conn, shop["campaign"]) == _truth(conn, shop["campaign"])


def test_a_delete_waiting_on_an_insert_takes_the_new_messages_along(fresh_db):
    shop = _shop(fresh_db)
    inserting, deleting = fresh_db.connect("admin"), fresh_db.connect("admin", autocommit=True)
    try:
        third = inserting.execute("INSERT INTO client (last_name) VALUES ('Rusu') RETURNING id").fetchone()[0]
        inserting.execute("INSERT INTO message (campaign_id, client_id, channel, address) "
                          "VALUES (%s, %s, 'email', 'r@example.md')", (shop["campaign"], third))
        done = threading.Event()

        def delete() -> None:
            deleting.execute("DELETE FROM campaign WHERE id = %s", (shop["campaign"],))
            done.set()

        waiting = threading.Thread(target=delete)
        waiting.start()
        assert not done.wait(0.5), "the delete should wait for the insert's key lock"
        inserting.commit()
        waiting.join(10)
        assert done.is_set()
    finally:
        inserting.close()
        deleting.close()
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM message_tally").fetchone()[0] == 0


# -- Temporary look-alikes before definer functions and triggers -------------------------------------------------

def test_temporary_look_alikes_change_nothing_a_definer_function_or_trigger_does(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("SET search_path = pg_temp, public")
        for table in ("message", "message_tally", "campaign", "campaign_result", "campaign_variant", "suppression",
                      "purchase", "client", "contact_point", "audit_log"):
            conn.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM public.{table} WITH NO DATA")
        conn.execute("CREATE TEMP TABLE new_rows AS SELECT * FROM public.message WITH NO DATA")
        conn.execute("CREATE TEMP TABLE old_rows AS SELECT * FROM public.message WITH NO DATA")
        # Planted rows that would show if a function read them.
        conn.execute("INSERT INTO pg_temp.purchase (id, client_id, purchased_at, channel, amount, version, created_at, "
                     "created_by, updated_at, updated_by) SELECT 1, %s, now(), 'shop', 1e9, 1, now(), 'x', now(), 'x'",
                     (shop["first"],))
        conn.execute("INSERT INTO pg_temp.message_tally VALUES (%s, 'sent', '', 0, 1000000)", (shop["campaign"],))
        conn.execute("INSERT INTO pg_temp.new_rows (id, campaign_id, client_id, channel, address, status, attempts, "
                     "not_before, created_at, extra) SELECT 99, %s, %s, 'email', 'x', 'sent', 0, now(), now(), '{}'",
                     (shop["campaign"], shop["first"]))
        conn.execute("INSERT INTO pg_temp.suppression (id, channel, address, reason, created_at, created_by) "
                     "VALUES (1, 'email', 'family@example.md', 'unsubscribed', now(), 'x')")
        third = conn.execute("INSERT INTO public.client (last_name) VALUES ('Rusu') RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO public.message (campaign_id, client_id, channel, address) "
                     "VALUES (%s, %s, 'email', 'r@example.md')", (shop["campaign"], third))
        conn.execute("UPDATE public.message SET status = 'cancelled' WHERE client_id = %s", (third,))
        conn.execute("SELECT public.campaign_results_refresh(%s)", (shop["campaign"],))
        conn.execute("SELECT public.mailing_unsubscribe('email', 'new@example.md')")
        conn.execute("SELECT public.client_forget(%s)", (shop["second"],))
        conn.execute("SELECT public.refresh_client_stats(ARRAY[%s]::bigint[])", (shop["first"],))
        progress = _progress(conn, shop["campaign"])
    with fresh_db.connect() as conn:
        assert progress == _truth(conn, shop["campaign"])
        assert conn.execute("SELECT max(revenue), max(unsubscribed) FROM campaign_result").fetchone() == (100, 0)
        assert conn.execute("SELECT total_spent FROM client WHERE id = %s", (shop["first"],)).fetchone()[0] == 100
        assert conn.execute("SELECT forgotten_at IS NOT NULL, last_name FROM client WHERE id = %s",
                            (shop["second"],)).fetchone() == (True, "—")
        assert conn.execute("SELECT address FROM suppression").fetchall() == [("new@example.md",)]
        assert conn.execute("SELECT count(*) FROM audit_log WHERE table_name = 'suppression'").fetchone()[0] == 1


def test_no_login_creates_objects_in_public_or_maintains_tables(fresh_db):
    for role in ROLES:
        with fresh_db.connect(role, autocommit=True) as conn:
            for statement in ("CREATE TABLE public.message_tally_copy (id int)",
                              "CREATE VIEW public.v AS SELECT 1",
                              "CREATE FUNCTION public.cb_audit_client(text) RETURNS bigint LANGUAGE sql RETURN 1",
                              "CREATE OPERATOR public.=== (FUNCTION = int4eq, LEFTARG = int, RIGHTARG = int)",
                              "CREATE SCHEMA shadow",
                              "REINDEX TABLE public.audit_log",
                              "CLUSTER public.campaign_result USING campaign_result_pkey",
                              "ALTER TABLE public.message DISABLE TRIGGER message_tally_update",
                              "SET session_replication_role = replica",
                              # The definer functions' owner may delete audit rows since 0018.
                              "SET ROLE clientbase_owner", "SET SESSION AUTHORIZATION postgres",
                              "CREATE ROLE probe_login LOGIN IN ROLE clientbase_admin",
                              "GRANT clientbase_owner TO CURRENT_USER", "GRANT clientbase_admin TO CURRENT_USER"):
                _refused(conn, statement)
            if role != "admin":
                _refused(conn, "CREATE TEMP TABLE t (id int)")
            # ANALYZE of someone else's table is skipped with a warning, not run.
            maintained = conn.execute(
                "SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
                "AND c.relkind IN ('r', 'p', 'm') AND has_table_privilege(c.oid, 'MAINTAIN')").fetchone()[0]
            assert maintained == 0, role
            assert not conn.execute("SELECT pg_has_role('pg_maintain', 'MEMBER')").fetchone()[0]


# -- Forgetting a client ------------------------------------------------------------------------------------------

def test_forgetting_leaves_nothing_of_the_person(fresh_db):
    shop = _shop(fresh_db)
    client = shop["first"]
    with fresh_db.connect(autocommit=True) as conn:  # a greeting's values (0017), as a trigger run writes them
        conn.execute("UPDATE message SET extra = '{\"child\": \"Dorin\"}' WHERE id = %s", (shop["sent"],))
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("UPDATE client SET notes = 'allergic to Zyrtec', city = 'Chisinau', archived_at = now() "
                     "WHERE id = %s", (client,))
        conn.execute("UPDATE client SET archived_at = NULL WHERE id = %s", (client,))
        conn.execute("INSERT INTO relative (client_id, name, birth_date) VALUES (%s, 'Dorin', '2015-05-01')",
                     (client,))
        conn.execute("INSERT INTO interaction (client_id, kind, text) VALUES (%s, 'note', 'Dorin likes Lego')",
                     (client,))
        conn.execute("SELECT client_forget(%s)", (client,))
    with fresh_db.connect() as conn:
        traces = conn.execute(
            "SELECT 'client' FROM client WHERE id = %(c)s AND (search ~* 'ionescu|maria|chisinau|zyrtec|family' "
            "   OR notes <> '' OR city <> '')"
            " UNION ALL SELECT 'audit ' || table_name FROM audit_log"
            "  WHERE (coalesce(old_values::text, '') || coalesce(new_values::text, '')) "
            "        ~* 'ionescu|zyrtec|chisinau|dorin'"
            " UNION ALL SELECT 'audit row of the client' FROM audit_log"
            "  WHERE cb_audit_client(table_name, row_id, old_values, new_values) = %(c)s AND action <> 'forget'"
            " UNION ALL SELECT 'message' FROM message WHERE client_id = %(c)s AND (address <> '' OR extra <> '{}')"
            " UNION ALL SELECT 'relative' FROM relative WHERE client_id = %(c)s"
            " UNION ALL SELECT 'interaction' FROM interaction WHERE client_id = %(c)s",
            {"c": client}).fetchall()
    assert traces == []


def test_forgetting_one_client_keeps_anothers_unsubscribe(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("mailer", autocommit=True) as conn:
        conn.execute("SELECT mailing_unsubscribe('email', 'family@example.md')")  # the second client's click
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("SELECT client_forget(%s)", (shop["first"],))
        assert conn.execute("SELECT count(*) FROM contact_point WHERE client_id = %s",
                            (shop["second"],)).fetchone()[0] == 1
        assert conn.execute("SELECT address FROM suppression").fetchall() == [("family@example.md",)]


def test_forgetting_a_client_keeps_the_history_of_rows_that_are_someone_elses(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("admin", autocommit=True) as conn:
        note = conn.execute("INSERT INTO interaction (client_id, kind, text) VALUES (%s, 'call', 'ordered a gym pass')"
                            " RETURNING id", (shop["second"],)).fetchone()[0]
        conn.execute("UPDATE interaction SET client_id = %s WHERE id = %s", (shop["first"], note))  # a slip
        conn.execute("UPDATE interaction SET client_id = %s WHERE id = %s", (shop["second"], note))  # undone
        conn.execute("SELECT client_forget(%s)", (shop["first"],))
    with fresh_db.connect() as conn:
        inserted = conn.execute("SELECT count(*) FROM audit_log WHERE table_name = 'interaction' AND row_id = %s "
                                "AND action = 'insert'", (str(note),)).fetchone()[0]
    assert inserted == 1


def test_a_forgotten_client_leaves_nothing_in_the_queue_to_send(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect(autocommit=True) as conn:
        service = conn.execute("INSERT INTO campaign (name, channel, purpose, status) "
                               "VALUES ('Renewal', 'email', 'service', 'sending') RETURNING id").fetchone()[0]
        arm = conn.execute("INSERT INTO campaign_variant (campaign_id, template_id) VALUES (%s, %s) RETURNING id",
                           (service, shop["template"])).fetchone()[0]
        conn.execute("INSERT INTO message (campaign_id, variant_id, client_id, channel, address, not_before) "
                     "VALUES (%s, %s, %s, 'email', 'family@example.md', now() - interval '1 minute')",
                     (service, arm, shop["first"]))
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("SELECT client_forget(%s)", (shop["first"],))
    with fresh_db.connect("mailer") as conn:
        claimed = queue.claim(conn, worker="probe", token=uuid4(), limit=10, lease=timedelta(minutes=1),
                              now=datetime.now(timezone.utc), in_window=True, cap_messages=2, cap_days=7)
    assert [(m.address, m.last_name) for m in claimed.messages] == []


def test_a_write_that_waited_for_client_forget_does_not_bring_the_person_back(fresh_db):
    shop = _shop(fresh_db)
    forgetting, writing = fresh_db.connect("admin"), fresh_db.connect("admin")
    failure: list[BaseException] = []
    try:
        forgetting.execute("SELECT client_forget(%s)", (shop["first"],))

        def write() -> None:
            try:
                writing.execute("INSERT INTO contact_point (client_id, kind, value, normalized) "
                                "VALUES (%s, 'mobile', '+37369123456', '+37369123456')", (shop["first"],))
                writing.commit()
            except psycopg.DatabaseError as refused:
                failure.append(refused)
                writing.rollback()

        waiting = threading.Thread(target=write)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive(), "the write should wait for the forgetting transaction's lock"
        forgetting.commit()
        waiting.join(10)
    finally:
        forgetting.close()
        writing.close()
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM contact_point WHERE client_id = %s",
                            (shop["first"],)).fetchone()[0] == 0


# -- Weekly occurrences and arms: what the keys of 0019 used to keep -----------------------------------------------

def test_deleting_a_weekly_campaign_takes_its_occurrences_messages_along(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect(autocommit=True) as conn:
        weekly = conn.execute("INSERT INTO campaign (name, channel, status, weekly_day, weekly_time) "
                              "VALUES ('Weekly', 'email', 'sending', 0, '10:00') RETURNING id").fetchone()[0]
        conn.execute("UPDATE campaign SET parent_id = %s, occurrence = now() WHERE id = %s",
                     (weekly, shop["campaign"]))
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("DELETE FROM campaign WHERE id = %s", (weekly,))  # the occurrence goes by its key's cascade
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM campaign").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM message").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM message_tally").fetchone()[0] == 0


def test_no_message_names_an_arm_that_is_gone(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect(autocommit=True) as conn:
        other = conn.execute("INSERT INTO campaign (name, channel) VALUES ('Other', 'email') RETURNING id"
                             ).fetchone()[0]
        arm = conn.execute("INSERT INTO campaign_variant (campaign_id, template_id) VALUES (%s, %s) RETURNING id",
                           (other, shop["template"])).fetchone()[0]
    with fresh_db.connect("admin", autocommit=True) as conn:
        try:
            conn.execute("UPDATE message SET variant_id = %s WHERE id = %s", (arm, shop["sent"]))
        except psycopg.errors.ForeignKeyViolation:
            pass  # refusing another campaign's arm is the other way to keep the key
        conn.execute("DELETE FROM campaign_variant WHERE id = %s", (arm,))
        dangling = conn.execute("SELECT count(*) FROM message m WHERE m.variant_id IS NOT NULL AND NOT EXISTS "
                                "(SELECT 1 FROM campaign_variant v WHERE v.id = m.variant_id)").fetchone()[0]
    assert dangling == 0


# -- ANALYZE, COPY, NOTIFY ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_analyze_and_copy_to_the_servers_files_are_not_a_logins(fresh_db, role):
    with fresh_db.connect(role, autocommit=True) as conn:
        warnings: list[str] = []
        conn.add_notice_handler(lambda notice: warnings.append(notice.message_primary or ""))
        for table in ("client", "audit_log", "message", "campaign_result"):
            conn.execute(f"ANALYZE public.{table}")  # statistics steer every plan: only the owner renews them
        assert len(warnings) == 4 and all("skipping" in warning for warning in warnings), warnings
        for statement in ("COPY (SELECT 1) TO '/tmp/probe-copy'", "COPY (SELECT 1) TO PROGRAM 'true'",
                          "COPY public.settings FROM '/etc/passwd'"):
            _refused(conn, statement)


def test_a_hostile_notify_payload_is_everything_changed_not_a_dead_listener():
    from db import notify

    for payload in ("²", "9" * 5000, "99999999999999999999"):
        changes = notify._parse([payload, "7"])
        assert changes.everything and changes.ids == frozenset({7}), payload


def test_nothing_is_moved_onto_a_forgotten_client_afterwards(fresh_db):
    shop = _shop(fresh_db)
    with fresh_db.connect("admin", autocommit=True) as conn:
        note = conn.execute("INSERT INTO interaction (client_id, kind, text) VALUES (%s, 'call', 'asked for a card')"
                            " RETURNING id", (shop["second"],)).fetchone()[0]
        conn.execute("SELECT client_forget(%s)", (shop["first"],))
        _refused(conn, "UPDATE interaction SET client_id = %s WHERE id = %s", (shop["first"], note),
                 errors.CheckViolation)
        _refused(conn, "INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, now(), 5)",
                 (shop["first"],), errors.CheckViolation)
        # The stub's own purchases stay editable: only a row newly naming the forgotten client is refused.
        conn.execute("UPDATE purchase SET amount = 90 WHERE client_id = %s", (shop["first"],))
