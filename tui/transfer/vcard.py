"""vCard 2.1, 3.0 and 4.0, as phones, Google and Outlook write them: folded lines, grouped properties
(`item1.TEL`), quoted-printable 2.1 values, several phones and e-mails per card. Reading turns a card
into the same cells a spreadsheet row has; writing produces vCard 3.0, which every address book reads.
"""

from __future__ import annotations

import codecs
import quopri
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from db.i18n import t

COLUMNS = ("last_name", "first_name", "middle_name", "full_name", "mobile", "home", "work", "phone", "email",
           "birth_date", "company", "position", "address", "city", "region", "notes", "tags", "website")
PHONE_TYPES = {"cell": "mobile", "mobile": "mobile", "iphone": "mobile", "home": "home", "work": "work"}


@dataclass
class Card:
    text: str
    values: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""  # a card that is not whole (no END:VCARD): rejected with this reason, never read half

    def add(self, column: str, value: str) -> None:
        if value.strip():
            self.values.setdefault(column, []).append(value.strip())

    def cells(self) -> list[str]:
        # N is the structured name; FN, a display form, is split into parts only for a card without N, or
        # its words would fill a part N left empty (the surname landing in the middle name).
        named = self.values.get("last_name") or self.values.get("first_name")
        return ["" if column == "full_name" and named else "; ".join(self.values.get(column, []))
                for column in COLUMNS]


def unfold(lines: Iterable[str]) -> Iterator[str]:
    """Logical lines from physical ones (without their line ends): folded lines joined, 2.1 soft breaks too."""
    pending: str | None = None
    for line in lines:
        if pending is not None and line[:1] in (" ", "\t"):
            pending += line[1:]
        elif pending is not None and pending.endswith("=") and "QUOTED-PRINTABLE" in pending.split(":", 1)[0].upper():
            pending = pending[:-1] + line  # a 2.1 soft line break
        else:
            if pending is not None:
                yield pending
            pending = line
    if pending is not None:
        yield pending


