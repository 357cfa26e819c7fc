"""`clientbase export FILE`: clients (or their purchases) to CSV, XLSX, vCard, or a plain list of addresses
for an external mailing service. Rows stream from db.transfer.export and go straight to the file.

The column headers are the ones the importer recognises, so an exported file imports back as it was.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from db.transfer import export as exporting
from db.clients.listing import Criteria
from db.errors import UserError
from db.normalize import CONTACT_KINDS
from tui.transfer import vcard
from tui.transfer.cells import neutralise, xlsx_row
from tui.transfer.private_files import open_private
from tui.transfer.progress import Report
from db.i18n import N_

CONTACT_HEADERS = {"mobile": "Mobile", "home": "Home phone", "work": "Work phone", "whatsapp": "WhatsApp",
                   "email": "E-mail", "telegram": "Telegram", "skype": "Skype", "vk": "VK", "website": "Website"}
CLIENT_HEADERS = ["Client number", "Last name", "First name", "Middle name", "Gender", "Birth date", "Company",
                  "Position", "Region", "City", "Address", "Postal address", *CONTACT_HEADERS.values(), "Tags",
                  "Notes", "Source", "Salesperson", "E-mail consent", "SMS consent", "Purchases", "Total spent",
                  "Last purchase"]
PURCHASE_HEADERS = ["Client number", "Name", "Date", "Amount", "Cost", "Product", "Quantity", "Channel",
                    "Receipt", "Note"]
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".vcf": "vcf", ".vcard": "vcf", ".txt": "txt"}


@dataclass(frozen=True)
class ExportOptions:
    format: str | None = None
    segment: str | None = None
    search: str | None = None
    encoding: str = "utf-8-sig"
    delimiter: str = ";"
    channel: str = "email"
    purchases: bool = False
    criteria: Criteria | None = None  # the clients list's current search and filters, from the app


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def client_cells(client: exporting.ClientOut, custom_keys: list[str]) -> list:
    by_kind: dict[str, list[str]] = {kind: [] for kind in CONTACT_KINDS}
    for kind, value in client.contacts:
        by_kind.setdefault(kind, []).append(value)
    return [client.key, client.last_name, client.first_name, client.middle_name, client.gender or "",
            client.birth_date.isoformat() if client.birth_date else "", client.company, client.position,
            client.region, client.city, client.address, client.postal_address,
            *("; ".join(by_kind[kind]) for kind in CONTACT_HEADERS), ", ".join(client.tags), client.notes,
            client.source, client.assigned_to or "", _yes(client.consent_email), _yes(client.consent_sms),
            client.purchase_count, client.total_spent,
            client.last_purchase_at.date().isoformat() if client.last_purchase_at else "",
            *(_custom_text(client.custom.get(key)) for key in custom_keys)]


def _custom_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _yes(value)
    return str(value)


def purchase_cells(purchase: exporting.PurchaseOut) -> list:
    return [purchase.client_key, purchase.client_name, purchase.purchased_at.isoformat(sep=" "), purchase.amount,
            purchase.cost if purchase.cost is not None else "", purchase.product,
            purchase.quantity if purchase.quantity is not None else "", purchase.channel, purchase.receipt or "",
            purchase.note]


def _which(options: ExportOptions) -> tuple:
    return options.segment, options.search, options.criteria


def run_export(path: Path, options: ExportOptions, progress: Report | None = None) -> int:
    """Writes the file and returns how many rows it holds."""
    try:
        return _export(path, options, progress or (lambda stage, done, total: None))
    except OSError as exc:
        raise UserError(N_("Cannot write {path}: {reason}."), path=path, reason=exc.strerror or exc) from None


def _export(path: Path, options: ExportOptions, report: Report) -> int:
    fmt = file_format(path, options.format)
    if options.purchases and fmt in ("vcf", "txt"):
        raise UserError(N_("Purchases export to CSV or XLSX only."))
    exporting.check_may_export(mailing_list=fmt == "txt")
    if not path.parent.is_dir():
        raise UserError(N_("The folder {folder} does not exist."), folder=path.parent)
    total = exporting.count(*_which(options))
    if fmt == "txt":
        rows: Iterable = (_recipient_line(r, options.channel) for r in
                          exporting.stream_recipients(options.channel, *_which(options)))
        return _write_lines(path, rows, total, report)
    if fmt == "vcf":
        return _write_lines(path, (_card(c) for c in exporting.stream_clients(*_which(options))),
                            total, report)
    if options.purchases:
        headers = PURCHASE_HEADERS
        rows = (purchase_cells(p) for p in exporting.stream_purchases(*_which(options)))
    else:
        keys = exporting.custom_keys(*_which(options))
        headers = CLIENT_HEADERS + [f"custom.{key}" for key in keys]
        rows = (client_cells(c, keys) for c in exporting.stream_clients(*_which(options)))
    if fmt == "xlsx":
        return _write_xlsx(path, headers, rows, total, report)
    return _write_csv(path, headers, rows, options, total, report)


def file_format(path: Path, requested: str | None) -> str:
    """The format to write: the one the name's extension promises, or --format, which must not contradict it;
    a CSV named .pdf or Excel inside a .vcf would only be opened by the wrong program."""
    extension = path.suffix.lower()
    implied = FORMATS.get(extension)
    if requested is None:
        if implied is None:
            raise UserError(N_("Cannot tell the format from the name '{name}': end it in .csv, .xlsx, .vcf or .txt, "
                               "or say which with --format."), name=path.name)
        return implied
    if extension and implied != requested:
        raise UserError(N_("The name '{name}' does not end in .{format}, the format asked for; name the file after "
                           "what it holds, so that the right program opens it."), name=path.name, format=requested)
    return requested


def _counted(rows: Iterable, total: int, report: Report):
    count = 0
    for row in rows:
        yield row
        count += 1
        if count % 5000 == 0:
            report(N_("Exporting"), count, max(total, count))
    report(N_("Exporting"), count, max(count, 1))


def _write_csv(path, headers, rows, options: ExportOptions, total, report) -> int:
    written = 0
    with open_private(path, "w", encoding=options.encoding, errors="replace", newline="") as out:
        writer = csv.writer(out, delimiter=options.delimiter)
        writer.writerow([neutralise(cell) for cell in headers])
        for row in _counted(rows, total, report):
            writer.writerow([neutralise(cell) for cell in row])
            written += 1
    return written


def _write_xlsx(path, headers, rows, total, report) -> int:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)  # rows go to a temporary file, not memory
    sheet = book.create_sheet("Clients")
    sheet.append(xlsx_row(sheet, headers))
    written = 0
    for row in _counted(rows, total, report):
        sheet.append(xlsx_row(sheet, row))
        written += 1
    with open_private(path, "wb") as out:
        book.save(out)
    return written


def _write_lines(path, lines, total, report) -> int:
    written = 0
    with open_private(path, "w", encoding="utf-8", newline="") as out:
        for line in _counted(lines, total, report):
            out.write(line)
            written += 1
    return written


def _card(client: exporting.ClientOut) -> str:
    phones = [(kind, value) for kind, value in client.contacts if kind in ("mobile", "home", "work", "whatsapp")]
    emails = [value for kind, value in client.contacts if kind == "email"]
    return vcard.card(client.last_name, client.first_name, client.middle_name, client.company, client.position,
                      client.birth_date.isoformat() if client.birth_date else "", phones, emails, client.notes,
                      f"clientbase-{client.key}")


def _recipient_line(recipient: exporting.Recipient, channel: str) -> str:
    if channel == "sms" or not recipient.name:
        return recipient.address + "\n"
    name = recipient.name
    if any(ch in name for ch in ',;:<>@"()[]\\'):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{recipient.address}>\n"
