"""The plain-text template file the CLI reads: `Subject:`, optional `CTA: label | url` and `HTML: file`
lines, a blank line, then the body. An SMS template is the body alone."""

from __future__ import annotations

from pathlib import Path

from db.errors import UserError
from tui.mailing.render import TemplateText


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError("mailing.file_missing", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError("mailing.file_unreadable", path=str(path), reason=exc.__class__.__name__) from None


def parse(text: str, channel: str, base: Path = Path(".")) -> TemplateText:
    if channel == "sms":
        return TemplateText(channel="sms", body=text.strip("\n"))
    header, blank, body = text.replace("\r\n", "\n").partition("\n\n")
    if not blank:
        raise UserError("mailing.file_no_blank_line")
    fields: dict[str, str] = {}
    for number, line in enumerate(header.split("\n"), start=1):
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or name not in ("subject", "cta", "html"):
            raise UserError("mailing.file_bad_header", line=number, text=line)
        if name in fields:
            raise UserError("mailing.file_repeated_header", line=number, name=name.capitalize())
        fields[name] = value.strip()
    if not fields.get("subject"):
        raise UserError("mailing.file_no_subject")
    cta_label, cta_url = "", ""
    if "cta" in fields:
        cta_label, bar, cta_url = (part.strip() for part in fields["cta"].partition("|"))
        if not bar or not cta_label or not cta_url:
            raise UserError("mailing.file_bad_cta", text=fields["cta"])
    html = _read(base / fields["html"]) if fields.get("html") else ""
    return TemplateText(channel="email", subject=fields["subject"], body=body.strip("\n") + "\n", html=html,
                        cta_label=cta_label, cta_url=cta_url)


def load(path: Path, channel: str) -> TemplateText:
    return parse(_read(path), channel, path.parent)
