"""`clientbase unsubscribe serve`: the one-click endpoint (RFC 8058) and the body link's confirmation page.

A shop has no web application, so this small HTTP service sits behind the shop's reverse proxy (which does
TLS). A link is /<message id>.<HMAC>; the signature covers the message's channel and address, so nobody can
unsubscribe someone else. The suppression is written at once, as the login the service runs as (mailer).
"""

from __future__ import annotations

import hmac
import html
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import psycopg

from db.i18n import t
from db.mailing import queue
from tui.mailing.delivery import token_for

_TOKEN = re.compile(r"^/(\d{1,18})\.([0-9a-f]{32})$")


def _page(title: str, body: str) -> bytes:
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1>{body}</body></html>").encode()


class _Handler(BaseHTTPRequestHandler):
    server: "UnsubscribeServer"

    def _recipient(self) -> tuple[str, str] | None:
        match = _TOKEN.match(self.path.split("?", 1)[0])
        if not match:
            return None
        message_id = int(match[1])
        with psycopg.connect(self.server.conninfo, autocommit=True) as conn:
            found = queue.recipient_of(conn, message_id)
        if found is None:
            return None
        expected = token_for(self.server.secret, message_id, *found)
        return found if hmac.compare_digest(expected, self.path.split("?", 1)[0][1:]) else None

    def _reply(self, status: HTTPStatus, title: str, body: str = "") -> None:
        content = _page(title, body)
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(content)

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        if self._recipient() is None:
            self._reply(HTTPStatus.NOT_FOUND, t("This unsubscribe link is not valid."))
            return
        # A GET only asks: mail scanners follow links, and must not unsubscribe anyone by doing so.
        form = (f"<p>{html.escape(t('Do you want to stop receiving these messages?'))}</p><form method=\"post\">"
                f"<button name=\"confirm\" value=\"yes\">{html.escape(t('Yes, unsubscribe me'))}</button></form>")
        self._reply(HTTPStatus.OK, t("Unsubscribe"), form)

    def do_POST(self) -> None:  # noqa: N802
        length = min(int(self.headers.get("Content-Length") or 0), 4096)
        fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        one_click = fields.get("List-Unsubscribe") == ["One-Click"]
        confirmed = fields.get("confirm") == ["yes"]
        recipient = self._recipient()
        if recipient is None or not (one_click or confirmed):
            self._reply(HTTPStatus.NOT_FOUND if recipient is None else HTTPStatus.BAD_REQUEST,
                        t("This unsubscribe link is not valid."))
            return
        with psycopg.connect(self.server.conninfo, autocommit=True) as conn:
            queue.unsubscribe(conn, *recipient)
        self._reply(HTTPStatus.OK, t("You are unsubscribed. You will get no more of these messages."))

    def log_message(self, format: str, *args: object) -> None:
        pass  # the paths carry tokens; the reverse proxy keeps the access log


class UnsubscribeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], conninfo: str, secret: bytes) -> None:
        super().__init__(address, _Handler)
        self.conninfo = conninfo
        self.secret = secret

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="unsubscribe", daemon=True)
        thread.start()
        return thread
