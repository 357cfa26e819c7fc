"""Opening an import file as a table of text cells, whatever it is: CSV (any of the encodings and separators
Excel writes), XLSX, or vCard; and writing the rows it could not take back in the same format.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterator

from db.errors import UserError
from tui.transfer import vcard
from tui.transfer.cells import neutralise, restore, xlsx_row
from tui.transfer.private_files import open_private
from db.i18n import N_


@dataclass
class SourceRow:
    number: int          # as the user sees it: the spreadsheet row, or the card's position in the file
    cells: list[str]
    raw: object = None   # what goes back into the reject file: the original cells or card text
    error: str = ""      # why the reader could not make cells of it (a broken vCard): rejected as it is


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


# A row of a client list is a few hundred bytes; a line of a megabyte is not a table, and reading it as one
# took a minute and a gigabyte. Cells are bounded by the csv module's field limit (131,072 characters).
MAX_LINE = 1 << 20
SCAN_CHUNK = 1 << 20
# What a workbook may unpack to, from its zip directory, before openpyxl reads a byte: worksheets stream
# (read_only), but the shared strings and styles are loaded whole, so they get the tighter bound.
MAX_XLSX_SHEETS = 1 << 30
MAX_XLSX_PART = 64 << 20
QUOTED = 40  # characters of a bad line quoted in a sentence


def _begins(data: bytes | str, encoding: str | None = None) -> str:
    text = data.decode(encoding or "utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text[:QUOTED].replace("\r", " ").replace("\n", " ")
    return text + "…" if len(text) == QUOTED else text


def scan_text(path: Path) -> tuple[str, int]:
    """(encoding, number of lines) of a text file, read in bounded chunks. UTF-8 (with or without BOM) or
    Windows-1251, the encodings Russian and Romanian offices produce; Cyrillic in cp1251 is almost never
    valid UTF-8, so each line's encoding is known. A file whose lines mix the two, a NUL byte (a binary or
    UTF-16 file) or a line over MAX_LINE is refused with a sentence naming the line, before anything is read
    as rows: otherwise the minority would import as mojibake."""
    first: str | None = None  # the encoding of the first line that is not plain ASCII
    lines = 0                 # complete lines before `rest`
    with open(path, "rb") as source:
        rest = source.read(3)
        bom = rest == b"\xef\xbb\xbf"
        if bom:
            rest, first = b"", "utf-8"
        while True:
            chunk = source.read(SCAN_CHUNK)
            # A line ends at LF, or at a lone CR (old Mac spreadsheets); lines are counted by LF.
            ends = [at for at in (chunk.find(b"\n"), chunk.find(b"\r")) if at >= 0]
            if len(rest) + (min(ends) if ends else len(chunk)) > MAX_LINE:
                raise UserError(N_("Line {line} of {path} is longer than {limit:,} KB (it begins '{begins}'), which "
                                   "no row of a client list is; check that this "
                                   "is the CSV you meant."), path=path.name, line=lines + 1, limit=MAX_LINE // 1024,
                                begins=_begins(rest[:200] or chunk[:200], first))
            if not ends and chunk:
                rest += chunk
                continue
            cut = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
            block, rest = (rest + chunk[:cut], chunk[cut:]) if chunk else (rest, b"")
            first = _check_block(path, block, lines, first)
            lines += block.count(b"\n")
            if not chunk:
                break
    if block and not block.endswith(b"\n"):
        lines += 1
    return ("utf-8-sig" if bom else first or "utf-8"), lines


ENCODING_NAMES = {"utf-8": "UTF-8", "cp1251": "Windows-1251"}


def _check_block(path: Path, block: bytes, before: int, first: str | None) -> str | None:
    """The file's encoding so far, after the complete lines of `block`, which follow line `before`."""
    if b"\0" in block:
        line = before + block.count(b"\n", 0, block.index(b"\0")) + 1
        raise UserError(N_("Line {line} of {path} holds a NUL byte, so it is not a text CSV (perhaps a binary file, "
                           "or "
                           "UTF-16): save it from Excel as \"CSV UTF-8\" and import that."), path=path.name, line=line)
    if block.isascii():
        return first
    if first != "cp1251":
        try:
            block.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            pass
    for number, line in enumerate(block.split(b"\n"), before + 1):
        if line.isascii():
            continue
        kind = _line_encoding(line)
        if kind is None:
            raise UserError(N_("Line {line} of {path} is neither UTF-8 nor Windows-1251 text (it begins '{begins}'); "
                               "save the file as "
                               "\"CSV UTF-8\" and import it again."), path=path.name, line=number, begins=_begins(line))
        if first is None:
            first = kind
        elif kind != first:
            raise UserError(N_("Line {line} of {path} is in {other} while the lines before it are in {encoding} (it "
                               "begins '{begins}'); save the whole file in one encoding (\"CSV UTF-8\" in Excel) and "
                               "import it again."), path=path.name, line=number, encoding=ENCODING_NAMES[first],
                            other=ENCODING_NAMES[kind], begins=_begins(line.decode(kind)))
    return first


