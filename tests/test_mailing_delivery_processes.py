"""`clientbase send --workers N` runs N worker processes: a signal to the parent stops them all cleanly, and
a SIGKILL of one of them costs at most one duplicate, like a killed single worker."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.test_mailing_cli import _create_and_start, _popen, _prepare, _run, sink_server  # noqa: F401


def _wait_for(sink, count: int) -> None:
    deadline = time.monotonic() + 60
    while len(sink.received) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def _children(pid: int) -> list[int]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                 for child in (task / "children").read_text().split()]
        if found:
            return found
        time.sleep(0.05)
    return []


def test_sigterm_to_the_parent_stops_every_worker_process_and_releases_their_claims(fresh_db, tmp_path,
                                                                                   sink_server):  # noqa: F811
    _prepare(fresh_db, 60)
    _create_and_start(fresh_db, tmp_path)
    sink_server.delay = 0.05
    parent = _popen(fresh_db, "mailer", "send", "--workers", "2", "--batch", "20",
                    env_extra={"CLIENTBASE_SMTP_URL": sink_server.url})
    _wait_for(sink_server, 8)
    assert len(_children(parent.pid)) == 2
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=30) == 0
    assert "Traceback" not in parent.stderr.read()
    with fresh_db.connect() as conn:
        states = dict(conn.execute("SELECT status, count(*) FROM message GROUP BY status").fetchall())
        senders = conn.execute("SELECT count(DISTINCT split_part(leased_by, ':', 2)) FROM message"
                               " WHERE status = 'sent'").fetchone()[0]
    assert "sending" not in states
    assert states["sent"] == len(sink_server.received) and states["queued"] == 60 - states["sent"]
    assert senders == 2  # two processes, not two threads of one


def test_a_worker_process_killed_mid_batch_doubles_at_most_one(fresh_db, tmp_path, sink_server):  # noqa: F811
    addresses = _prepare(fresh_db, 40)
    _create_and_start(fresh_db, tmp_path)
    sink_server.delay = 0.05
    env = {"CLIENTBASE_SMTP_URL": sink_server.url}
    parent = _popen(fresh_db, "mailer", "send", "--once", "--workers", "2", "--batch", "10", "--lease", "8",
                    env_extra=env)
    _wait_for(sink_server, 6)
    victim = _children(parent.pid)[0]
    os.kill(victim, signal.SIGKILL)
    assert parent.wait(timeout=60) != 0  # the survivor finished; the parent says one worker died
    said = parent.stderr.read()
    assert "Traceback" not in said and "stopped unexpectedly" in said, said
    with fresh_db.connect() as conn:
        lease_ends = conn.execute("SELECT max(lease_until) - now() FROM message WHERE status = 'sending'").fetchone()[0]
    assert lease_ends is not None  # the dead process's claim, held until its lease ends
    sink_server.delay = 0
    time.sleep(max(lease_ends.total_seconds(), 0) + 0.5)
    after_lease = _run(fresh_db, "mailer", "send", "--once", "--workers", "2", env_extra=env)
    assert after_lease.returncode == 0, after_lease.stderr
    counts = sink_server.count_by_recipient()
    assert set(counts) == set(addresses)
    assert sum(counts.values()) - len(addresses) <= 1  # one killed worker process, at most one duplicate
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT status, count(*) FROM message GROUP BY status").fetchall() == [("sent", 40)]
