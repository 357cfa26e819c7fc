"""`clientbase import FILE`: read the file, check every row, write the good ones in one transaction, put the
bad ones into a reject file beside the input, and say exactly what happened.

Used by the CLI and by the import screen (screens/transfer/import_dialog.py), which runs `run_import` in a worker.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from db import settings
from db.card import custom_fields

from db.transfer import import_purchases

from db.transfer import import_clients as importing
from db.errors import UserError
from db.i18n import N_, t
from tui.transfer import columns
from tui.transfer import readers
from tui.transfer.progress import Report
from tui.transfer.rows import RowReader

SHOWN_REJECTS = 10


@dataclass(frozen=True)
class ImportOptions:
    dry_run: bool = False
    purchases: bool = False
    overwrite: bool = False
    create_missing: bool = False
    sheet: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportReport:
    table: readers.Table
    mapping: columns.Mapping
    options: ImportOptions
    clients: importing.ClientImportResult | None = None
    purchases: import_purchases.PurchaseImportResult | None = None
    rejects: list[tuple[readers.SourceRow, str]] = field(default_factory=list)
    reject_file: Path | None = None


def run_import(path: Path, options: ImportOptions, progress: Report | None = None) -> ImportReport:
    report = progress or (lambda stage, done, total: None)
    importing.check_may_import()
    table = readers.open_table(path, options.sheet)
    custom = {columns.fold(spelling): name for spelling, name in importing.custom_field_names().items()}
    mapping = columns.guess(table.headers, options.mapping, options.purchases, custom)
    reader = RowReader(mapping, settings.get("phone_country"), settings.get("date_day_first") == "yes",
                       strict_width=table.kind == "csv",
                       custom_fields={d.name: d for d in custom_fields.list_definitions()})
    result = ImportReport(table=table, mapping=mapping, options=options)
    source = t("import of {file}", file=path.name)
    if options.purchases:
        rows = _read(table, reader.purchase, result.rejects, report)
        result.purchases = import_purchases.import_purchases(
            rows, create_missing=options.create_missing, dry_run=options.dry_run,
            timezone=settings.get("timezone"), progress=report)
        _reject_unknown_clients(result)
    else:
        result.clients = importing.import_clients(_read(table, reader.client, result.rejects, report),
                                                  overwrite=options.overwrite, dry_run=options.dry_run,
                                                  source=source, progress=report, total=table.total)
    if result.rejects and not options.dry_run:
        try:
            result.reject_file = readers.write_rejects(table, result.rejects, t("Reason rejected"))
        except OSError as exc:
            raise UserError(N_("The valid rows were imported, but the rejected ones could not be written to {path}: "
                               "{reason}."), path=readers.reject_path(path),
                            reason=exc.strerror or exc) from None
    return result


def _read(table: readers.Table, convert, rejects: list, report: Report) -> Iterator:
    count = 0
    for row in table.rows:
        count += 1
        if count % 2000 == 0:
            report(N_("Reading rows"), count, table.total)
        if row.error:
            rejects.append((row, row.error))
            continue
        if not any(cell.strip() for cell in row.cells):
            continue
        if any("\0" in cell for cell in row.cells):  # PostgreSQL text cannot hold it (an XLSX's _x0000_)
            rejects.append((row, t("the row holds a NUL character, which no text field may contain")))
            continue
        try:
            yield convert(row.number, row.cells)
        except ValueError as exc:
            rejects.append((row, str(exc)))
    report(N_("Reading rows"), count, count)


def _reject_unknown_clients(result: ImportReport) -> None:
    """Rows whose client is unknown were streamed away; read the file again for just those rows."""
    unknown = set(result.purchases.unknown_client_rows)
    if not unknown:
        return
    table = readers.open_table(result.table.path, result.options.sheet)
    reason = t("no client with this number, phone or e-mail in the base (import the clients first, or use "
               "--create-missing)")
    result.rejects.extend((row, reason) for row in table.rows if row.number in unknown)
    result.rejects.sort(key=lambda pair: pair[0].number)


def describe(result: ImportReport) -> list[str]:
    """The report, one sentence a line, for the terminal and the import screen."""
    table = result.table
    where = {"csv": t("CSV, {encoding}, separator {delimiter}", encoding=table.encoding,
                      delimiter=t("tab") if table.delimiter == "\t" else table.delimiter),
             "xlsx": t("Excel, sheet '{sheet}'", sheet=table.sheet), "vcf": t("vCard")}[table.kind]
    lines = [t("{file} ({format}):", file=table.path.name, format=where)]
    if result.clients is not None:
        c = result.clients
        lines += [t("  rows read:                   {count:,}", count=c.rows + len(result.rejects)),
                  t("  new clients:                 {count:,}", count=c.new),
                  t("  clients updated:             {count:,}", count=c.updated),
                  t("  clients already up to date:  {count:,}", count=c.unchanged),
                  t("  "
                    "duplicate rows in the file:  {count:,} (merged into one client each)", count=c.duplicates_in_file),
                  t("  already in the "
                    "base:         {count:,} (matched by client number, phone or e-mail)", count=c.duplicates_in_base),
                  t("  phones and e-mails added:    {count:,}", count=c.contacts_added)]
    if result.purchases is not None:
        p = result.purchases
        lines += [t("  rows read:                   "
                    "{count:,}", count=p.rows + len(result.rejects) - len(p.unknown_client_rows)),
                  t("  purchases added:             {count:,}", count=p.added),
                  t("  purchases already in base:   {count:,}", count=p.already_there)]
        if p.clients_created:
            lines.append(t("  clients created (minimal):   {count:,}", count=p.clients_created))
    lines.append(t("  invalid rows:                {count:,}", count=len(result.rejects)))
    if result.rejects:
        reasons = Counter(reason.split(": ", 1)[-1] if ": " in reason else reason for _, reason in result.rejects)
        for reason, count in reasons.most_common(5):
            lines.append(t("    {count:,} × {reason}", count=count, reason=reason))
        for row, reason in result.rejects[:SHOWN_REJECTS]:
            lines.append(t("    row {row}: {reason}", row=row.number, reason=reason))
        if result.reject_file:
            lines.append(t("Invalid rows are "
                           "in {path}, each with its reason; fix them and import that file.", path=result.reject_file))
    if result.mapping.unknown:
        lines.append(t("Columns not imported: {columns}. To keep one "
                       "as a custom field: --map '{example}=custom.name'.", columns=", ".join(result.mapping.unknown),
                       example=result.mapping.unknown[0]))
    if result.options.dry_run:
        lines.append(t("Dry run: nothing was written."))
    return lines
