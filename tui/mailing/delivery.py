"""Delivery workers (`clientbase send`): claim a batch, render, send over SMTP or an SMS gateway, mark.

Headless: no Textual, so that cron can run it. Each worker (a process of its own when there are several) has
its own database connection (autocommit: every mark commits at once) and one SMTP connection for its run.
The queue's guarantees are db/mailing/queue.py's; this module adds the message format, rate limits and
stopping cleanly.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import functools
import gettext
import hashlib
import hmac
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import smtplib
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.headerregistry import HeaderRegistry
from email.policy import EmailPolicy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import unquote, urlsplit

import psycopg

from db.errors import UserError
from db.i18n import N_
from db.mailing import campaigns, queue, rules
from db.mailing.queue import Claimed
from db.mailing.rules import Rules
from tui.mailing.render import Client, MissingValue, Rendered, TemplateText, render


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class DeliveryError(Exception):
    """The server or gateway refused a message, with its reply code (4xx temporary, 5xx permanent)."""

    def __init__(self, code: int, reply: str) -> None:
        self.code = code
        self.reply = f"{code} {reply}".strip()
        super().__init__(self.reply)

    @property
    def temporary(self) -> bool:
        return not 500 <= self.code < 600


# --- SMTP ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpServer:
    secure: bool  # smtps:// (TLS from the first byte); smtp:// upgrades with STARTTLS
    host: str
    port: int
    user: str
    password: str = field(repr=False)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise UserError(N_("CLIENTBASE_SMTP_URL must start with smtp:// "
                               "or smtps:// and name a host, not “{url}”."), url=_without_password(url)) from None
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise UserError(N_("CLIENTBASE_SMTP_URL must start "
                               "with smtp:// or smtps:// and name a host, not “{url}”."), url=_without_password(url))
        secure = parts.scheme == "smtps"
        return cls(secure, parts.hostname, port or (465 if secure else 587), unquote(parts.username or ""),
                   unquote(parts.password or ""))


def _without_password(url: str) -> str:
    head, at, tail = url.rpartition("@")
    return f"{head.split(':')[0]}:***@{tail}" if at and ":" in head.split("//", 1)[-1] else url


class SmtpTransport:
    """One connection, opened at the first message and reused for the batch."""

    def __init__(self, server: SmtpServer, timeout: float = 30) -> None:
        self.server = server
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        try:
            if server.secure:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=self.timeout,
                                                      context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
                smtp.ehlo()
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                elif server.user:
                    smtp.close()
                    raise UserError(N_("The mail server {where} refused the login: {reason}."), where=server.where,
                                    reason="the server does not offer STARTTLS; the password is not sent in clear")
            if server.user:
                smtp.login(server.user, server.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise UserError(N_("The mail server {where} refused "
                               "the login: {reason}."), where=server.where, reason=_text(exc.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise UserError(N_("Cannot reach the mail server "
                               "{where}: {reason}."), where=server.where, reason=str(exc) or type(exc).__name__) \
                from None
        self._smtp = smtp
        return smtp

    def send(self, message: EmailMessage, sender: str, recipient: str,
             before_data: Callable[[], None] = lambda: None) -> str:
        """The server's reply to the data; raises DeliveryError on a refusal. `before_data` runs once the
        server has taken the envelope, right before the data it may accept."""
        smtp = self._smtp or self._connect()
        code, reply = smtp.mail(sender)
        if code != 250:
            smtp.rset()
            raise DeliveryError(code, _text(reply))
        code, reply = smtp.rcpt(recipient)
        if code not in (250, 251):
            smtp.rset()
            raise DeliveryError(code, _text(reply))
        data = message.as_bytes(policy=SMTP_FOLDING_ONCE)
        before_data()
        try:
            code, reply = smtp.data(data)
        except smtplib.SMTPDataError as exc:
            raise DeliveryError(exc.smtp_code, _text(exc.smtp_error)) from None
        return f"{code} {_text(reply)}"

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


# --- SMS -----------------------------------------------------------------------------------------------

class SmsGateway(Protocol):
    """A way to send one SMS; returns the gateway's reply, raises DeliveryError on a refusal."""

    def send(self, phone: str, text: str) -> str: ...


