"""Opening an import file as a table of text cells, whatever it is: CSV (any of the encodings and separators
Excel writes), XLSX, or vCard; and writing the rows it could not take back in the same format.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

from db.errors import UserError
from tui import vcard
from tui.cells import neutralise, restore, xlsx_row
from tui.private_files import open_private


@dataclass
class SourceRow:
    number: int          # as the user sees it: the spreadsheet row, or the card's position in the file
    cells: list[str]
    raw: object = None   # what goes back into the reject file: the original cells or card text


@dataclass
class Table:
    path: Path
    kind: str                      # csv, xlsx or vcf
    headers: list[str]
    rows: Iterator[SourceRow]
    total: int                     # an estimate, for the progress bar
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet: str | None = None


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) when the bytes are valid UTF-8, else Windows-1251: the encodings Russian
    and Romanian offices produce. Cyrillic in cp1251 is almost never valid UTF-8, so the order is safe."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace"), "cp1251"


def sniff_delimiter(text: str) -> str:
    """The separator that occurs most often outside quotes in the header line."""
    counts = {";": 0, ",": 0, "\t": 0}
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch in "\r\n" and not quoted:
            break
        elif ch in counts and not quoted:
            counts[ch] += 1
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def open_table(path: Path, sheet: str | None = None) -> Table:
    if not path.is_file():
        raise UserError("import.no_file", path=path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, sheet)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError("import.cannot_read", path=path, reason=exc.strerror or exc) from None
    if suffix in (".vcf", ".vcard") or data.lstrip(b"\xef\xbb\xbf \r\n").upper().startswith(b"BEGIN:VCARD"):
        text, encoding = decode(data)
        cards = vcard.parse(text)
        return Table(path, "vcf", list(vcard.COLUMNS), _card_rows(cards), len(cards), encoding)
    if data[:4] == b"PK\x03\x04":
        return _open_xlsx(path, sheet)
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers = next(reader, None)
    if not headers or not any(cell.strip() for cell in headers):
        raise UserError("import.empty_file", path=path)
    return Table(path, "csv", [restore(h).strip() for h in headers], _csv_rows(reader), text.count("\n"),
                 encoding, delimiter)


def _csv_rows(reader) -> Iterator[SourceRow]:
    for index, cells in enumerate(reader):
        cells = [restore(cell) for cell in cells]  # the "'" an export put before formula-like cells (tui.cells)
        yield SourceRow(index + 2, cells, cells)


def _card_rows(cards: list[vcard.Card]) -> Iterator[SourceRow]:
    for index, card in enumerate(cards):
        yield SourceRow(index + 1, card.cells(), card.text)


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError):
        raise UserError("import.bad_xlsx", path=path) from None
    if sheet is not None and sheet not in book.sheetnames:
        raise UserError("import.no_sheet", sheet=sheet, sheets=", ".join(book.sheetnames))
    worksheet = book[sheet] if sheet is not None else book.worksheets[0]
    rows = worksheet.iter_rows(values_only=True)
    number = 0
    headers: list[str] | None = None
    for values in rows:
        number += 1
        cells = [_cell_text(value) for value in values]
        if any(cells):
            headers = [cell.strip() for cell in cells]
            break
    if headers is None:
        raise UserError("import.empty_file", path=path)
    while headers and not headers[-1]:
        headers.pop()
    return Table(path, "xlsx", headers, _xlsx_rows(rows, number, len(headers)), worksheet.max_row or 0,
                 sheet=worksheet.title)


def _xlsx_rows(rows, number: int, width: int) -> Iterator[SourceRow]:
    for values in rows:
        number += 1
        cells = [_cell_text(value) for value in values]
        # Spreadsheets keep formatting far to the right; trailing empty cells are not extra columns.
        while len(cells) > width and not cells[-1]:
            cells.pop()
        yield SourceRow(number, cells, list(values))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).strip()


def reject_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejected{path.suffix}")


def write_rejects(table: Table, rejects: list[tuple[SourceRow, str]], reason_header: str) -> Path:
    """The rejected rows in the input's own format, each with its reason, so that the user can fix them and
    import this file alone."""
    target = reject_path(table.path)
    if table.kind == "xlsx":
        import openpyxl

        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet(table.sheet or "Sheet1")
        sheet.append(xlsx_row(sheet, table.headers + [reason_header]))
        for row, reason in rejects:
            values = list(row.raw)[: len(table.headers)]
            sheet.append(xlsx_row(sheet, values + [None] * (len(table.headers) - len(values)) + [reason]))
        with open_private(target, "wb") as out:
            book.save(out)
    elif table.kind == "vcf":
        with open_private(target, "w", encoding=table.encoding, newline="") as out:
            for row, reason in rejects:
                out.write(vcard.with_reason(str(row.raw), reason))
    else:
        with open_private(target, "w", encoding=table.encoding, errors="replace", newline="") as out:
            writer = csv.writer(out, delimiter=table.delimiter)
            writer.writerow([neutralise(cell) for cell in table.headers + [reason_header]])
            for row, reason in rejects:
                cells = list(row.cells)
                writer.writerow([neutralise(cell) for cell in cells + [""] * (len(table.headers) - len(cells)) + [reason]])
    return target
