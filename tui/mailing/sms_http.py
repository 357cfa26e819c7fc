"""SMS through a provider's plain HTTP API: a URL template, and a rule that reads success from the reply.

Presets cover the services shops here use (SMS.ru, SMSC.ru, SMS Aero); any other HTTP API is a URL template
with {phone} (E.164), {digits} (the number without '+') and {text}, judged by its HTTP status. A provider
with another protocol implements delivery.SmsGateway; the queue does not change.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from db.errors import UserError
from tui.mailing.delivery import DeliveryError
from db.i18n import N_

# A refusal by the provider's API (bad number, banned text, no money) is permanent for that message: it keeps
# the reply and counts toward the campaign's error rate, which pauses a campaign whose account ran dry.
PERMANENT = 550
TEMPORARY = 451


def _smsru_accepted(reply: dict, digits: str) -> bool:
    return reply.get("status") == "OK" and (reply.get("sms", {}).get(digits, {}).get("status") == "OK")


def _smsc_accepted(reply: dict, digits: str) -> bool:
    return "error" not in reply and "id" in reply


def _smsaero_accepted(reply: dict, digits: str) -> bool:
    return reply.get("success") is True


@dataclass(frozen=True)
class Preset:
    url: str  # {credentials...} come from CLIENTBASE_SMS_TOKEN, split at the first ':' where two are needed
    accepted: Callable[[dict, str], bool]


PRESETS = {
    "smsru": Preset("https://sms.ru/sms/send?api_id={token}&to={digits}&msg={text}&json=1", _smsru_accepted),
    "smsc": Preset("https://smsc.ru/sys/send.php?login={login}&psw={password}&phones={digits}&mes={text}"
                   "&charset=utf-8&fmt=3", _smsc_accepted),
    "smsaero": Preset("https://{login}:{password}@gate.smsaero.ru/v2/sms/send?number={digits}&text={text}"
                      "&sign={sender}", _smsaero_accepted),
}


class HttpGateway:
    def __init__(self, url: str, accepted: Callable[[dict, str], bool] | None = None, timeout: float = 30) -> None:
        self.url = url
        self.accepted = accepted
        self.timeout = timeout

    @classmethod
    def from_environment(cls, setting: str) -> "HttpGateway":
        """CLIENTBASE_SMS_URL: a preset's name (its secret in CLIENTBASE_SMS_TOKEN) or a URL template."""
        preset = PRESETS.get(setting.strip().lower())
        if preset is None:
            names_phone = "{phone}" in setting or "{digits}" in setting
            if not setting.startswith(("https://", "http://")) or not names_phone or "{text}" not in setting:
                raise UserError(N_("CLIENTBASE_SMS_URL must name a preset ({presets}) or be an http(s) URL template "
                                   "with {{phone}} or {{digits}} and {{text}}."), presets=", ".join(PRESETS))
            return cls(setting)
        token = os.environ.get("CLIENTBASE_SMS_TOKEN", "")
        if not token:
            raise UserError(N_("Set CLIENTBASE_SMS_TOKEN to the SMS service's key (LOGIN:PASSWORD where it needs "
                               "both)."))
        login, _, password = token.partition(":")
        url = preset.url.replace("{token}", quote(token, safe="")).replace("{login}", quote(login, safe="")) \
            .replace("{password}", quote(password, safe="")) \
            .replace("{sender}", quote(os.environ.get("CLIENTBASE_SMS_SENDER", ""), safe=""))
        return cls(url, preset.accepted)

    def _request(self, url: str) -> urllib.request.Request:
        # Credentials in the URL's authority (SMS Aero) go as Basic authentication, which urllib does not do.
        parts = urlsplit(url)
        if parts.username is None:
            return urllib.request.Request(url)
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        request = urllib.request.Request(bare)
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        request.add_header("Authorization", "Basic " + base64.b64encode(pair).decode())
        return request

    def send(self, phone: str, text: str) -> str:
        digits = phone.lstrip("+")
        url = self.url.replace("{phone}", quote(phone, safe="")).replace("{digits}", digits) \
            .replace("{text}", quote(text, safe=""))
        try:
            with urllib.request.urlopen(self._request(url), timeout=self.timeout) as answer:
                body = answer.read(65536).decode("utf-8", "replace")
        except urllib.error.HTTPError as refused:
            code = TEMPORARY if refused.code >= 500 or refused.code == 429 else PERMANENT
            raise DeliveryError(code, f"HTTP {refused.code}") from None
        except (OSError, ValueError) as exc:
            raise DeliveryError(TEMPORARY, f"gateway unreachable: {exc}") from None
        if self.accepted is None:
            return body[:500]
        try:
            reply = json.loads(body)
        except ValueError:
            raise DeliveryError(TEMPORARY, f"unreadable reply: {body[:200]}") from None
        if not isinstance(reply, dict) or not self.accepted(reply, digits):
            raise DeliveryError(PERMANENT, body[:500])
        return body[:500]
