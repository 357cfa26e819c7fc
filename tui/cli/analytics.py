"""The `analytics` command group: `refresh` (the administrator's, for cron) and `export` (every reader's)."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from db import connection, labels
from db.connection import Target
from db.errors import UserError
from db.i18n import N_, grouped, t
from tui.cli.common import iso_date, positive_int, with_password_prompt
from tui.transfer import progress
from tui.transfer.private_files import open_private


def add_parsers(commands) -> None:
    group = commands.add_parser("analytics", help=t("Analytics: ABC, A-E, RFM, lifetime value (refresh, export)"))
    actions = group.add_subparsers(dest="analytics_command", metavar="ACTION", required=True)
    refresh = actions.add_parser("refresh", help=t("Recompute the analytics and publish them (administrators)"))
    refresh.add_argument("--as-of", type=iso_date, metavar="YYYY-MM-DD", help=t("Analysis date (default: today in the "
                                                                                "shop's time zone)"))
    refresh.add_argument("--period-days", type=positive_int, default=365, metavar="N",
                         help=t("Days of the period for ABC and A-E, ending with the analysis date (default 365)"))
    export = actions.add_parser("export", help=t("Write one row per client of the current analytics to a CSV file"))
    export.add_argument("file", type=Path, metavar="FILE.csv")


def _connect(target: Target):
    if target.embedded is not None:
        connection.prepare_embedded(target)

    def attempt(candidate: Target):
        connection.check_schema(candidate)
        return connection.connect(candidate.conninfo(), candidate, autocommit=True)

    return with_password_prompt(target, attempt)


def cmd_analytics(target: Target, args: argparse.Namespace) -> int:
    return {"refresh": _refresh, "export": _export}[args.analytics_command](target, args)


def _refresh(target: Target, args: argparse.Namespace) -> int:
    from db.analytics.refresh import refresh

    with _connect(target) as conn, progress.bar() as report:
        result = refresh(conn, as_of=args.as_of, period_days=args.period_days,
                         progress=lambda step, done, total: report(labels.ANALYTICS_STEP[step], 0, 1))
    print(t("Analytics as of {as_of}: {clients} clients, {buyers} buyers, computed "
            "in {seconds:.2f} s.", as_of=result.as_of, clients=grouped(result.clients), buyers=grouped(result.buyers),
            seconds=result.duration_ms / 1000), flush=True)
    if result.clv_message:
        print(result.clv_message, flush=True)
    return 0


def _export(target: Target, args: argparse.Namespace) -> int:
    from db.analytics import export

    written = 0
    with _connect(target) as conn:
        rows = export.rows(conn)
        first = next(rows, None)
        try:
            out = open_private(args.file, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise UserError(N_("Cannot write {path}: {reason}."), path=args.file, reason=exc.strerror or exc) from None
        with out:
            writer = csv.writer(out)
            writer.writerow(export.COLUMNS)
            for row in ([first] if first is not None else []):
                writer.writerow(row)
                written += 1
            for row in rows:
                writer.writerow(row)
                written += 1
    print(t("Wrote {count} clients to {path}.", count=grouped(written), path=args.file), flush=True)
    return 0


COMMANDS = {"analytics": cmd_analytics}
