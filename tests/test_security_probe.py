"""What a probe with psql as every role found open after migration 0008, each tried again (migration 0009)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from db.embedded import SUPERUSER, EmbeddedServer
from tests.test_embedded import home, run  # noqa: F401 (home is a fixture)
from tests.test_security import migrated, probes  # noqa: F401 (fixtures)


@pytest.mark.parametrize("role", ["admin", "manager", "sales", "mailer"])
def test_no_login_stores_large_objects_or_wal_messages(fresh_db, role):
    with fresh_db.connect(role, autocommit=True) as conn:
        for statement in ("SELECT lo_from_bytea(0, 'kept forever')", "SELECT lo_create(0)", "SELECT lo_creat(-1)",
                          "SELECT pg_logical_emit_message(false, 'x', repeat('x', 1000))"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_temporary_look_alike_plants_nothing_in_the_search_text(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        company = conn.execute("INSERT INTO company (name) VALUES ('Acme') RETURNING id").fetchone()[0]
        client = conn.execute("INSERT INTO client (last_name, company_id) VALUES ('Popescu', %s) RETURNING id",
                              (company,)).fetchone()[0]
        conn.execute("CREATE TEMP TABLE company (id bigint, name text)")
        conn.execute("INSERT INTO pg_temp.company VALUES (%s, 'planted')", (company,))
        conn.execute("UPDATE client SET company_id = company_id WHERE id = %s", (client,))
        conn.execute("CREATE TEMP TABLE client (id bigint, company_id bigint)")
        conn.execute("UPDATE public.company SET name = 'Renamed' WHERE id = %s", (company,))
        search = conn.execute("SELECT search FROM public.client WHERE id = %s", (client,)).fetchone()[0]
    assert "planted" not in search and "renamed" in search


def test_a_products_category_is_an_edit_like_any_other(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        product = conn.execute("INSERT INTO product (name, category) VALUES ('Abonament', 'sport') RETURNING id"
                               ).fetchone()[0]
        version, author = conn.execute("UPDATE product SET category = 'spa' WHERE id = %s RETURNING version, "
                                       "updated_by", (product,)).fetchone()
    assert (version, author) == (2, "t_admin")
    with fresh_db.connect() as conn:
        logged = conn.execute("SELECT action, old_values, new_values FROM audit_log WHERE table_name = 'product' "
                              "ORDER BY id", ).fetchall()
    assert logged[0][0] == "insert" and logged[0][2]["category"] == "sport"
    assert logged[1] == ("update", {"category": "sport"}, {"category": "spa"})


def test_nobody_attaches_the_audit_to_a_table_of_their_own(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE client (id bigint, notes text)")
        for function in ("audit_row()", "audit_inserted_rows()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"CREATE TRIGGER fake AFTER INSERT ON pg_temp.client REFERENCING NEW TABLE AS new_rows "
                             f"FOR EACH STATEMENT EXECUTE FUNCTION public.{function}")
        conn.execute("INSERT INTO public.client (last_name) VALUES ('Audited')")
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE table_name = 'client'").fetchone()[0] == 1


def test_two_sessions_adding_purchases_to_one_client_leave_true_statistics(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        client = conn.execute("INSERT INTO client (last_name) VALUES ('Ionescu') RETURNING id").fetchone()[0]
    first, second = fresh_db.connect("admin"), fresh_db.connect("admin")
    try:
        first.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, now(), 10)", (client,))

        def add_second() -> None:
            # Waits for the first session's lock on the client row, then must see its purchase.
            second.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, now(), 20)",
                           (client,))
            second.commit()

        waiting = threading.Thread(target=add_second)
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive(), "the second session should wait for the first one's lock"
        first.commit()
        waiting.join(10.0)
    finally:
        first.close()
        second.close()
    with fresh_db.connect() as conn:
        stats = conn.execute("SELECT purchase_count, total_spent FROM client WHERE id = %s", (client,)).fetchone()
    assert stats == (2, 30)


def test_audit_ids_cannot_be_burnt(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT nextval('audit_log_id_seq')")


def _limits(conn: psycopg.Connection, login: str) -> tuple:
    return conn.execute("SELECT r.rolconnlimit, (SELECT s.setconfig FROM pg_db_role_setting s "
                        "WHERE s.setrole = r.oid AND s.setdatabase = 0) FROM pg_roles r WHERE r.rolname = %s",
                        (login,)).fetchone()


def test_a_reading_login_can_neither_crowd_others_out_nor_idle_in_a_transaction(pg_server, migrated, probes):
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for login in probes.values():  # as logins made before 0009 were
            conn.execute(f'ALTER ROLE "{login}" CONNECTION LIMIT -1')
            conn.execute(f'ALTER ROLE "{login}" RESET idle_in_transaction_session_timeout')
    name = migrated()
    with psycopg.connect(pg_server.url(SUPERUSER, name)) as conn:
        for role, login in probes.items():
            limit, settings = _limits(conn, login)
            if role == "admin":
                assert limit == -1
            else:
                assert limit == 16 and "idle_in_transaction_session_timeout=10min" in settings, role
        for role in ("manager", "sales", "mailer"):
            limit, settings = _limits(conn, f"t_{role}")  # made by users.add_login, as `user add` does
            assert limit == 16 and "idle_in_transaction_session_timeout=10min" in settings, role
    with psycopg.connect(pg_server.url(probes["sales"], name)) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f'ALTER ROLE "{probes["sales"]}" CONNECTION LIMIT -1')


def test_reading_logins_cannot_use_the_servers_own_databases(home):  # noqa: F811
    assert run(home, "init").returncode == 0
    assert run(home, "user", "add", "vanzator", "--role", "sales").returncode == 0
    server = EmbeddedServer(home)
    for database in ("postgres", "template1"):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(server.url("vanzator", database)).close()
    psycopg.connect(server.url("vanzator")).close()


def test_the_listener_believes_a_senders_pid_for_a_minute_only(fresh_db):
    """A pid is reused by the operating system: once its administrator is gone, a minute later the pid is
    asked about again instead of lending that administrator's trust to whoever gets it next."""
    from db import notify
    now = [0.0]
    with fresh_db.connect(autocommit=True) as listener:
        senders = notify._Senders(listener, clock=lambda: now[0])
        admin = fresh_db.connect("admin")
        pid = admin.info.backend_pid
        assert senders.sort([psycopg.Notify("client_changed", "7", pid)]) == (["7"], False)
        admin.close()
        deadline = time.monotonic() + 10
        while listener.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, "the closed session's backend did not end"
            time.sleep(0.05)
        now[0] += notify._Senders.BELIEVED_SECONDS + 1
        assert senders.sort([psycopg.Notify("client_changed", "7", pid)]) == ([], True)


def test_an_interactions_author_is_who_entered_it(fresh_db):
    with fresh_db.connect("admin", autocommit=True) as conn:
        client = conn.execute("INSERT INTO client (last_name) VALUES ('Ionescu') RETURNING id").fetchone()[0]
        for statement in ("INSERT INTO interaction (client_id, kind, author, text) VALUES (%s, 'call', 't_sales', "
                          "'promised a 90%% discount')",
                          "UPDATE interaction SET author = 't_manager' WHERE client_id = %s"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement, (client,))
        conn.execute("INSERT INTO interaction (client_id, kind, text) VALUES (%s, 'call', 'called')", (client,))
        assert conn.execute("SELECT author FROM interaction").fetchone() == ("t_admin",)
