"""The mailing commands as cron and a shell user run them, against real PostgreSQL and SMTP on loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from tests.test_mailing_fixtures import Sink, add_client, free_port, set_setting

TEMPLATE = ("Subject: Новости для {{ first_name }}\nCTA: Купить | https://shop.example/x\n\n"
            "Здравствуйте, {{ first_name }}!\n")


def _run(db, role, *args, env_extra=None, timeout=120):
    env = db.env(role)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def _popen(db, role, *args, env_extra):
    env = db.env(role)
    env.update(env_extra)
    return subprocess.Popen([sys.executable, "-m", "tui.cli", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _one_sentence(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _prepare(db, count: int) -> list[str]:
    addresses = [f"client{n}@example.com" for n in range(count)]
    with db.connect() as setup:
        for n, address in enumerate(addresses):
            add_client(setup, f"Имя{n}", email=address)
        set_setting(setup, "mail_from", "Магазин <news@shop.example>")
        # Delivery runs at the real time of day here, so the window is opened for the test.
        set_setting(setup, "send_window", "00:00-24:00")
        set_setting(setup, "send_days", "mon-sun")
        setup.commit()
    return addresses


def _create_and_start(db, tmp_path, name="Осень") -> int:
    path = tmp_path / "offer.txt"
    path.write_text(TEMPLATE, encoding="utf-8")
    created = _run(db, "admin", "campaign", "create", "--name", name, "--channel", "email", "--segment", "all",
                   "--template", str(path))
    assert created.returncode == 0, created.stderr
    campaign = int(created.stdout.strip())
    started = _run(db, "admin", "campaign", "start", str(campaign))
    assert started.returncode == 0, started.stderr
    return campaign


@pytest.fixture
def sink_server():
    from aiosmtpd.controller import Controller

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    sink.url = f"smtp://127.0.0.1:{controller.port}"
    yield sink
    controller.stop()


def test_campaign_commands_from_create_to_cancel(fresh_db, tmp_path, cli_in_process):
    # Twelve commands in this process: the other tests here run every campaign command as a real process.
    def _run(db, role, *args):
        return cli_in_process(db, *args, role=role)

    _prepare(fresh_db, 2)
    with fresh_db.connect() as setup:
        add_client(setup, None, "Безымянный", email="nameless@example.com")
        setup.commit()
    path = tmp_path / "offer.txt"
    path.write_text(TEMPLATE, encoding="utf-8")
    created = _run(fresh_db, "admin", "campaign", "create", "--name", "Осень", "--channel", "email", "--segment",
                   "all", "--template", str(path))
    assert created.returncode == 0, created.stderr
    campaign = int(created.stdout.strip())
    assert _run(fresh_db, "admin", "campaign", "start", str(campaign)).returncode == 0
    status = _run(fresh_db, "sales", "campaign", "status", str(campaign), "--json")
    assert status.returncode == 0, status.stderr
    counts = json.loads(status.stdout)
    assert counts["status"] == "sending"
    assert counts["states"]["queued"] == 2 and counts["skipped"] == {"missing first_name": 1}
    listed = _run(fresh_db, "manager", "campaign", "list")
    assert "Осень" in listed.stdout and "sending" in listed.stdout
    assert _run(fresh_db, "admin", "campaign", "pause", str(campaign)).returncode == 0
    assert _run(fresh_db, "admin", "campaign", "resume", str(campaign)).returncode == 0
    assert _run(fresh_db, "admin", "campaign", "cancel", str(campaign)).returncode == 0
    human = _run(fresh_db, "admin", "campaign", "status", str(campaign))
    assert "cancelled" in human.stdout and "missing first_name" in human.stdout
    assert "cannot be resumed" in _one_sentence(_run(fresh_db, "admin", "campaign", "resume", str(campaign)))
    assert "no campaign 999" in _one_sentence(_run(fresh_db, "admin", "campaign", "start", "999"))
    assert "administrator" in _one_sentence(_run(fresh_db, "sales", "campaign", "pause", str(campaign)))


def test_a_bad_template_file_is_refused_with_its_line(fresh_db, tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("Subject: Hi\n\nHello {{ first_name }\n", encoding="utf-8")
    sentence = _one_sentence(_run(fresh_db, "admin", "campaign", "create", "--name", "X", "--channel", "email",
                                  "--segment", "all", "--template", str(path)))
    assert "body, line 1: syntax error" in sentence
    path.write_text("Subject: Hi\n\nHello\n{{ frist_name }}\n", encoding="utf-8")
    sentence = _one_sentence(_run(fresh_db, "admin", "campaign", "create", "--name", "X", "--channel", "email",
                                  "--segment", "all", "--template", str(path)))
    assert "line 2: unknown variable 'frist_name'" in sentence
    sentence = _one_sentence(_run(fresh_db, "admin", "campaign", "create", "--name", "X", "--channel", "email",
                                  "--segment", "Nope", "--template", str(tmp_path / "missing.txt")))
    assert "does not exist" in sentence


def test_send_needs_a_mail_server(fresh_db):
    assert "CLIENTBASE_SMTP_URL" in _one_sentence(_run(fresh_db, "mailer", "send", "--once"))
    assert "smtp://" in _one_sentence(_run(fresh_db, "mailer", "send", "--once",
                                           env_extra={"CLIENTBASE_SMTP_URL": "http://x"}))


def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_at_most_one(fresh_db, tmp_path, sink_server):
    addresses = _prepare(fresh_db, 40)
    campaign = _create_and_start(fresh_db, tmp_path)
    sink_server.delay = 0.05
    env = {"CLIENTBASE_SMTP_URL": sink_server.url}
    worker = _popen(fresh_db, "mailer", "send", "--batch", "10", "--lease", "8", env_extra=env)
    deadline = time.monotonic() + 60
    while len(sink_server.received) < 15 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)
    assert 15 <= len(sink_server.received) < 40
    with fresh_db.connect() as conn:
        leased, lease_ends = conn.execute("SELECT count(*), max(lease_until) - now() FROM message"
                                          " WHERE status = 'sending'").fetchone()
    assert leased > 0  # the dead worker's claim, held until its lease ends
    sink_server.delay = 0
    right_away = _run(fresh_db, "mailer", "send", "--once", env_extra=env)
    assert right_away.returncode == 0, right_away.stderr
    with fresh_db.connect() as conn:
        still_leased = conn.execute("SELECT count(*) FROM message WHERE status = 'sending'").fetchone()[0]
    if still_leased:  # unless the machine was so loaded that the run started after the lease ended
        assert "still leased" in right_away.stdout
    time.sleep(max(lease_ends.total_seconds(), 0) + 0.5)
    after_lease = _run(fresh_db, "mailer", "send", "--once", env_extra=env)
    assert after_lease.returncode == 0, after_lease.stderr
    counts = sink_server.count_by_recipient()
    assert set(counts) == set(addresses)
    assert sum(counts.values()) - len(addresses) <= 1  # one killed worker, at most one duplicate
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT status, count(*) FROM message GROUP BY status").fetchall() == [("sent", 40)]
        assert conn.execute("SELECT status FROM campaign WHERE id = %s", (campaign,)).fetchone() == ("done",)


def test_workers_running_at_once_deliver_nothing_twice(fresh_db, tmp_path, sink_server):
    addresses = _prepare(fresh_db, 120)
    _create_and_start(fresh_db, tmp_path)
    env = {"CLIENTBASE_SMTP_URL": sink_server.url}
    runs = [_popen(fresh_db, "mailer", "send", "--once", "--workers", "2", "--batch", "5", env_extra=env)
            for _ in range(2)]
    for run in runs:
        assert run.wait(timeout=120) == 0, run.stderr.read()
    assert sink_server.count_by_recipient() == dict.fromkeys(addresses, 1)


def test_sigterm_stops_cleanly_and_releases_the_claim(fresh_db, tmp_path, sink_server):
    _prepare(fresh_db, 30)
    _create_and_start(fresh_db, tmp_path)
    sink_server.delay = 0.1
    worker = _popen(fresh_db, "mailer", "send", "--batch", "20", env_extra={"CLIENTBASE_SMTP_URL": sink_server.url})
    deadline = time.monotonic() + 60
    while len(sink_server.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=30) == 0
    assert "Traceback" not in worker.stderr.read()
    with fresh_db.connect() as conn:
        states = dict(conn.execute("SELECT status, count(*) FROM message GROUP BY status").fetchall())
    assert "sending" not in states
    assert states["sent"] == len(sink_server.received) and states["queued"] == 30 - states["sent"]


def test_unsubscribe_suppresses_at_once(fresh_db):
    result = _run(fresh_db, "mailer", "unsubscribe", "Client@Example.com")
    assert result.returncode == 0, result.stderr
    assert "client@example.com" in result.stdout
    again = _run(fresh_db, "admin", "unsubscribe", "client@example.com")
    assert "already" in again.stdout
    phone = _run(fresh_db, "admin", "unsubscribe", "8 912 345-67-89")
    assert "+79123456789" in phone.stdout
    assert "neither" in _one_sentence(_run(fresh_db, "admin", "unsubscribe", "hello"))
    assert "may not" in _one_sentence(_run(fresh_db, "sales", "unsubscribe", "x@example.com"))
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT channel, address, reason FROM suppression ORDER BY id").fetchall() == [
            ("email", "client@example.com", "unsubscribed"), ("sms", "+79123456789", "unsubscribed")]


def test_sending_without_a_sender_is_one_sentence_and_loses_nothing(fresh_db, tmp_path, sink_server):
    _prepare(fresh_db, 3)
    with fresh_db.connect() as setup:
        setup.execute("DELETE FROM settings WHERE key = 'mail_from'")
        setup.commit()
    _create_and_start(fresh_db, tmp_path)
    sentence = _one_sentence(_run(fresh_db, "mailer", "send", "--once",
                                  env_extra={"CLIENTBASE_SMTP_URL": sink_server.url}))
    assert "mail_from" in sentence
    assert sink_server.received == []
    with fresh_db.connect() as conn:
        assert conn.execute("SELECT status, count(*) FROM message GROUP BY status").fetchall() == [("queued", 3)]


def test_a_weekly_campaign_from_the_shell_and_its_tick_for_cron(fresh_db, tmp_path):
    _prepare(fresh_db, 2)
    path = tmp_path / "weekly.txt"
    path.write_text(TEMPLATE, encoding="utf-8")
    created = _run(fresh_db, "admin", "campaign", "create", "--name", "Неделя", "--channel", "email", "--segment",
                   "all", "--template", str(path), "--weekly", "mon 10:00")
    assert created.returncode == 0, created.stderr
    parent = int(created.stdout.strip())
    started = _run(fresh_db, "admin", "campaign", "start", str(parent))
    assert started.returncode == 0 and "scheduled" in started.stdout, started.stdout + started.stderr
    assert _run(fresh_db, "admin", "campaign", "tick").stdout == ""  # not Monday 10:00 yet, whenever this runs
    with fresh_db.connect() as conn:  # a week passes
        conn.execute("UPDATE campaign SET next_run_at = now() - interval '1 hour' WHERE id = %s", (parent,))
        conn.commit()
    ticked = _run(fresh_db, "admin", "campaign", "tick")
    assert ticked.returncode == 0, ticked.stderr
    assert f"Campaign {parent}: this week's run is campaign" in ticked.stdout and "2 recipients" in ticked.stdout
    assert _run(fresh_db, "admin", "campaign", "tick").stdout == ""  # cron again: no second run
    status = _run(fresh_db, "sales", "campaign", "status", str(parent))
    assert "every week, MON 10:00 (Europe/Moscow); next run" in status.stdout, status.stdout + status.stderr
    assert "Неделя · " in status.stdout
    shown = json.loads(_run(fresh_db, "sales", "campaign", "status", str(parent), "--json").stdout)
    assert shown["weekly"] == "MON 10:00" and shown["status"] == "scheduled" and shown["next_run_at"]
    assert "weekly time" in _one_sentence(_run(fresh_db, "admin", "campaign", "create", "--name", "X", "--channel",
                                               "email", "--segment", "all", "--template", str(path),
                                               "--weekly", "monday"))
    assert "not both" in _one_sentence(_run(fresh_db, "admin", "campaign", "create", "--name", "X", "--channel",
                                            "email", "--segment", "all", "--template", str(path),
                                            "--weekly", "MON 10:00", "--at", "2027-01-01 10:00"))
