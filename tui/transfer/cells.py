"""Client data never becomes a live spreadsheet formula in a file we write (exports and reject files).

CSV: a cell that Excel or LibreOffice would read as a formula (it begins with =, +, -, @, tab or CR) gets a
leading "'", as OWASP's CSV-injection advice says. The importer removes exactly that "'", and a value that
already began with "'" before such a character gets one more on the way out, so every value comes back as it
was. Phones such as "+7 912 345-67-89" are the common case: they take the "'" too, since a spreadsheet would
otherwise compute them ("-67-89" is arithmetic), which loses the number as surely as a formula would.

XLSX: every text cell is stored as text, never as a formula (openpyxl makes one of any str that begins with
"="); a text that looks like a formula also carries Excel's quotePrefix, which is what Excel itself stores
when someone types a leading "'": the cell shows the value as it is and stays text when edited. No "'" is
added to the value, so an XLSX reads back unchanged with no stripping.
"""

from __future__ import annotations

import re
from typing import Iterable

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE

FORMULA_START = re.compile(r"'*[=+\-@\t\r]")


def neutralise(value: object) -> object:
    if isinstance(value, str) and FORMULA_START.match(value):
        return "'" + value
    return value


def restore(cell: str) -> str:
    """A CSV cell as it was before `neutralise`."""
    if cell[:1] == "'" and FORMULA_START.match(cell, 1):
        return cell[1:]
    return cell


def xlsx_row(sheet, values: Iterable) -> list:
    """Values for a write-only sheet's append(): text that openpyxl would turn into a formula or an error
    value goes in as a text cell instead, and text without the control characters XLSX cannot hold."""
    row = []
    for value in values:
        if isinstance(value, str) and ILLEGAL_CHARACTERS_RE.search(value):
            # XLSX cannot hold most control characters (a note pasted with a \x01, say), and openpyxl's
            # refusal would end the whole export midway: such a cell goes without them.
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if isinstance(value, str) and (FORMULA_START.match(value) or value in ERROR_CODES):
            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            cell.quotePrefix = True
            value = cell
        row.append(value)
    return row
