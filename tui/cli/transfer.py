"""The `import`, `export`, `backup` and `restore` commands: their arguments and how they report."""

from __future__ import annotations

import argparse
from pathlib import Path

from db.connection import Target
from db.errors import UserError
from db.i18n import N_, t
from tui.cli.common import bind_app_database
from tui.transfer import progress
def add_parsers(commands) -> None:
    imp = commands.add_parser("import", help=t("import clients (or purchases) from CSV, XLSX or vCard"))
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help=t("say what would happen; write nothing"))
    imp.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD", help=t("which field a column "
                                                                                          "holds, e.g. 'Моб. "
                                                                                          "телефон=mobile', "
                                                                                          "'Хобби=custom.hobby' or "
                                                                                          "'Столбец=skip'; repeatable"))
    imp.add_argument("--purchases", action="store_true", help=t("the file holds purchases, not clients"))
    imp.add_argument("--sheet", metavar="NAME", help=t("the sheet of an XLSX file (default: the first)"))
    imp.add_argument("--overwrite", action="store_true", help=t("let the file replace non-empty fields of clients "
                                                                "already in the base"))
    imp.add_argument("--create-missing", action="store_true", help=t("with --purchases: create a minimal card for an "
                                                                     "unknown client number"))

    exp = commands.add_parser("export", help=t("export clients (or purchases) to CSV, XLSX, vCard or a mailing list"))
    exp.add_argument("file", type=Path)
    exp.add_argument("--format", choices=("csv", "xlsx", "vcf", "txt"), default=None, help=t("default: from the file "
                                                                                             "name's extension, else "
                                                                                             "csv"))
    exp.add_argument("--segment", metavar="NAME", help=t("only the clients of this saved segment"))
    exp.add_argument("--search", metavar="TEXT", help=t("only the clients this search finds"))
    exp.add_argument("--encoding", choices=("utf-8-sig", "utf-8", "cp1251"), default="utf-8-sig",
                     help=t("CSV encoding (default utf-8-sig, which Excel opens with Cyrillic intact)"))
    exp.add_argument("--delimiter", default=None, help=t("CSV separator (default ';', what Excel expects in Russian "
                                                         "and Romanian locales); 'tab' for a tab"))
    exp.add_argument("--channel", choices=("email", "sms"), default="email", help=t("with --format txt: a list of "
                                                                                    "e-mail addresses or of phone "
                                                                                    "numbers"))
    exp.add_argument("--purchases", action="store_true", help=t("export the purchases of those clients instead"))

    backup = commands.add_parser("backup", help=t("save the whole base to a file (pg_dump, custom format)"))
    backup.add_argument("file", type=Path)
    restore = commands.add_parser("restore", help=t("restore a backup into an empty database"))
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true", help=t("replace a database that is not empty"))


def cmd_import(target: Target, args: argparse.Namespace) -> int:
    from tui.transfer import columns
    from tui.transfer.import_job import ImportOptions, describe, run_import

    options = ImportOptions(dry_run=args.dry_run, purchases=args.purchases, overwrite=args.overwrite,
                            create_missing=args.create_missing, sheet=args.sheet,
                            mapping=columns.parse_map(args.map))
    bind_app_database(target)
    with progress.bar() as report:
        result = run_import(args.file, options, report)
    for line in describe(result):
        print(line, flush=True)
    return 0


def cmd_export(target: Target, args: argparse.Namespace) -> int:
    from tui.transfer.export_job import ExportOptions, run_export

    delimiter = {"tab": "\t", None: ";"}.get(args.delimiter, args.delimiter)
    if len(delimiter) != 1:
        raise UserError(N_("The "
                           "separator must be one character (or 'tab'), not '{delimiter}'."), delimiter=args.delimiter)
    options = ExportOptions(format=args.format, segment=args.segment, search=args.search, encoding=args.encoding,
                            delimiter=delimiter, channel=args.channel, purchases=args.purchases)
    bind_app_database(target)
    with progress.bar() as report:
        written = run_export(args.file, options, report)
    print(t("Exported {count:,} rows to {path}.", count=written, path=args.file), flush=True)
    return 0


def cmd_backup(target: Target, args: argparse.Namespace) -> int:
    from tui.transfer import backup_job as backup
    with progress.bar() as report:
        lines = backup.backup_report(target, args.file, report)
    print("\n".join(lines), flush=True)
    return 0


def cmd_restore(target: Target, args: argparse.Namespace) -> int:
    from tui.transfer import backup_job as backup
    with progress.bar() as report:
        lines = backup.restore_report(target, args.file, args.force, report)
    print("\n".join(lines), flush=True)
    return 0


COMMANDS = {"import": cmd_import, "export": cmd_export, "backup": cmd_backup, "restore": cmd_restore}
