"""screens/base.py: every branch of the one path by which database workers come back to a screen.

A tiny app (the real ClientbaseApp, with its connection banner, showing one probe screen) at 80x24; each
key starts a real thread worker that runs the job the test hands to the probe.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import peewee
import pytest
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import WorkerState

from db import session
from db.card.tx import reading, writing
from db.connection import Target
from db.errors import ConnectionLost, UserError
from db.i18n import t
from db.models import database
from db.session import Identity
from screens.base import DatabaseScreen, database_work
from tui.app import ClientbaseApp
from tui.widgets.connection import ConnectionBanner

# Nothing listens on port 1: connecting is refused at once, as when the server is down.
GONE = Target(url="postgresql://t_admin@127.0.0.1:1/clientbase", login="t_admin")


class Probe(DatabaseScreen, Screen):
    BINDINGS = [Binding("a", "ask", "Ask", id="probe-ask")]

    @dataclass
    class Answered(Message):
        value: object

    def __init__(self) -> None:
        super().__init__()
        self.job = lambda: None
        self.answers: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="said")

    def action_ask(self) -> None:
        self.ask(self.job)

    @database_work(group="probe")
    def ask(self, job) -> Answered:
        return self.Answered(job())

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        self.answers.append(message.value)
        self.query_one("#said", Static).update(str(message.value))


class SaysItHere(Probe):
    def show_user_error(self, error: UserError) -> None:
        self.query_one("#said", Static).update(str(error))


class ProbeApp(ClientbaseApp):
    def __init__(self, db, probe: Probe) -> None:
        super().__init__(db.target("admin"), Identity("t_admin", "admin", "test", 0, ""), listen=False)
        self.probe = probe
        self.notified: list[str] = []

    def on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # the probe alone, not the app's modes
        self.push_screen(self.probe)

    def notify(self, message: str, **kwargs) -> None:
        self.notified.append(message)
        super().notify(message, **kwargs)


async def ask(pilot, probe: Probe, job) -> None:
    probe.job = job
    await pilot.press("a")
    # The probe's workers only: once the connection is lost, the app's reconnecting worker runs on.
    while any(worker.node is probe and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
              for worker in pilot.app.workers):
        await pilot.pause(0.01)
    await pilot.pause()


def said(probe: Probe) -> str:
    return str(probe.query_one("#said", Static).content)


def who_am_i() -> str:
    with database.connection_context():
        return database.execute_sql("SELECT session_user").fetchone()[0]


async def test_a_result_comes_back_as_its_message(admin_session):
    probe = Probe()
    app = ProbeApp(admin_session, probe)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, probe, lambda: session.read(who_am_i))
        assert probe.answers == ["t_admin"]
        assert said(probe) == "t_admin"


async def test_a_cancelled_worker_is_ignored(admin_session):
    probe = Probe()
    app = ProbeApp(admin_session, probe)
    started, gate, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        gate.wait(10)
        answer = f"first: {session.read(who_am_i)}"
        finished.set()
        return answer

    async with app.run_test(size=(80, 24)) as pilot:
        probe.job = slow
        await pilot.press("a")
        assert started.wait(10)
        # The same group again: the running worker is cancelled, and its result, when it comes, is nobody's.
        await ask(pilot, probe, lambda: "second")
        gate.set()
        assert finished.wait(10)
        for _ in range(5):
            await pilot.pause(0.05)
        assert probe.answers == ["second"]
        assert said(probe) == "second"


async def test_a_cancelled_read_is_ignored(admin_session):
    probe = Probe()
    app = ProbeApp(admin_session, probe)
    reads = session.Cancellable()
    reads.cancel()  # a newer search superseded this one before it ran
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, probe, lambda: reads.run(who_am_i))
        assert probe.answers == []
        assert app.notified == []
        assert app.connection_ok and app._banner is None


@pytest.mark.parametrize("path", ["session.read", "a connection of its own"])
async def test_a_lost_connection_goes_to_the_banner(admin_session, path):
    def read_directly() -> int:
        # Not through session.read nor db/card/tx, as an import job or a segment's save reads: the worker's
        # boundary still turns the driver's error into ConnectionLost.
        with database.connection_context():
            return database.execute_sql("SELECT 1").fetchone()[0]

    job = (lambda: session.read(who_am_i)) if path == "session.read" else read_directly
    probe = Probe()
    app = ProbeApp(admin_session, probe)
    async with app.run_test(size=(80, 24)) as pilot:
        session.bind(GONE)
        await ask(pilot, probe, job)
        assert probe.answers == []
        assert not app.connection_ok
        banner = app.screen.query_one("#connection-banner", ConnectionBanner)
        assert str(banner.content) == t("The connection to the database was lost; reconnecting…")
        assert app.notified == [], "said once, by the banner"


async def test_a_users_mistake_is_said_as_its_sentence(make_db):
    db = make_db()
    session.bind(db.target("sales"))

    def refused_write() -> None:
        with writing():
            database.execute_sql("UPDATE settings SET value = value")

    probe = Probe()
    app = ProbeApp(db, probe)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, probe, refused_write)
        assert app.notified == [t("Your login is read-only: only an administrator may change client data.")]
        assert probe.answers == []
        assert app.connection_ok


async def test_a_screen_says_a_users_mistake_where_it_shows_its_messages(make_db):
    db = make_db()
    session.bind(db.target("sales"))

    def refused_write() -> None:
        with writing():
            database.execute_sql("UPDATE settings SET value = value")

    probe = SaysItHere()
    app = ProbeApp(db, probe)
    async with app.run_test(size=(80, 24)) as pilot:
        await ask(pilot, probe, refused_write)
        assert said(probe) == t("Your login is read-only: only an administrator may change client data.")
        assert app.notified == []


async def test_a_bug_is_raised_not_turned_into_text(admin_session):
    def misspelled() -> None:
        with database.connection_context():
            database.execute_sql("SELEC 1")

    probe = Probe()
    app = ProbeApp(admin_session, probe)
    with pytest.raises(peewee.ProgrammingError):
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(pilot, probe, misspelled)
            await pilot.pause()
    assert app.notified == []
    assert probe.answers == []


async def test_a_worker_that_returns_no_message_is_a_bug(admin_session):
    class Untyped(Probe):
        @database_work(group="probe")
        def ask(self, job):
            return job()

    probe = Untyped()
    app = ProbeApp(admin_session, probe)
    with pytest.raises(TypeError, match="not a Message"):
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(pilot, probe, lambda: session.read(who_am_i))
            await pilot.pause()


# --- db/: ConnectionLost is the one way a lost connection leaves it ---------------------------------------

def test_a_read_that_cannot_reach_the_database_raises_connection_lost(admin_session):
    session.bind(GONE)
    with pytest.raises(ConnectionLost):
        session.read(who_am_i)
    with pytest.raises(ConnectionLost):
        with reading():
            database.execute_sql("SELECT 1")


def test_a_write_that_cannot_reach_the_database_raises_connection_lost_not_a_user_error(admin_session):
    session.bind(GONE)
    with pytest.raises(ConnectionLost) as raised:
        with writing():
            database.execute_sql("UPDATE settings SET value = value")
    assert not isinstance(raised.value, UserError)
    session.bind(admin_session.target("admin"))
    with writing():
        database.execute_sql("UPDATE settings SET value = value")  # the pool works again once it is back
