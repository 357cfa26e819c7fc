"""SMS over a provider's HTTP API: the presets' success rules, a URL template, errors kept as replies."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from db.errors import UserError
from tui.mailing import sms_http
from tui.mailing.delivery import DeliveryError
from tui.mailing.sms_http import HttpGateway


@pytest.fixture
def provider():
    """A stand-in provider that answers each request with the next planned (HTTP status, body)."""
    seen: list[tuple[str, dict, str | None]] = []
    planned: list[tuple[int, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            parts = urlsplit(self.path)
            seen.append((parts.path, parse_qs(parts.query), self.headers.get("Authorization")))
            status, body = planned.pop(0)
            self.send_response(status)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    server.seen, server.planned = seen, planned
    yield server
    server.shutdown()
    server.server_close()


def _preset_url(name: str, base: str) -> str:
    return sms_http.PRESETS[name].url.split("?", 1)[1].join([f"{base}/{name}?", ""])


def test_smsru_reads_the_per_number_status(provider):
    gateway = HttpGateway(_preset_url("smsru", provider.base).replace("{token}", "KEY"),
                          sms_http.PRESETS["smsru"].accepted)
    provider.planned += [(200, json.dumps({"status": "OK", "sms": {"79123456789": {"status": "OK", "sms_id": "1"}}})),
                         (200, json.dumps({"status": "OK", "sms": {"79123456789": {"status": "ERROR",
                                                                                    "status_code": 207}}}))]
    assert "sms_id" in gateway.send("+79123456789", "Привет, Анна & co")
    path, query, _ = provider.seen[0]
    assert query["to"] == ["79123456789"] and query["msg"] == ["Привет, Анна & co"] and query["api_id"] == ["KEY"]
    with pytest.raises(DeliveryError) as refused:
        gateway.send("+79123456789", "x")
    assert refused.value.code == sms_http.PERMANENT and "207" in refused.value.reply


def test_smsc_and_smsaero_success_rules():
    assert sms_http.PRESETS["smsc"].accepted({"id": 5, "cnt": 1}, "7912")
    assert not sms_http.PRESETS["smsc"].accepted({"error": "bad", "error_code": 7}, "7912")
    assert sms_http.PRESETS["smsaero"].accepted({"success": True, "data": {}}, "7912")
    assert not sms_http.PRESETS["smsaero"].accepted({"success": False, "message": "no money"}, "7912")


def test_credentials_in_the_url_go_as_basic_authentication(provider):
    gateway = HttpGateway(f"http://user%40shop:secret@{provider.base[7:]}/send?number={{digits}}&text={{text}}")
    provider.planned.append((200, "ok"))
    assert gateway.send("+79123456789", "x") == "ok"
    assert provider.seen[0][2] == "Basic dXNlckBzaG9wOnNlY3JldA=="


def test_a_server_error_is_retried_and_a_refusal_is_not(provider):
    gateway = HttpGateway(provider.base + "/send?to={phone}&text={text}")
    provider.planned += [(503, "busy"), (400, "bad number")]
    with pytest.raises(DeliveryError) as busy:
        gateway.send("+79123456789", "x")
    assert busy.value.temporary
    with pytest.raises(DeliveryError) as refused:
        gateway.send("+79123456789", "x")
    assert not refused.value.temporary


def test_configuration_from_the_environment(monkeypatch):
    monkeypatch.delenv("CLIENTBASE_SMS_TOKEN", raising=False)
    with pytest.raises(UserError):
        HttpGateway.from_environment("smsru")
    with pytest.raises(UserError):
        HttpGateway.from_environment("https://example.invalid/send?no=placeholders")
    monkeypatch.setenv("CLIENTBASE_SMS_TOKEN", "me@shop:k/ey")
    gateway = HttpGateway.from_environment("smsaero")
    assert gateway.url.startswith("https://me%40shop:k%2Fey@gate.smsaero.ru/")