class FileGateway:
    """One line per message (phone, a tab, the text with line breaks escaped), for an external SMS service.
    The file is private (0600): it holds personal data."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def send(self, phone: str, text: str) -> str:
        line = phone + "\t" + text.replace("\\", "\\\\").replace("\n", "\\n") + "\n"
        with self._lock:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        return "written"


# --- the message ---------------------------------------------------------------------------------------

class _ParsingOnce(HeaderRegistry):
    """The standard header registry, except that it makes each header class once (the standard one makes a
    new class for every header it parses) and parses a value it has parsed before from memory: a campaign's
    messages repeat most of their headers (From, Reply-To, Date within a second, the MIME headers, often the
    Subject). Header objects are immutable, so one may sit in many messages."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}
        self._parsed: dict[tuple[str, str], object] = {}

    def __getitem__(self, name: str) -> type:
        made = self._classes.get(name.lower())
        if made is None:
            made = self._classes[name.lower()] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: str):  # type: ignore[override]
        if not isinstance(value, str):
            return super().__call__(name, value)
        parsed = self._parsed.get((name, value))
        if parsed is None:
            parsed = super().__call__(name, value)
            if len(self._parsed) > 4096:
                self._parsed.clear()
            self._parsed[(name, value)] = parsed
        return parsed


class _FoldingOnce(EmailPolicy):
    """EmailPolicy that folds a header it has folded before from memory (folding was a third of building
    a message)."""

    def fold_binary(self, name: str, value: str) -> bytes:
        key = (self.linesep, name, type(value), str(value))
        folded = _FOLDED.get(key)
        if folded is None:
            folded = super().fold_binary(name, value)
            if len(_FOLDED) > 4096:
                _FOLDED.clear()
            _FOLDED[key] = folded
        return folded


_FOLDED: dict[tuple[str, str, type, str], bytes] = {}
MESSAGE_POLICY = _FoldingOnce(header_factory=_ParsingOnce())
SMTP_FOLDING_ONCE = MESSAGE_POLICY.clone(linesep="\r\n")


def token_for(secret: bytes, message_id: int, channel: str, address: str) -> str:
    """Signed per message, so that a link cannot unsubscribe anyone else (tui/mailing/unsubscribe.py checks it)."""
    mac = hmac.new(secret, f"{message_id}:{channel}:{address}".encode(), hashlib.sha256)
    return f"{message_id}.{mac.hexdigest()[:32]}"


def unsubscribe_token(secret: bytes, message: Claimed) -> str:
    return token_for(secret, message.id, message.channel, message.address)


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or socket.getfqdn()


UNSUBSCRIBE_LINE = N_("To stop receiving these messages: {link}")
UNSUBSCRIBE = N_("Unsubscribe")


_LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"  # tui/locale, as tui/i18n.py reads it


@functools.cache
def catalog(language: str) -> gettext.NullTranslations:
    """A recipient's catalog, not the sender's (db.i18n's): one run writes to clients of several languages,
    and the unsubscribe service's threads each answer their own."""
    if language == "en":
        return gettext.NullTranslations()
    return gettext.translation("clientbase", _LOCALE_DIR, languages=[language], fallback=True)