def _line_encoding(line: bytes) -> str | None:
    for encoding in ("utf-8", "cp1251"):
        try:
            line.decode(encoding)
            return encoding
        except UnicodeDecodeError:
            pass
    return None


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
    """The file's header and a stream of its rows: nothing but a bounded buffer is held in memory, whatever
    the size of the file."""
    if not path.is_file():
        raise UserError(N_("There is no file {path}."), path=path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _open_xlsx(path, sheet)
        with open(path, "rb") as source:
            start = source.read(4096)
        if suffix in (".vcf", ".vcard") or start.lstrip(b"\xef\xbb\xbf \r\n").upper().startswith(b"BEGIN:VCARD"):
            encoding, lines = scan_text(path)
            return Table(path, "vcf", list(vcard.COLUMNS), _card_rows(path, encoding), max(lines // 8, 1),
                         encoding)
        if start[:4] == b"PK\x03\x04":
            return _open_xlsx(path, sheet)
        encoding, lines = scan_text(path)
        with open(path, encoding=encoding, newline="") as source:
            delimiter = sniff_delimiter(source.read(64 * 1024))
        records = _csv_records(path, encoding, delimiter)
        headers = next(records, None)
        records.close()
    except OSError as exc:
        raise UserError(N_("Cannot read {path}: {reason}."), path=path, reason=exc.strerror or exc) from None
    if not headers or not any(cell.strip() for cell in headers):
        raise UserError(N_("The file {path} has no header row, so there is nothing to import."), path=path)
    return Table(path, "csv", [restore(h).strip() for h in headers], _csv_rows(path, encoding, delimiter),
                 max(lines - 1, 0), encoding, delimiter)


def _csv_records(path: Path, encoding: str, delimiter: str) -> Iterator[list[str]]:
    """The file's records, streamed."""
    with open(path, encoding=encoding, newline="") as source:
        reader = csv.reader(source, delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            # A cell over the csv module's field limit: a quote left open swallows the rest of the file.
            raise UserError(N_("{path} cannot be read as CSV at line {line}: {reason}; a quote left open makes the "
                               "rest "
                               "of the file one cell."), path=path.name, line=reader.line_num, reason=exc) from None


def _csv_rows(path: Path, encoding: str, delimiter: str) -> Iterator[SourceRow]:
    records = _csv_records(path, encoding, delimiter)
    next(records, None)  # the header
    for index, cells in enumerate(records):
        # the "'" an export put before formula-like cells (tui.transfer.cells)
        cells = [restore(cell) for cell in cells]
        yield SourceRow(index + 2, cells, cells)


def _card_rows(path: Path, encoding: str) -> Iterator[SourceRow]:
    with open(path, encoding=encoding, newline="") as source:
        for index, card in enumerate(vcard.parse(source)):
            yield SourceRow(index + 1, card.cells(), card.text, card.error)


def _check_xlsx_size(path: Path) -> None:
    """A zip bomb is refused from the sizes the zip's directory declares, before anything is unpacked;
    zipfile never unpacks more than a member declares, so the declaration is a bound."""
    import zipfile

    with zipfile.ZipFile(path) as book:
        members = book.infolist()
    sheets = sum(m.file_size for m in members if m.filename.startswith("xl/worksheets/"))
    largest = max((m for m in members if not m.filename.startswith("xl/worksheets/")), key=lambda m: m.file_size,
                  default=None)
    if sheets > MAX_XLSX_SHEETS or (largest is not None and largest.file_size > MAX_XLSX_PART):
        total = sum(m.file_size for m in members)
        raise UserError(N_("The workbook {path} would unpack to {size:,} MB, more than an import reads (up to "
                           "{limit:,} MB of sheets); it is damaged or not a client list: save the sheet as CSV and "
                           "import that."), path=path.name, size=total >> 20,
                        limit=MAX_XLSX_SHEETS >> 20)


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    import zipfile

    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        _check_xlsx_size(path)
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, OSError, KeyError, ValueError, SyntaxError):
        raise UserError(N_("The file {path} is not an Excel workbook that can be read (XLSX)."), path=path) from None
    if sheet is not None and sheet not in book.sheetnames:
        raise UserError(N_("The workbook has no sheet "
                           "'{sheet}'; its sheets are: {sheets}."), sheet=sheet, sheets=", ".join(book.sheetnames))
    worksheet = book[sheet] if sheet is not None else book.worksheets[0]
    rows = _xlsx_values(path, worksheet.iter_rows(values_only=True))
    number = 0
    headers: list[str] | None = None
    for values in rows:
        number += 1
        cells = [_cell_text(value) for value in values]
        if any(cells):
            headers = [cell.strip() for cell in cells]
            break
    if headers is None:
        raise UserError(N_("The file {path} has no header row, so there is nothing to import."), path=path)
    while headers and not headers[-1]:
        headers.pop()
    return Table(path, "xlsx", headers, _xlsx_rows(rows, number, len(headers)), worksheet.max_row or 0,
                 sheet=worksheet.title)


def _xlsx_values(path: Path, rows) -> Iterator[tuple]:
    """The sheet's rows; a workbook damaged past its directory (a bad checksum, broken XML) is one sentence."""
    import zipfile

    try:
        yield from rows
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, SyntaxError):
        raise UserError(N_("The file {path} is not an Excel workbook that can be read (XLSX)."), path=path) from None


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
                cells = list(row.cells) + [""] * (len(table.headers) - len(row.cells)) + [reason]
                writer.writerow([neutralise(cell) for cell in cells])
    return target
