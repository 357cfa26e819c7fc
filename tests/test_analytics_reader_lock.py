"""A reading login idle in a transaction that touched the per-client analytics does not hold the administrator's
refresh: emptying the idle slot gives the TRUNCATE three seconds, then deletes the rows instead (0028)."""

from __future__ import annotations

import threading

from db.analytics.refresh import refresh
from tests.test_analytics import AS_OF, add_clients, admin, moscow, owner  # noqa: F401 (fixtures)


def test_a_salesperson_idle_in_a_transaction_does_not_hold_the_refresh(fresh_db, owner, admin):  # noqa: F811
    add_clients(owner, [[(moscow(2026, 1, 5), 100), (moscow(2026, 3, 5), 50)], [(moscow(2026, 2, 1), 70)]])
    refresh(admin, as_of=AS_OF)  # slot 0 published; the next refresh fills slot 1
    refresh(admin, as_of=AS_OF)  # slot 1 published; the next one empties slot 0 again
    with fresh_db.connect("sales") as reader:
        # Runtime pruning: the reader's lock covers both partitions, the idle one included.
        reader.execute("SELECT count(*) FROM analytics_client "
                       "WHERE slot = (SELECT slot FROM analytics_run WHERE published ORDER BY id DESC LIMIT 1)")
        held = reader.execute("SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() "
                              "AND relation = 'analytics_client_0'::regclass").fetchone()[0]
        assert held == 1, "the reader's transaction holds a lock on the idle slot"
        finished = threading.Event()
        outcome: list[object] = []

        def run() -> None:
            with fresh_db.connect("admin", autocommit=True) as conn:
                outcome.append(refresh(conn, as_of=AS_OF))
            finished.set()

        worker = threading.Thread(target=run)
        worker.start()
        assert finished.wait(60), "the refresh waited for the reader's lock"
        worker.join()
        reader.rollback()
    published = admin.execute("SELECT slot, clients, buyers FROM analytics_run WHERE published "
                              "ORDER BY id DESC LIMIT 1").fetchone()
    assert published == (0, 2, 2)
    assert admin.execute("SELECT count(*) FROM analytics_client WHERE slot = 0").fetchone()[0] == 2