def build_email(message: Claimed, rendered: Rendered, settings: Rules, now: datetime,
                secret: bytes | None = None, message_id: str | None = None) -> EmailMessage:
    if not settings.mail_from:
        raise UserError(N_("Set the sender first: clientbase settings set mail_from 'Shop <news@shop.example>'."))
    email = EmailMessage(policy=MESSAGE_POLICY)
    full_name = " ".join(part for part in (message.first_name, message.last_name) if part)
    email["From"] = settings.mail_from
    email["To"] = formataddr((full_name, message.address)) if full_name else message.address
    email["Subject"] = rendered.subject
    email["Date"] = format_datetime(now)
    # Stable per message: a retry or the one possible duplicate carries the same id, so clients thread them.
    stable = f"<clientbase.{message.campaign_id}.{message.id}@{_domain(settings.mail_from)}>"
    email["Message-ID"] = message_id or stable
    if settings.reply_to:
        email["Reply-To"] = settings.reply_to
    text = rendered.text.rstrip("\n")
    if message.cta_url and message.cta_url not in text:
        text += f"\n\n{message.cta_label}: {message.cta_url}"
    html = rendered.html
    if message.purpose == "marketing":
        mailto = f"mailto:{parseaddr(settings.unsubscribe_mailto)[1]}?subject=unsubscribe"
        link = mailto
        header = f"<{mailto}>"
        if settings.unsubscribe_url and secret:
            link = f"{settings.unsubscribe_url}/{unsubscribe_token(secret, message)}"
            header = f"<{link}>, {header}"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email["List-Unsubscribe"] = header
        said = catalog(queue.recipient_language(message.custom, settings.language)).gettext
        text += "\n\n-- \n" + said(UNSUBSCRIBE_LINE).format(link=link)
        if html is not None:
            html += f'\n<p><a href="{link}">{said(UNSUBSCRIBE)}</a></p>\n'
    email.set_content(text + "\n")
    if html is not None:
        email.add_alternative(html, subtype="html")
    return email


def rendered_for(message: Claimed, unsubscribe_url: str = "") -> Rendered:
    template = TemplateText(channel=message.channel, body=message.body, subject=message.subject,
                            html=message.html_body, cta_label=message.cta_label, cta_url=message.cta_url)
    client = Client(first_name=message.first_name or None, middle_name=message.middle_name or None,
                    last_name=message.last_name or None, gender=message.gender, birthday=message.birth_date,
                    city=message.city or None, favourite_product=message.favourite_product,
                    total_spent=message.total_spent, custom=message.custom or {},
                    extra=message.extra or {})
    return render(template, client, unsubscribe_url)


# --- rate ----------------------------------------------------------------------------------------------

class RateLimiter:
    """At most `per_second` and `per_hour` sends over true rolling windows, shared by a process's workers.
    A slot is taken right before the send, not when the batch is claimed."""

    def __init__(self, per_second: int | None = None, per_hour: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = [(window, limit) for window, limit in ((1.0, per_second), (3600.0, per_hour)) if limit]
        self.clock = clock
        self._sent: list[float] = []  # send times, oldest first, for the last hour
        self._lock = threading.Lock()

    def delay(self) -> float:
        """Seconds until the next send fits; 0 takes the slot."""
        with self._lock:
            now = self.clock()
            expired = bisect.bisect_right(self._sent, now - 3600.0)
            if expired:
                del self._sent[:expired]
            delay = 0.0
            for window, limit in self.limits:
                inside = len(self._sent) - bisect.bisect_right(self._sent, now - window)
                if inside >= limit:
                    # The send that must leave the window before one more fits.
                    delay = max(delay, self._sent[len(self._sent) - limit] + window - now)
            if delay <= 0:
                self._sent.append(now)
            return delay

    def wait(self, stop: threading.Event) -> bool:
        """Blocks until a send is allowed and counts it; False when asked to stop meanwhile."""
        while not stop.is_set():
            delay = self.delay()
            if delay <= 0:
                return True
            stop.wait(min(delay, 1.0))
        return False


# --- workers -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Options:
    workers: int = 1
    batch: int = 100
    lease: timedelta = timedelta(seconds=30)
    once: bool = False
    per_second: int | None = None
    per_hour: int | None = None
    poll_seconds: float = 2.0
    pause_above: float = 0.2  # a campaign pauses itself when a fifth of its attempts failed…
    pause_after: int = 20  # …after at least this many
    schedules: bool = True  # make the weekly campaigns' due runs, when the login may (not the mailer)
    tick_seconds: float = 30.0


@dataclass
class Totals:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    lost_leases: int = 0
    paused: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + count)

    def counts(self) -> dict:
        with self._lock:
            return {name: getattr(self, name) for name in _COUNTED} | {"paused": dict(self.paused)}

    def merge(self, counts: dict) -> None:
        with self._lock:
            for name in _COUNTED:
                setattr(self, name, getattr(self, name) + counts[name])
            self.paused.update(counts["paused"])


