"""Issue 10: no login can run code as another role, whatever it creates with raw psql.

The attacks are played by throwaway logins on databases built by the real migrations (a copy of the test
template would not do: a database's own rights, such as TEMP, are not copied with it). Each attack is also
played against migration 0007, where it must succeed, so that the tests prove they can fail.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from db import migrate, notify, users
from db.embedded import SUPERUSER

PINNED = "search_path=pg_catalog, public, pg_temp"

# Runs as whoever ends up executing it; every attempt is on its own, so one refusal does not hide another.
EVIL = """
CREATE FUNCTION pg_temp.evil() RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE
    attempt text;
BEGIN
    FOREACH attempt IN ARRAY ARRAY[
            format('ALTER ROLE %I SUPERUSER', session_user),
            format('GRANT clientbase_admin, clientbase_manager TO %I', session_user),
            'INSERT INTO public.audit_log (login, table_name, action) VALUES (''forged'', ''client'', ''insert'')',
            'DELETE FROM public.audit_log'] LOOP
        BEGIN
            EXECUTE attempt;
        EXCEPTION WHEN OTHERS THEN
            NULL;  -- refused, as it should be
        END;
    END LOOP;
    RETURN true;
END $f$;
CREATE FUNCTION pg_temp.evil_trigger() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    PERFORM pg_temp.evil();
    RETURN NEW;
END $f$;
"""


@pytest.fixture
def migrated(pg_server):
    """Makes a database with `clientbase init`'s own steps, up to a migration."""
    made: list[str] = []

    def make(upto: int | None = None) -> str:
        name = f"t_sec_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        with psycopg.connect(pg_server.url(SUPERUSER, name), autocommit=True) as conn:
            migrate.migrate(conn, upto=upto)
            client_id = conn.execute("INSERT INTO client (last_name) VALUES ('Жертва') RETURNING id").fetchone()[0]
            conn.execute("INSERT INTO contact_point (client_id, kind, value, normalized) "
                         "VALUES (%s, 'email', 'a@b.example', 'a@b.example')", (client_id,))
            conn.execute("INSERT INTO suppression (channel, address, reason)"
                         " VALUES ('email', 'a@b.example', 'bounced')")
        made.append(name)
        return name

    yield make
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def probes(pg_server):
    """One throwaway login per role: an attack that works makes its login a superuser, which must not
    outlive the test (logins are cluster-wide)."""
    logins = {role: f"t_probe_{role}_{uuid.uuid4().hex[:6]}" for role in users.ROLES}
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for role, login in logins.items():
            users.add_login(conn, login, role)
    yield logins
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for login in logins.values():
            conn.execute(f'DROP ROLE IF EXISTS "{login}"')


def rights(conn: psycopg.Connection, login: str) -> tuple:
    return conn.execute(
        "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,"
        "       ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        "              WHERE m.member = r.oid ORDER BY 1)"
        "  FROM pg_roles r WHERE r.rolname = %s", (login,)).fetchone()


def shadow_every_table(conn: psycopg.Connection) -> None:
    """A temporary look-alike of every table of the schema, each running evil() when read or written; built
    from the catalog alone, so it needs no right on the tables themselves."""
    conn.execute(EVIL)
    tables = conn.execute(
        "SELECT c.relname, string_agg(format('CASE WHEN e.hit THEN NULL::%s END AS %I',"
        "                                    format_type(a.atttypid, a.atttypmod), a.attname),"
        "                             ', ' ORDER BY a.attnum),"
        "       string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)"
        "  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        " WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'"
        " GROUP BY c.relname").fetchall()
    for table, selected, declared in tables:
        if table == "audit_log":
            # The diversion: audit rows written here instead, and a trigger on them.
            conn.execute(f"CREATE TEMP TABLE audit_log ({declared})")
            conn.execute("CREATE TRIGGER evil BEFORE INSERT ON pg_temp.audit_log FOR EACH ROW "
                         "EXECUTE FUNCTION pg_temp.evil_trigger()")
        else:
            # OFFSET 0 keeps the planner from folding the constant row away before evil() runs.
            conn.execute(f'CREATE TEMP VIEW "{table}" AS SELECT {selected} '
                         f'FROM (SELECT pg_temp.evil() AS hit OFFSET 0) e')


