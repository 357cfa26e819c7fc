"""One row of an import file into what the database takes: a client (db.transfer.import_clients.Incoming) or a staged
purchase. Anything wrong raises ValueError with the column and the reason, for the reject file.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import phonenumbers

from db.card.values import CustomFieldDef, custom_to_json
from db.errors import ValidationError
from db.i18n import t
from db.transfer.import_clients import TEXT_FIELDS, Incoming
from db.normalize import normalize_contact, normalize_email, normalize_phone
from tui.transfer import values
from tui.transfer.columns import PHONE_FIELDS, Mapping


class RowReader:
    def __init__(self, mapping: Mapping, country: str, day_first: bool, strict_width: bool,
                 custom_fields: dict[str, CustomFieldDef] | None = None) -> None:
        self.mapping = mapping
        # Defined custom fields get the value the card editor would store (an ISO date, a number, yes/no),
        # so a filter and the card read imported values like typed ones; other custom columns stay text.
        self.custom_fields = custom_fields or {}
        self.country = country
        self.day_first = day_first
        self.strict_width = strict_width
        self.width = len(mapping.headers)
        self.used = [(index, name) for index, name in enumerate(mapping.fields) if name]
        self.by_field: dict[str, list[int]] = {}
        for index, name in self.used:
            self.by_field.setdefault(name, []).append(index)

    def check_width(self, cells: list[str]) -> None:
        if len(cells) > self.width and any(cell.strip() for cell in cells[self.width:]):
            raise ValueError(t("the row has {found} "
                               "columns where the header has {expected}", found=len(cells), expected=self.width))
        if self.strict_width and len(cells) < self.width:
            raise ValueError(t("the row has {found} "
                               "columns where the header has {expected}", found=len(cells), expected=self.width))

    def cells_by_field(self, cells: list[str]):
        for index, name in self.used:
            value = cells[index].strip() if index < len(cells) else ""
            if value:
                yield self.mapping.headers[index], name, value

    # --- clients -------------------------------------------------------------------------------------

    def client(self, number: int, cells: list[str]) -> Incoming:
        self.check_width(cells)
        row = Incoming(row=number)
        full_name = ("", "", "")
        for header, name, value in self.cells_by_field(cells):
            try:
                full_name = self._client_field(row, name, value) or full_name
            except ValidationError as exc:
                raise ValueError(f"{header}: {exc}") from None
            except ValueError as exc:
                raise ValueError(f"{header}: {exc}") from None
        for name, part in zip(("last_name", "first_name", "middle_name"), full_name, strict=False):
            if part and not row.text.get(name):
                row.text[name] = part
        if not (row.text.get("last_name") or row.text.get("first_name")):
            if not row.company:
                raise ValueError(t("the row has neither a name nor a company"))
            row.kind = "company"
        if row.gender is None and row.text.get("middle_name"):
            row.gender = values.gender_from_patronymic(row.text["middle_name"])
        return row

    def _client_field(self, row: Incoming, name: str, value: str):
        if name == "full_name":
            return values.split_full_name(value)
        if name in TEXT_FIELDS:
            value = value.replace("\r\n", "\n")  # Excel ends lines inside a cell the Windows way
            row.text[name] = f"{row.text[name]}\n{value}" if row.text.get(name) else value
        elif name == "external_key":
            row.external_key = value
        elif name == "gender":
            row.gender = values.parse_gender(value)
        elif name == "birth_date":
            row.birth_date = self._birth_date(value)
        elif name == "company":
            row.company = value
        elif name == "assigned_to":
            row.assigned_to = value
        elif name == "tags":
            row.tags += [tag for tag in values.split_list(value) if tag not in row.tags]
        elif name in ("consent_email", "consent_sms"):
            setattr(row, name, values.parse_bool(value))
        elif name.startswith("custom."):
            key = name.removeprefix("custom.")
            definition = self.custom_fields.get(key)
            if definition is None:
                row.custom[key] = value
            else:
                try:
                    row.custom[key] = custom_to_json(definition, value, self.day_first)
                except ValidationError as exc:
                    raise ValueError(f"{definition.label}: {exc}") from None
        else:
            for part in values.split_list(value):
                row.contacts.append(self._contact(name, part))
        return None

    def _birth_date(self, value: str) -> date:
        born = values.parse_date(value, self.day_first)
        if born > date.today():
            raise ValueError(t("A birth date cannot be in the future."))
        if born <= date(1900, 1, 1):
            raise ValueError(t("'{value}' is not a date (expected e.g. 31.12.1985 or 1985-12-31)", value=value))
        return born

    def _contact(self, name: str, value: str) -> tuple[str, str, str]:
        if name in PHONE_FIELDS:
            normalized = _parse_phone(value, self.country)
            if name == "phone":
                name = _phone_kind(normalized)
            return name, value, normalized
        if name == "email":
            return name, value, _parse_email(value)
        return name, value, normalize_contact(name, value, self.country)

    # --- purchases -----------------------------------------------------------------------------------

    def purchase(self, number: int, cells: list[str]) -> tuple:
        self.check_width(cells)
        key = self._cell(cells, "client_key")[1] or None
        phone = self._parsed(cells, "phone", lambda v: _phone(values.split_list(v)[0], self.country))
        email = self._parsed(cells, "email", lambda v: _email(values.split_list(v)[0]))
        if not (key or phone or email):
            raise ValueError(t("the row names no client (client number, phone or e-mail)"))
        moment = self._parsed(cells, "purchased_at", lambda v: _moment(v, self.day_first))
        amount = self._parsed(cells, "amount", lambda v: values.parse_amount(v, "amount", negative=True))
        if moment is None or amount is None:
            raise ValueError(t("the row lacks the date or the amount of the purchase"))
        cost = self._parsed(cells, "cost", lambda v: _amount(v, "cost"))
        if cost is not None and amount < 0:
            # A negative amount is a refund, and its cost is that of the goods coming back (migration 0014):
            # files write that cost as a positive number.
            cost = -cost
        quantity = self._parsed(cells, "quantity", lambda v: _amount(v, "quantity"))
        if quantity is not None and quantity <= 0:
            header, text = self._cell(cells, "quantity")
            raise ValueError(f"{header}: " + t("'{value}' "
                                               "is not a valid {what}", what=t("quantity"), value=text))
        last, first, middle = values.split_full_name(self._cell(cells, "full_name")[1])
        if key and not (last or first):
            last = t("Client {key}", key=key)
        return (number, key, phone, email, last, first, middle, moment, amount, cost,
                self._cell(cells, "product")[1], quantity, self._cell(cells, "channel")[1],
                self._cell(cells, "purchase_key")[1] or None, self._cell(cells, "note")[1])

    def _cell(self, cells: list[str], field: str) -> tuple[str, str]:
        """(header, text) of the first non-empty column holding `field`."""
        for index in self.by_field.get(field, ()):
            if index < len(cells):
                text = cells[index].strip()
                if text:
                    return self.mapping.headers[index], text
        return "", ""

    def _parsed(self, cells: list[str], field: str, parse):
        header, text = self._cell(cells, field)
        if not text:
            return None
        try:
            return parse(text)
        except (ValueError, ValidationError) as exc:
            raise ValueError(f"{header}: {exc}") from None


# Sales history repeats the same dates, amounts and clients endlessly, so a purchase file parses each value
# it repeats once. The caches are bounded so that an import's memory does not grow with the file: a few
# thousand hot dates and amounts, the phones and e-mails of some tens of thousands of clients (about 10 MB
# each when full). A client file's phones and e-mails are nearly all different: its rows parse them uncached.
@lru_cache(maxsize=8192)
def _moment(text: str, day_first: bool) -> str:
    return values.parse_datetime(text, day_first)


@lru_cache(maxsize=8192)
def _amount(text: str, what: str):
    return values.parse_amount(text, what)


def _parse_phone(value: str, country: str) -> str:
    try:
        return normalize_phone(value, country)
    except ValidationError:
        # Excel keeps a phone typed as a number without its "+": 37379000111 is +373 79 000 111.
        if value.isdigit() and len(value) >= 10:
            return normalize_phone("+" + value, country)
        raise


# The plain addresses nearly every row holds, which email-validator would accept unchanged; checking them
# with one regular expression halves the time of a large import. Anything else takes the full check.
_PLAIN_EMAIL = re.compile(r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
                          r"(?!(?:local|localhost|test|invalid|onion|arpa|internal)$)[a-z]{2,24}")


def _parse_email(value: str) -> str:
    lowered = value.strip().lower()
    if len(lowered) <= 254 and lowered.find("@") <= 64 and _PLAIN_EMAIL.fullmatch(lowered):
        return lowered
    return normalize_email(value)


_phone = lru_cache(maxsize=32_768)(_parse_phone)
_email = lru_cache(maxsize=32_768)(_parse_email)


def _phone_kind(e164: str) -> str:
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    if kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return "mobile"
    return "home"