def _unescape(value: str) -> str:
    return re.sub(r"\\([nN,;:\\])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def _split(value: str, sep: str = ";") -> list[str]:
    """Structured values split on unescaped separators, then unescaped."""
    return [_unescape(part) for part in re.split(r"(?<!\\)" + re.escape(sep), value)]


def _property(line: str) -> tuple[str, dict[str, list[str]], str] | None:
    match = re.match(r'((?:[^:";]|"[^"]*")*?(?:;(?:[^:"]|"[^"]*")*)?):(.*)', line)
    if not match:
        return None
    head, value = match[1], match[2]
    parts = re.findall(r'(?:[^;"]|"[^"]*")+', head)
    if not parts:
        return None  # a line with no property name carries nothing to read
    name = parts[0].split(".")[-1].upper()
    params: dict[str, list[str]] = {}
    for part in parts[1:]:
        key, sep, raw = part.partition("=")
        if not sep:  # vCard 2.1 writes bare types: TEL;CELL;VOICE:
            key, raw = "TYPE", key
        params.setdefault(key.upper(), []).extend(v.strip('"').lower() for v in raw.split(","))
    if "quoted-printable" in params.get("ENCODING", []):
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = "utf-8"  # an unknown charset name: the bytes are most likely UTF-8 anyway
        value = quopri.decodestring(value.encode("ascii", errors="replace")).decode(charset, errors="replace")
    return name, params, value


def parse(source: str | Iterable[str]) -> Iterator[Card]:
    """The cards of a text or of a file opened with newline="", one at a time. A card that never ends (its
    END:VCARD missing, or another card beginning inside it) and text outside any card come out as cards
    with an `error`, so that the import rejects them with the reason instead of dropping them unseen."""
    if isinstance(source, str):
        lines: Iterable[str] = re.split(r"\r\n|\r|\n", source)
    else:
        lines = (line.rstrip("\r\n") for line in source)
    current: Card | None = None
    raw: list[str] = []
    stray: list[str] = []
    for line in unfold(lines):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            if stray:
                yield _broken(stray, t("text outside any card (between an END:VCARD and the next BEGIN:VCARD)"))
                stray = []
            if current is not None:
                yield _broken(raw, t("the card has no END:VCARD before the next BEGIN:VCARD (a card inside a card, or "
                                     "its end missing)"))
            current, raw = Card(""), [line]
            continue
        if current is None:
            # An END:VCARD alone is what a card begun inside another leaves behind; it carries no data.
            if line.strip() and upper != "END:VCARD":
                stray.append(line)
            continue
        raw.append(line)
        if upper == "END:VCARD":
            current.text = "\r\n".join(raw) + "\r\n"
            yield current
            current = None
            continue
        prop = _property(line)
        if prop is not None:
            _read(current, *prop)
    if current is not None:
        yield _broken(raw, t("the file ends inside this card, with no END:VCARD"))
    if stray:
        yield _broken(stray, t("text outside any card (between an END:VCARD and the next BEGIN:VCARD)"))


def _broken(lines: list[str], reason: str) -> Card:
    return Card("\r\n".join(lines) + "\r\n", error=reason)


def _read(card: Card, name: str, params: dict[str, list[str]], value: str) -> None:
    types = set(params.get("TYPE", []))
    if name == "N":
        parts = _split(value) + [""] * 3
        card.add("last_name", parts[0])
        card.add("first_name", parts[1])
        card.add("middle_name", parts[2])
    elif name == "FN":
        card.add("full_name", _unescape(value))
    elif name == "TEL":
        value = value.removeprefix("tel:")
        kind = next((PHONE_TYPES[t] for t in ("cell", "mobile", "iphone", "home", "work") if t in types), "phone")
        card.add(kind, _unescape(value))
    elif name == "EMAIL":
        card.add("email", _unescape(value))
    elif name == "BDAY":
        card.add("birth_date", _bday(value))
    elif name == "ORG":
        card.add("company", _split(value)[0])
    elif name == "TITLE":
        card.add("position", _unescape(value))
    elif name == "ADR":
        parts = _split(value) + [""] * 7
        street = ", ".join(p for p in (parts[2], parts[1], parts[0]) if p.strip())
        card.add("address", ", ".join(p for p in (street, parts[5]) if p.strip()))
        card.add("city", parts[3])
        card.add("region", parts[4])
    elif name == "NOTE":
        card.add("notes", _unescape(value))
    elif name == "CATEGORIES":
        for tag in _split(value, ","):
            card.add("tags", tag)
    elif name == "URL":
        card.add("website", _unescape(value))


def _bday(value: str) -> str:
    """19850201, 1985-02-01 and 1985-02-01T00:00:00Z as ISO dates; a birthday without year is left out."""
    value = value.strip()
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?", value)
    return f"{match[1]}-{match[2]}-{match[3]}" if match else ("" if value.startswith("--") else value)


def with_reason(text: str, reason: str) -> str:
    """The card as read, with the reason it was rejected as a note only clientbase looks at; a broken card
    gets the BEGIN:VCARD or END:VCARD it lacked, so that the reject file is whole cards again."""
    lines = text.rstrip("\r\n").split("\r\n")
    if lines[-1].strip().upper() == "END:VCARD":
        lines.pop()
    if lines[0].strip().upper() != "BEGIN:VCARD":
        lines.insert(0, "BEGIN:VCARD")
    body = "\r\n".join(lines)
    return f"{body}\r\n{fold('X-CLIENTBASE-REJECTED:' + escape(reason))}\r\nEND:VCARD\r\n"


# --- writing -----------------------------------------------------------------------------------------


def escape(value: str) -> str:
    """RFC 6350 §3.4: backslash, comma and semicolon escaped, and every line break (CR LF, a lone CR or a lone
    LF) written as \\n, so that no value can end its line and start a property of its own."""
    value = value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    return re.sub(r"\r\n|\r|\n", r"\\n", value)


def fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 6350 §3.2), never inside a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > 75:
            out.append(current)
            current, size = " ", 1
        current += ch
        size += width
    out.append(current)
    return "\r\n".join(out)


def card(last: str, first: str, middle: str, company: str, position: str, birth_date: str,
         phones: list[tuple[str, str]], emails: list[str], notes: str, uid: str) -> str:
    lines = ["BEGIN:VCARD", "VERSION:3.0",
             "N:" + ";".join(escape(part) for part in (last, first, middle, "", "")),
             "FN:" + escape(" ".join(p for p in (first, middle, last) if p) or company)]
    if company:
        lines.append("ORG:" + escape(company))
    if position:
        lines.append("TITLE:" + escape(position))
    if birth_date:
        lines.append("BDAY:" + birth_date)
    for kind, number in phones:
        vtype = {"mobile": "CELL", "home": "HOME", "work": "WORK"}.get(kind, "VOICE")
        lines.append(f"TEL;TYPE={vtype}:{escape(number)}")
    lines.extend("EMAIL;TYPE=INTERNET:" + escape(email) for email in emails)
    if notes:
        lines.append("NOTE:" + escape(notes))
    lines += ["UID:" + escape(uid), "END:VCARD"]
    return "".join(fold(line) + "\r\n" for line in lines)