def use_every_definer_function(conn: psycopg.Connection, role: str) -> None:
    """What the role may do that runs a SECURITY DEFINER function, every table named with its schema."""
    client_id = conn.execute("SELECT min(id) FROM public.client").fetchone()[0]
    if role != "mailer":
        conn.execute("SELECT * FROM public.card_suppressions(%s)", (client_id,)).fetchall()
    if role == "admin":
        conn.execute("INSERT INTO public.client (last_name) VALUES ('Новый')")
        conn.execute("UPDATE public.client SET notes = 'правка' WHERE id = %s", (client_id,))
        conn.execute("INSERT INTO public.purchase (client_id, purchased_at, amount) VALUES (%s, now(), 10)",
                     (client_id,))
        conn.execute("DELETE FROM public.purchase")


def attack(url: str, role: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        shadow_every_table(conn)
        use_every_definer_function(conn, role)
        assert conn.execute("SELECT count(*) FROM pg_temp.audit_log").fetchone()[0] == 0


def test_before_hardening_a_temporary_look_alike_made_logins_superusers(pg_server, migrated, probes):
    """The finding itself, at migration 0007: proof that the attack below is a real one."""
    name = migrated(upto=7)
    with psycopg.connect(pg_server.url(probes["sales"], name), autocommit=True) as conn:
        shadow_every_table(conn)
        conn.execute("SELECT * FROM public.card_suppressions(1)").fetchall()
    with psycopg.connect(pg_server.url(probes["admin"], name), autocommit=True) as conn:
        shadow_every_table(conn)
        conn.execute("UPDATE public.client SET notes = 'правка'")
    with psycopg.connect(pg_server.url(SUPERUSER, name)) as conn:
        assert rights(conn, probes["admin"])[0] is True
        assert rights(conn, probes["sales"])[0] is True


@pytest.mark.parametrize("role", ["admin", "manager", "sales", "mailer"])
def test_no_login_gains_a_right_through_temporary_look_alikes(pg_server, migrated, probes, role):
    name = migrated()
    login = probes[role]
    with psycopg.connect(pg_server.url(SUPERUSER, name)) as conn:
        before = rights(conn, login)
        logged_before = conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    if role == "admin":
        attack(pg_server.url(login, name), role)
    else:
        with psycopg.connect(pg_server.url(login, name), autocommit=True) as conn:
            # Readers may create no temporary object at all, so nothing of theirs can be picked up.
            for statement in (EVIL, "CREATE TEMP TABLE audit_log (id bigint)",
                              "CREATE TEMP VIEW contact_point AS SELECT 1 AS id"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            use_every_definer_function(conn, role)
    with psycopg.connect(pg_server.url(SUPERUSER, name)) as conn:
        assert rights(conn, login) == before == (False, False, False, False, [f"clientbase_{role}"])
        assert conn.execute("SELECT count(*) FROM audit_log WHERE login = 'forged'").fetchone()[0] == 0
        logged = conn.execute("SELECT table_name, action FROM audit_log WHERE id > 0 ORDER BY id "
                              "OFFSET %s", (logged_before,)).fetchall()
        owner_rights = rights(conn, migrate.OWNER_ROLE)
    if role == "admin":
        # Every change went to public.audit_log, under the real login.
        assert logged == [("client", "insert"), ("client", "update"), ("purchase", "insert"),
                          ("purchase", "delete")]
    else:
        assert logged == []
    assert owner_rights == (False, False, False, False, [])


def test_every_definer_function_pins_its_search_path_and_belongs_to_a_powerless_owner(fresh_db):
    with fresh_db.connect() as conn:
        definers = conn.execute(
            "SELECT p.oid::regprocedure::text, p.proconfig, r.rolname, r.rolcanlogin, r.rolsuper"
            "  FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner"
            " WHERE p.prosecdef AND p.pronamespace NOT IN ('pg_catalog'::regnamespace,"
            "                                               'information_schema'::regnamespace)").fetchall()
    assert len(definers) >= 4  # audit_row, audit_inserted_rows, card_suppressions, refresh_client_stats
    for function, config, owner, can_login, superuser in definers:
        assert PINNED in (config or []), function
        assert (owner, can_login, superuser) == (migrate.OWNER_ROLE, False, False), function


def test_init_reasserts_what_a_restore_or_a_copy_loses(pg_server, migrated, probes):
    """pg_restore --no-owner gives the functions to the restoring login; CREATE DATABASE … TEMPLATE gives
    TEMP back to PUBLIC. Running `clientbase init` again puts both right."""
    name = migrated()
    with psycopg.connect(pg_server.url(SUPERUSER, name), autocommit=True) as conn:
        conn.execute(f'GRANT TEMPORARY ON DATABASE "{name}" TO PUBLIC')
        conn.execute(f"ALTER FUNCTION card_suppressions(bigint) OWNER TO {SUPERUSER}")
        assert migrate.migrate(conn) == []
        owner = conn.execute("SELECT proowner::regrole::text FROM pg_proc "
                             "WHERE oid = 'card_suppressions(bigint)'::regprocedure").fetchone()[0]
        assert owner == migrate.OWNER_ROLE
    with psycopg.connect(pg_server.url(probes["sales"], name), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TEMP TABLE t (id int)")
    with psycopg.connect(pg_server.url(probes["admin"], name), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE t (id int)")  # the imports' staging
        # Dropped here, not left to the backend's exit, which may come after the fixture drops the login.
        conn.execute("DROP TABLE t")


def test_advisory_locks_are_the_administrators(pg_server, migrated, probes):
    """Any login could take the import's lock (blocking every import) or fake "being edited by"."""
    name = migrated()
    for role in ("manager", "sales", "mailer"):
        with psycopg.connect(pg_server.url(probes[role], name), autocommit=True) as conn:
            for statement in ("SELECT pg_advisory_xact_lock(7243, 4)", "SELECT pg_advisory_lock_shared(7243, 1)",
                              "SELECT pg_try_advisory_lock(1)", "SELECT pg_advisory_lock(1)"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    with psycopg.connect(pg_server.url(probes["admin"], name), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock_shared(7243, 1)")
        assert conn.execute("SELECT count(*) FROM card_editors(1)").fetchone()[0] == 1


def test_reading_logins_have_a_statement_timeout(pg_server, migrated, probes):
    name = migrated()
    for role, login in probes.items():
        with psycopg.connect(pg_server.url(login, name)) as conn:
            timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
        assert timeout == ("0" if role == "admin" else "30s"), role


def test_the_migration_gives_existing_reading_logins_a_statement_timeout(pg_server, migrated, probes):
    with psycopg.connect(pg_server.url(SUPERUSER, "postgres"), autocommit=True) as conn:
        for login in probes.values():
            conn.execute(f'ALTER ROLE "{login}" RESET statement_timeout')  # as logins made before 0008 were
    name = migrated()
    for role, login in probes.items():
        with psycopg.connect(pg_server.url(login, name)) as conn:
            timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
        assert timeout == ("0" if role == "admin" else "30s"), role


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_listener_hears_administrators_and_not_a_salespersons_notify(admin_session):
    got: list[notify.Changes] = []
    stop = threading.Event()
    thread = threading.Thread(target=notify.listen, args=(notify.CLIENT_CHANGED, got.append, stop.is_set),
                              kwargs={"poll": 0.1})
    thread.start()
    try:
        with admin_session.connect("admin", autocommit=True) as admin, \
                admin_session.connect("sales", autocommit=True) as sales:
            client_id = admin.execute("INSERT INTO client (last_name) VALUES ('Слушатель') RETURNING id").fetchone()[0]

            def edit_heard() -> bool:
                admin.execute("UPDATE client SET notes = notes || '.' WHERE id = %s", (client_id,))
                return _wait_for(lambda: any(client_id in changes.ids for changes in got), 0.3)

            assert _wait_for(edit_heard)  # also waits for the listener's LISTEN to be in place
            got.clear()
            sales.execute("NOTIFY client_changed, '777'")
            sales.execute("SELECT pg_notify('client_changed', '*')")
            assert edit_heard()  # sent after the salesperson's, so theirs have been read by now
            assert not any(777 in changes.ids or changes.everything for changes in got)
            # Senders gone before they are looked up cannot be told apart: at most one reload per interval.
            got.clear()
            for _ in range(10):
                with admin_session.connect("sales", autocommit=True) as quick:
                    quick.execute("NOTIFY client_changed, '778'")
            assert edit_heard()
            time.sleep(0.5)
            assert not any(778 in changes.ids for changes in got)
            assert sum(changes.everything for changes in got) <= 1
    finally:
        stop.set()
        thread.join(5)
