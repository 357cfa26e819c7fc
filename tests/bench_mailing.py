"""Mailing on the bench base, on a copy of it (enqueueing and sending commit): enqueue every client, deliver a
fixed number of messages to a local SMTP sink (offering PIPELINING) with 4 workers, and the progress view's
refresh, each beside the bare form of the same work.

- Enqueue: `campaigns.start` for an audience of everyone, beside the same INSERT … SELECT sent bare.
- Delivery: `clientbase send --once --workers 4` in a process of its own, as cron runs it, to an aiosmtpd
  sink in another process (so neither takes the other's interpreter lock); the rate counts from the
  first message sent to the last (sent_at), and the whole process (start-up included) in the note. The bare
  figure is the sink's ceiling: 4 threads of smtplib sending one ready message, no database.
- Progress: `campaigns.progress` of the enqueued campaign, as `campaign status` and the screen refresh it,
  beside its statement `mailing_progress` sent bare.
"""

from __future__ import annotations

import os
import smtplib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace

import psycopg

from db import session
from db.mailing import campaigns, templates
from db.models import database
from tests.benchlib import BenchContext, BenchRow, database_url, fmt_ms, scratch_copy, timed_ms

SCRATCH = "bench_mailing_scratch"
WORKERS = 4
TEMPLATE = ("Здравствуйте, {{ first_name | default('друг') }}!\n"
            "Новая коллекция уже в магазине, {{ city | default('') }}.\n")


def _load() -> str:
    try:
        return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    except OSError:
        return ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PipeliningSink:
    """aiosmtpd's Sink (accepts and forgets) offering RFC 2920 PIPELINING, as the relays a shop sends through
    (Postfix, Exim, the providers' submission servers) do; aiosmtpd reads pipelined commands but does not
    say so itself."""

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]


class _SinkProcess:
    """PipeliningSink in a process of its own."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aiosmtpd", "-n", "-c", "tests.bench_mailing.PipeliningSink", "-l",
             f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.close()
                    raise RuntimeError("the aiosmtpd sink did not start") from None
                time.sleep(0.1)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _campaign(conn: psycopg.Connection, name: str) -> int:
    template = templates.save(conn, name=f"{name} template", channel="email", subject="Новости", body=TEMPLATE,
                              html_body="", cta_label="", cta_url="", required_fields=[])
    return campaigns.create(conn, name=name, channel="email", template_id=template.id, segment=None)


def _enqueue(conn: psycopg.Connection) -> tuple[float, float, int, int]:
    """Seconds of the app's enqueue and of the bare statement; rows; the app's campaign."""
    caught: list[tuple[str, object]] = []

    class Tracing(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            if isinstance(query, str) and query.lstrip().startswith("INSERT INTO message"):
                caught.append((query, params))
            return super().execute(query, params, **kwargs)

    app_campaign = _campaign(conn, "Bench: everyone")
    conn.cursor_factory = Tracing
    started = time.perf_counter()
    enqueued = campaigns.start(conn, app_campaign)
    app_seconds = time.perf_counter() - started
    conn.cursor_factory = psycopg.Cursor
    (statement, params), = caught
    bare_campaign = _campaign(conn, "Bench: everyone, bare")
    # The arm is written into the statement (db/mailing/splits.variant_sql): the bare run names its own.
    app_variant, variant = (conn.execute("SELECT id FROM campaign_variant WHERE campaign_id = %s", (campaign,))
                            .fetchone()[0] for campaign in (app_campaign, bare_campaign))
    bare_statement = statement.replace(f"SELECT %s, {app_variant}, ", f"SELECT %s, {variant}, ", 1)
    assert bare_statement != statement, "the enqueue no longer writes the arm where the bench expects it"
    started = time.perf_counter()
    with conn.transaction():
        bare_rows = conn.execute(bare_statement, [bare_campaign, *params[1:]]).rowcount
    bare_seconds = time.perf_counter() - started
    assert bare_rows == enqueued, (bare_rows, enqueued)
    conn.execute("UPDATE campaign SET status = 'cancelled' WHERE id = %s", (bare_campaign,))
    return app_seconds, bare_seconds, enqueued, app_campaign


def _leave_queued(conn: psycopg.Connection, campaign_id: int, count: int) -> int:
    """Cancels all but `count` of the campaign's queued messages, so that the delivery sends a fixed number."""
    conn.execute("UPDATE message SET status = 'cancelled' WHERE campaign_id = %s AND status = 'queued'"
                  " AND id > (SELECT max(id) FROM (SELECT id FROM message WHERE campaign_id = %s"
                  " AND status = 'queued' ORDER BY id LIMIT %s) first)", (campaign_id, campaign_id, count))
    return conn.execute("SELECT count(*) FROM message WHERE campaign_id = %s AND status = 'queued'",
                        (campaign_id,)).fetchone()[0]


