"""The `import`, `export`, `backup` and `restore` commands: their arguments and how they report."""

from __future__ import annotations

import argparse
from pathlib import Path

from db.connection import Target
from db.errors import UserError
from db.i18n import t
from tui.cli.common import bind_app_database
from tui.transfer import progress
def add_parsers(commands) -> None:
    imp = commands.add_parser("import", help=t("import.help"))
    imp.add_argument("file", type=Path)
    imp.add_argument("--dry-run", action="store_true", help=t("import.help.dry_run"))
    imp.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD", help=t("import.help.map"))
    imp.add_argument("--purchases", action="store_true", help=t("import.help.purchases"))
    imp.add_argument("--sheet", metavar="NAME", help=t("import.help.sheet"))
    imp.add_argument("--overwrite", action="store_true", help=t("import.help.overwrite"))
    imp.add_argument("--create-missing", action="store_true", help=t("import.help.create_missing"))

    exp = commands.add_parser("export", help=t("export.help"))
    exp.add_argument("file", type=Path)
    exp.add_argument("--format", choices=("csv", "xlsx", "vcf", "txt"), default=None, help=t("export.help.format"))
    exp.add_argument("--segment", metavar="NAME", help=t("export.help.segment"))
    exp.add_argument("--search", metavar="TEXT", help=t("export.help.search"))
    exp.add_argument("--encoding", choices=("utf-8-sig", "utf-8", "cp1251"), default="utf-8-sig",
                     help=t("export.help.encoding"))
    exp.add_argument("--delimiter", default=None, help=t("export.help.delimiter"))
    exp.add_argument("--channel", choices=("email", "sms"), default="email", help=t("export.help.channel"))
    exp.add_argument("--purchases", action="store_true", help=t("export.help.purchases"))

    backup = commands.add_parser("backup", help=t("backup.help"))
    backup.add_argument("file", type=Path)
    restore = commands.add_parser("restore", help=t("backup.help.restore"))
    restore.add_argument("file", type=Path)
    restore.add_argument("--force", action="store_true", help=t("backup.help.force"))


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
        raise UserError("export.bad_delimiter", delimiter=args.delimiter)
    options = ExportOptions(format=args.format, segment=args.segment, search=args.search, encoding=args.encoding,
                            delimiter=delimiter, channel=args.channel, purchases=args.purchases)
    bind_app_database(target)
    with progress.bar() as report:
        written = run_export(args.file, options, report)
    print(t("export.done", count=written, path=args.file), flush=True)
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
