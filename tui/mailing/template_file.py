"""The plain-text template file the CLI reads: `Subject:`, optional `CTA: label | url` and `HTML: file`
lines, a blank line, then the body. An SMS template is the body alone."""

from __future__ import annotations

from pathlib import Path

from db.errors import UserError
from tui.mailing.render import TemplateText
from db.i18n import N_


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(N_("The template file {path} does not exist."), path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(N_("The template file {path} cannot be "
                           "read as UTF-8 text ({reason})."), path=str(path), reason=exc.__class__.__name__) from None


def parse(text: str, channel: str, base: Path = Path(".")) -> TemplateText:
    if channel == "sms":
        return TemplateText(channel="sms", body=text.strip("\n"))
    header, blank, body = text.replace("\r\n", "\n").partition("\n\n")
    if not blank:
        raise UserError(N_("An e-mail template file starts with a 'Subject: ...' line, then a blank line before the "
                           "body; this one has no blank line."))
    fields: dict[str, str] = {}
    for number, line in enumerate(header.split("\n"), start=1):
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or name not in ("subject", "cta", "html"):
            raise UserError(N_("Line {line} of the template file's header should be 'Subject: ...', 'CTA: label | "
                               "url' or 'HTML: file', not “{text}”."), line=number, text=line)
        if name in fields:
            raise UserError(N_("Line {line} "
                               "of the template file repeats the {name} line."), line=number, name=name.capitalize())
        fields[name] = value.strip()
    if not fields.get("subject"):
        raise UserError(N_("An e-mail template file needs a 'Subject: ...' line."))
    cta_label, cta_url = "", ""
    if "cta" in fields:
        cta_label, bar, cta_url = (part.strip() for part in fields["cta"].partition("|"))
        if not bar or not cta_label or not cta_url:
            raise UserError(N_("The "
                               "CTA line should read 'CTA: label | https://...', not “{text}”."), text=fields["cta"])
    html = _read(base / fields["html"]) if fields.get("html") else ""
    return TemplateText(channel="email", subject=fields["subject"], body=body.strip("\n") + "\n", html=html,
                        cta_label=cta_label, cta_url=cta_url)


def load(path: Path, channel: str) -> TemplateText:
    return parse(_read(path), channel, path.parent)