_COUNTED = ("sent", "failed", "skipped", "retried", "lost_leases")


def _shares(options: Options) -> list[tuple[int | None, int | None]]:
    """Each worker process's part of the rate limits: processes share no memory, so the limits are split
    (their sum is the limit) and there are no more processes than the smallest limit allows."""
    limits = [limit for limit in (options.per_second, options.per_hour) if limit]
    count = min([options.workers, *limits])

    def part(limit: int | None, number: int) -> int | None:
        return limit // count + (1 if number < limit % count else 0) if limit else None

    return [(part(options.per_second, number), part(options.per_hour, number)) for number in range(count)]


class _SentMarks:
    """Marks messages sent on a connection of its own, in a thread of its own, so that the commit of one
    message's mark overlaps the building and the envelope of the next. The next message's data goes out only
    once the previous mark is committed (`wait`), so at most one message is ever between its 250 and its
    committed mark: the one-duplicate window of db/mailing/queue.py stays one message wide."""

    def __init__(self, conninfo: str, totals: Totals) -> None:
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.totals = totals
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="marks")
        self._pending: concurrent.futures.Future | None = None

    def sent(self, message_id: int, token: uuid.UUID, reply: str, now: datetime) -> None:
        self.wait()
        self._pending = self._executor.submit(queue.mark_sent, self.conn, message_id, token, reply, now)

    def wait(self) -> None:
        """Until the last mark is committed; raises what it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            self.totals.add("sent" if pending.result() else "lost_leases")

    def close(self) -> None:
        try:
            self.wait()
        finally:
            self._executor.shutdown()
            self.conn.close()


class Delivery:
    """`--workers N` runs N worker processes (forked, each with its own database and SMTP connection), so that
    they do not take turns at one interpreter lock: rendering and MIME are CPU work. One worker runs in this
    process. A signal to the parent stops every child, and each child releases its own claim."""

    def __init__(self, conninfo: str, options: Options, *, smtp: SmtpServer | None = None,
                 sms: SmsGateway | None = None, clock: Callable[[], datetime] = utc_now,
                 secret: bytes | None = None) -> None:
        self.conninfo = conninfo
        self.options = options
        self.smtp = smtp
        self.sms = sms
        self.clock = clock
        self.secret = secret
        self.stop_event = threading.Event()
        self.limiter = RateLimiter(options.per_second, options.per_hour)
        self.totals = Totals()
        self._errors: list[BaseException] = []
        self._ticks = False

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> Totals:
        if self.options.schedules:
            # Before the workers start, so that `--once` delivers a weekly run that has just come due.
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                self._ticks = campaigns.may_tick(conn)
                if self._ticks:
                    campaigns.tick(conn, self.clock())
        if self.options.workers > 1:
            return self._run_processes()
        self._run_here(0)
        return self.totals

    def _run_here(self, number: int) -> None:
        thread = threading.Thread(target=self._worker_guarded, args=(number,), name=f"send-{number}", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.2)  # short joins keep the main thread able to take SIGINT/SIGTERM
        if self._errors:
            raise self._errors[0]

    def _run_processes(self) -> Totals:
        # fork, not spawn: the child inherits the clock, the gateways and the secret as they are (a test's
        # clock is a lambda), and starts at once. Nothing of the parent's is used in a child but this object.
        context = multiprocessing.get_context("fork")
        shares = _shares(self.options)
        children = []
        for number, (per_second, per_hour) in enumerate(shares):
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(target=self._child, args=(number, per_second, per_hour, sending),
                                      name=f"send-{number}", daemon=True)
            process.start()
            sending.close()
            children.append((number, process, receiving))
        reports: dict[int, tuple] = {}
        stopping = False
        while len(reports) < len(children):
            if self.stop_event.is_set() and not stopping:
                stopping = True
                for _, process, _ in children:
                    if process.is_alive():
                        process.terminate()  # SIGTERM: the child finishes its message and releases its claim
            waiting = [receiving for number, _, receiving in children if number not in reports]
            for receiving in multiprocessing.connection.wait(waiting, timeout=0.2):
                number = next(number for number, _, pipe in children if pipe is receiving)
                try:
                    reports[number] = receiving.recv()
                except EOFError:  # died without a word (SIGKILL, the OOM killer): its lease runs out
                    process = children[number][1]
                    process.join()
                    reports[number] = ("died", process.exitcode)
        for _, process, receiving in children:
            process.join()
            receiving.close()
        died = []
        for number in sorted(reports):
            kind, value = reports[number]
            if kind == "totals":
                self.totals.merge(value)
            elif kind == "error":
                self._errors.append(value)
            else:
                died.append((number, value))
        if self._errors:
            raise self._errors[0]
        if died:
            number, exitcode = died[0]
            reason = f"signal {-exitcode}" if exitcode and exitcode < 0 else f"exit status {exitcode}"
            raise UserError(N_("Worker process {number} stopped unexpectedly ({reason}); what it had claimed is "
                               "sent again when its lease ends."), number=number, reason=reason)
        return self.totals

    def _child(self, number: int, per_second: int | None, per_hour: int | None, report) -> None:
        """A worker process: stops on SIGTERM or SIGINT (Ctrl+C reaches the whole process group) like the
        parent, and reports its totals or its error through the pipe."""
        signal.signal(signal.SIGTERM, lambda signum, frame: self.stop_event.set())
        signal.signal(signal.SIGINT, lambda signum, frame: self.stop_event.set())
        self.limiter = RateLimiter(per_second, per_hour)
        self.totals = Totals()
        try:
            self._run_here(number)
            report.send(("totals", self.totals.counts()))
        except BaseException as exc:  # noqa: B036 - the parent raises it
            try:
                pickle.loads(pickle.dumps(exc))
            except Exception:
                exc = RuntimeError(str(exc))
            report.send(("error", exc))
        finally:
            report.close()
            # Leaves without the parent's exit handlers and finalizers: a connection the parent had open at the
            # fork must not be closed from here.
            os._exit(0)

    def _worker_guarded(self, number: int) -> None:
        try:
            self._worker(number)
        except BaseException as exc:  # noqa: B036 - handed to the main thread, which raises it
            self._errors.append(exc)
            self.stop_event.set()

    def _worker(self, number: int) -> None:
        name = f"{socket.gethostname()}:{os.getpid()}:{number}"
        ticked = time.monotonic()
        # One SMTP connection for the worker's whole run, not one per batch: the handshake cost as much as
        # sending several messages. It is closed while the worker waits for more.
        transport = SmtpTransport(self.smtp) if self.smtp else None
        marks = _SentMarks(self.conninfo, self.totals)
        try:
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                while not self.stop_event.is_set():
                    now = self.clock()
                    if self._ticks and number == 0 and time.monotonic() - ticked >= self.options.tick_seconds:
                        campaigns.tick(conn, now)
                        ticked = time.monotonic()
                    settings = rules.read(conn)
                    token = uuid.uuid4()
                    claim = queue.claim(
                        conn, worker=name, token=token, limit=self.options.batch, lease=self.options.lease,
                        now=now, in_window=settings.in_window(now), cap_messages=settings.cap_messages,
                        cap_days=settings.cap_days)
                    self.totals.add("skipped", claim.picked - len(claim.messages))
                    if not claim.picked:
                        if self.options.once:
                            return
                        if transport is not None:
                            transport.close()
                        self.stop_event.wait(self.options.poll_seconds)
                        continue
                    try:
                        self._send_batch(conn, claim.messages, token, settings, transport, marks)
                    finally:
                        try:
                            marks.wait()  # a message whose mark is still on its way must not be released
                        finally:
                            queue.release(conn, token)
                    queue.settle(conn, claim.campaign_ids)
        finally:
            try:
                marks.close()
            finally:
                if transport is not None:
                    transport.close()

    def _send_batch(self, conn: psycopg.Connection, batch: list[Claimed], token: uuid.UUID, settings: Rules,
                    transport: SmtpTransport | None, marks: _SentMarks) -> None:
        renewed = time.monotonic()
        for message in batch:
            if self.stop_event.is_set():
                return
            if time.monotonic() - renewed > self.options.lease.total_seconds() / 3:
                queue.renew(conn, token, self.options.lease, self.clock())
                renewed = time.monotonic()
            self._send_one(conn, message, token, settings, transport, marks)

    def _send_one(self, conn: psycopg.Connection, message: Claimed, token: uuid.UUID, settings: Rules,
                  transport: SmtpTransport | None, marks: _SentMarks) -> None:
        unsubscribe_link = (f"{settings.unsubscribe_url}/{unsubscribe_token(self.secret, message)}"
                            if settings.unsubscribe_url and self.secret else "")
        try:
            rendered = rendered_for(message, unsubscribe_link)
        except MissingValue as missing:
            queue.mark_skipped(conn, message.id, token, missing.reason)
            self.totals.add("skipped")
            return
        if not self.limiter.wait(self.stop_event):
            return
        try:
            reply = self._deliver(message, rendered, settings, transport, marks.wait)
        except DeliveryError as refused:
            if refused.temporary:
                status = queue.mark_temporary_failure(conn, message, token, refused.reply, self.clock())
                self.totals.add("retried" if status == "queued" else "failed")
            else:
                outcome = queue.mark_failed(conn, message, token, refused.reply,
                                            pause_above=self.options.pause_above, pause_after=self.options.pause_after)
                self.totals.add("failed")
                if outcome.paused:
                    with self.totals._lock:
                        self.totals.paused[message.campaign_id] = queue.paused_reason(conn, message.campaign_id)
            return
        marks.sent(message.id, token, reply, self.clock())

    def _deliver(self, message: Claimed, rendered: Rendered, settings: Rules,
                 transport: SmtpTransport | None, before_sending: Callable[[], None]) -> str:
        if message.channel == "sms":
            before_sending()
            if self.sms is None:
                raise UserError(N_("Set CLIENTBASE_SMS_URL (a preset such as smsru, or a URL template) or "
                                   "CLIENTBASE_SMS_FILE (a file SMS messages are written to) to send SMS."))
            return self.sms.send(message.address, rendered.text)
        if transport is None:
            raise UserError(N_("Set "
                               "CLIENTBASE_SMTP_URL (smtp://user:password@host:587 or smtps://...) to send e-mail."))
        email = build_email(message, rendered, settings, self.clock(), self.secret)
        try:
            return transport.send(email, parseaddr(settings.mail_from)[1], message.address, before_sending)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            # The connection broke mid-message: whether the server kept it is unknown, so it is retried
            # like a 4xx, on a new connection (the duplicate window of the module's docstring).
            transport.close()
            raise DeliveryError(421, f"connection lost: {exc}") from None


def secret_from_environment() -> bytes | None:
    """The unsubscribe links' key: CLIENTBASE_UNSUBSCRIBE_SECRET, or a file only the sender can read."""
    if os.environ.get("CLIENTBASE_UNSUBSCRIBE_SECRET"):
        return os.environ["CLIENTBASE_UNSUBSCRIBE_SECRET"].encode()
    path = os.environ.get("CLIENTBASE_UNSUBSCRIBE_SECRET_FILE")
    if path:
        return Path(path).read_bytes().strip() or None
    return None