def _deliver(owner_url: str, sink: _SinkProcess) -> float:
    env = dict(os.environ, CLIENTBASE_DATABASE_URL=owner_url, CLIENTBASE_SMTP_URL=f"smtp://127.0.0.1:{sink.port}")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "tui.cli", "send", "--once", "--workers", str(WORKERS)],
                            env=env, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"clientbase send failed: {result.stderr[-800:]}")
    return seconds


def _bare_smtp(sink: _SinkProcess, count: int) -> float:
    message = (b"From: news@shop.example\r\nTo: x@example.com\r\nSubject: =?utf-8?b?0J3QvtCy0L7RgdGC0Lg=?=\r\n"
               b"Message-ID: <bench@shop.example>\r\n\r\n" + "Здравствуйте!\r\n".encode() * 10)
    per_thread = count // WORKERS

    def send() -> None:
        with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
            for _ in range(per_thread):
                smtp.sendmail("news@shop.example", ["x@example.com"], message)

    threads = [threading.Thread(target=send) for _ in range(WORKERS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per_thread * WORKERS / (time.perf_counter() - started)


def _on_scratch(ctx: BenchContext, owner_url: str) -> list[BenchRow]:
    admin = replace(ctx.target, url=database_url(ctx.target.url, SCRATCH), embedded=None).conninfo()
    to_deliver = 200 if ctx.smoke else 20_000
    repeat = 3 if ctx.smoke else 20
    rows: list[BenchRow] = []
    with psycopg.connect(owner_url, autocommit=True) as conn:
        for key, value in (("mail_from", "Shop <news@shop.example>"), ("send_window", "00:00-24:00"),
                           ("send_days", "mon-sun")):
            conn.execute("INSERT INTO settings (key, value) VALUES (%s, %s)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
    load = _load()
    with psycopg.connect(admin, autocommit=True) as conn:
        app_seconds, bare_seconds, enqueued, campaign_id = _enqueue(conn)
    rows.append(BenchRow("enqueue every client (campaign start)", "< 60 s", f"{app_seconds:.1f} s",
                         f"{bare_seconds:.1f} s", samples=(app_seconds,), unit="s",
                         note=f"{enqueued:,} rows in one INSERT … SELECT, every client of the base (queued, or "
                              f"skipped with its reason); {load}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        queued = conn.execute("SELECT count(*) FROM message WHERE campaign_id = %s AND status = 'queued'",
                              (campaign_id,)).fetchone()[0]
        app_progress = timed_ms(lambda: campaigns.progress(conn, campaign_id), repeat=repeat)
        bare_progress = timed_ms(lambda: conn.execute("SELECT * FROM public.mailing_progress(%s::bigint)",
                                                      (campaign_id,), prepare=False).fetchall(), repeat=repeat)
    rows.append(BenchRow("campaign progress refresh", "< 100 ms",
                         f"{fmt_ms(app_progress)}, {fmt_ms(app_progress, 'p95')}", fmt_ms(bare_progress),
                         samples=tuple(app_progress),
                         note=f"campaigns.progress of a campaign of {enqueued:,} messages, as `campaign status` "
                              f"and the screen refresh it; {load}"))
    with psycopg.connect(owner_url, autocommit=True) as conn:
        left = _leave_queued(conn, campaign_id, to_deliver)
    sink = _SinkProcess()
    try:
        load = _load()
        process_seconds = _deliver(owner_url, sink)
        bare_rate = _bare_smtp(sink, min(to_deliver, 20_000))
    finally:
        sink.close()
    with psycopg.connect(owner_url, autocommit=True) as conn:
        sent, first, last = conn.execute(
            "SELECT count(*), min(sent_at), max(sent_at) FROM message WHERE campaign_id = %s AND status = 'sent'",
            (campaign_id,)).fetchone()
    span = max((last - first).total_seconds(), 1e-3) if sent else float("nan")
    rate = sent / span
    rows.append(BenchRow(f"deliver e-mail to a local SMTP sink, {WORKERS} workers", ">= 500 msg/s",
                         f"{rate:.0f} msg/s", f"{bare_rate:.0f} msg/s (SMTP alone)", samples=(rate,), unit="msg/s",
                         note=f"{sent:,} sent of {left:,} left queued ({queued:,} enqueued, the rest cancelled); "
                              f"`clientbase send --once --workers {WORKERS}` took {process_seconds:.1f} s with its "
                              f"start-up; the sink is aiosmtpd in another process, offering "
                              f"PIPELINING; {load}"))
    return rows


def measure(ctx: BenchContext) -> list[BenchRow]:
    with scratch_copy(ctx, SCRATCH) as owner_url:
        session.bind(replace(ctx.target, url=database_url(ctx.target.url, SCRATCH), embedded=None))
        try:
            return _on_scratch(ctx, owner_url)
        finally:
            database.close_all()  # the copy is dropped next, and nobody may be connected to it then
            session.bind(ctx.target)

