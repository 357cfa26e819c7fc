"""The mailing commands: `campaign create|start|pause|resume|cancel|list|status`, `send`, `unsubscribe`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import zoneinfo
from datetime import timedelta
from pathlib import Path

from db.connection import Target
from db.errors import UserError
from db.i18n import N_, t, tn
from tui.cli import splits
from tui.cli.common import bind_app_database, positive_int, say
from db import labels


def add_parsers(commands) -> None:
    campaign = commands.add_parser("campaign", help=t("make and run mailing campaigns")).add_subparsers(
        dest="action", required=True, metavar="ACTION")
    create = campaign.add_parser("create", help=t("make a draft campaign from a template file; prints its id"))
    create.add_argument("--name", required=True)
    create.add_argument("--channel", choices=("email", "sms"), required=True)
    create.add_argument("--segment", required=True, metavar="NAME|all", help=t("a saved segment's name, or 'all' for "
                                                                               "every client"))
    create.add_argument("--template", type=Path, metavar="FILE", help=t("the template file: 'Subject: ...', optional "
                                                                        "'CTA: label | url' and 'HTML: file' lines, a "
                                                                        "blank line, the body (an SMS template is the "
                                                                        "body alone)"))
    create.add_argument("--purpose", choices=("marketing", "greeting", "service"), default="marketing")
    create.add_argument("--at", metavar="TIME", help=t("when to start sending: 2026-12-24 10:00 in the shop's time "
                                                       "zone, or ISO 8601 with an offset"))
    create.add_argument("--weekly", metavar="'DAY HH:MM'", help=t("send every week at this weekday and hour of the "
                                                                  "shop's time zone, such as 'MON 10:00'; each "
                                                                  "week's run enqueues the audience as it is then"))
    splits.add_create_arguments(create)
    for action in ("start", "pause", "resume", "cancel"):
        campaign.add_parser(action, help=t(labels.MAILING_HELP[action])).add_argument("id", type=positive_int)
    campaign.add_parser("list", help=t("list the campaigns"))
    campaign.add_parser("tick", help=t("make the weekly campaigns' due runs (for cron, when the sender runs as the "
                                       "mailer login)"))
    status = campaign.add_parser("status", help=t("counts by state and by skip reason"))
    status.add_argument("id", type=positive_int)
    status.add_argument("--json", action="store_true")
    splits.add_results_parser(campaign)

    send = commands.add_parser("send", help=t("deliver queued messages (SMTP from CLIENTBASE_SMTP_URL, SMS to "
                                              "CLIENTBASE_SMS_FILE)"))
    send.add_argument("--once", action="store_true", help=t("deliver what is due now, then exit"))
    send.add_argument("--workers", type=positive_int, default=1)
    send.add_argument("--rate", type=positive_int, metavar="PER_SECOND", help=t("at "
                                                                                "most this many messages per second"))
    send.add_argument("--per-hour", type=positive_int, metavar="N", help=t("at most this many messages per hour (a "
                                                                           "provider's cap)"))
    send.add_argument("--batch", type=positive_int, default=100, help=t("messages claimed at a time by each worker"))
    send.add_argument("--lease", type=positive_int, default=30, metavar="SECONDS", help=t("seconds a claim holds "
                                                                                          "before another worker may "
                                                                                          "take it over (renewed "
                                                                                          "while alive)"))

    unsubscribe = commands.add_parser("unsubscribe", help=t("suppress an e-mail address or phone number at once"))
    unsubscribe.add_argument("address", help=t("the e-mail address or phone number, or 'serve' to run the one-click "
                                               "unsubscribe service"))
    unsubscribe.add_argument("--listen", metavar="ADDR:PORT", default="127.0.0.1:8025",
                             help=t("with 'serve': where the service listens (behind the reverse proxy that does TLS)"))


def _connection():
    from db.models import database

    return database


def cmd_campaign(target: Target, args: argparse.Namespace) -> int:
    from db.mailing import campaigns, rules

    bind_app_database(target)
    database = _connection()
    with database.connection_context():
        conn = database.connection()
        if args.action == "create":
            at = campaigns.scheduled_at(args.at, rules.read(conn).timezone)
            weekly = campaigns.Weekly.parse(args.weekly) if args.weekly else None
            with conn.transaction():  # the templates, the campaign and its arms together, or nothing
                arms = splits.save_templates(conn, args)
                campaign_id = campaigns.create(conn, name=args.name, channel=args.channel, template_id=arms[0][0],
                                               segment=None if args.segment == "all" else args.segment,
                                               purpose=args.purpose, scheduled_at=at, weekly=weekly)
                splits.add_arms(conn, campaign_id, arms, args.holdout)
            say(t("{id}", id=campaign_id))
        elif args.action == "results":
            splits.show_results(conn, args)
        elif args.action == "tick":
            for occurrence in campaigns.tick(conn):
                say(tn("Campaign {parent}: this week's run is campaign {id}, {count} recipient enqueued.",
                       "Campaign {parent}: this week's run is campaign {id}, {count} recipients enqueued.",
                       occurrence.enqueued, parent=occurrence.parent_id, id=occurrence.campaign_id))
        elif args.action in ("start", "pause", "resume", "cancel"):
            getattr(campaigns, args.action)(conn, args.id)
            status = campaigns.get(conn, args.id).status
            say(t("Campaign {id} is now {status}.", id=args.id, status=t(labels.CAMPAIGN_STATUS[status])))
        elif args.action == "list":
            found = campaigns.list_campaigns(conn)
            if not found:
                say(t("No campaign yet."))
            for row in found:
                audience = row.segment_name or "all"
                status = t(labels.CAMPAIGN_STATUS[row.status])
                say(f"{row.id:>6}  {status:<9}  {row.channel:<5}  {row.purpose:<9}  {row.name}  [{audience}]")
        else:
            progress = campaigns.progress(conn, args.id)
            if args.json:
                say(json.dumps(progress.to_json(), ensure_ascii=False))
            else:
                say(f"{progress.campaign.name}: {t(labels.CAMPAIGN_STATUS[progress.campaign.status])}"
                    + (f" ({progress.campaign.paused_reason})" if progress.campaign.paused_reason else ""))
                if progress.campaign.weekly is not None:
                    _say_weekly(conn, progress.campaign)
                for state, count in progress.by_state.items():
                    say(f"  {t(labels.MESSAGE_STATE[state]):<10} {count}")
                for reason, count in sorted(progress.by_skip_reason.items()):
                    # "missing first_name" names a field of the template: it stays as it is.
                    said = t(labels.SKIP_REASON[reason]) if reason in labels.SKIP_REASON else reason
                    say(f"    {said:<20} {count}")
    return 0


def _say_weekly(conn, campaign) -> None:
    from db.mailing import campaigns, rules

    zone = rules.read(conn).timezone
    next_run = "—" if campaign.next_run_at is None or campaign.status != "scheduled" else \
        f"{campaign.next_run_at.astimezone(zoneinfo.ZoneInfo(zone)):%Y-%m-%d %H:%M}"
    say("  " + t("every week, {weekly} ({zone}); next run {next}", weekly=str(campaign.weekly), zone=zone,
                 next=next_run))
    for run in campaigns.occurrences(conn, campaign.id):
        say(f"  {run.id:>6}  {t(labels.CAMPAIGN_STATUS[run.status]):<9}  {run.name}")


def cmd_send(target: Target, args: argparse.Namespace) -> int:
    import psycopg

    from db.mailing import queue, rules
    from tui.mailing.delivery import (Delivery, FileGateway, Options, SmsGateway, SmtpServer, secret_from_environment,
                                      utc_now)
    from tui.mailing.sms_http import HttpGateway

    target = bind_app_database(target)
    smtp_url = os.environ.get("CLIENTBASE_SMTP_URL", "")
    sms_file = os.environ.get("CLIENTBASE_SMS_FILE", "")
    sms_url = os.environ.get("CLIENTBASE_SMS_URL", "")
    smtp = SmtpServer.from_url(smtp_url) if smtp_url else None
    sms: SmsGateway | None = None
    if sms_url:
        sms = HttpGateway.from_environment(sms_url)
    elif sms_file:
        sms = FileGateway(Path(sms_file))
    if smtp is None and sms is None:
        raise UserError(N_("Set CLIENTBASE_SMTP_URL (smtp://user:password@host:587 or smtps://...) to send e-mail."))
    options = Options(workers=args.workers, batch=args.batch, lease=timedelta(seconds=args.lease), once=args.once,
                      per_second=args.rate, per_hour=args.per_hour)
    run = Delivery(target.conninfo(), options, smtp=smtp, sms=sms, secret=secret_from_environment())

    def stop(signum, frame) -> None:
        if not run.stop_event.is_set():
            print(f"clientbase: {t('Stopping: releasing what was claimed…')}", file=sys.stderr, flush=True)
        run.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    totals = run.run()
    say(t("Sent {sent}, failed {failed}, skipped "
          "{skipped}, to retry later {retried}.", sent=totals.sent, failed=totals.failed, skipped=totals.skipped,
          retried=totals.retried))
    for campaign_id, reason in totals.paused.items():
        say(t("Campaign {id} paused itself: {reason}.", id=campaign_id, reason=reason))
    if args.once:
        with psycopg.connect(target.conninfo(), autocommit=True) as conn:
            now = utc_now()
            left = queue.backlog(conn, now)
            settings = rules.read(conn)
            if left.leased_live:
                say(tn("{count} message is still leased by a worker that may have died; it resumes when the lease "
                       "ends, within about a minute.",
                       "{count} messages are still leased by a worker that may have died; they resume when its lease "
                       "ends, within about a minute.", left.leased_live))
            if left.waiting_for_window and not settings.in_window(now):
                say(tn("{count} message waits for the send window ({window}, {days}).",
                       "{count} messages wait for the send window ({window}, {days}).", left.waiting_for_window,
                       window=settings.window, days=settings.days))
    return 0


def _serve_unsubscribe(target: Target, listen: str) -> int:
    from tui.mailing.delivery import secret_from_environment
    from tui.mailing.unsubscribe import UnsubscribeServer

    target = bind_app_database(target)
    secret = secret_from_environment()
    if not secret:
        raise UserError(N_("Set CLIENTBASE_UNSUBSCRIBE_SECRET (or CLIENTBASE_UNSUBSCRIBE_SECRET_FILE) to the key the "
                           "sender signs links with."))
    host, colon, port = listen.rpartition(":")
    if not colon or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(N_("--listen takes ADDRESS:PORT, such as 127.0.0.1:8025, not “{listen}”."), listen=listen)
    try:
        server = UnsubscribeServer((host.strip("[]") or "0.0.0.0", int(port)), target.conninfo(), secret)
    except OSError as exc:
        raise UserError(N_("--listen takes ADDRESS:PORT, "
                           "such as 127.0.0.1:8025, not “{listen}”."), listen=f"{listen} ({exc.strerror})") from None
    signal.signal(signal.SIGTERM, lambda signum, frame: server.shutdown())
    say(t("Unsubscribe service listening on http://{where}/ (put it behind the reverse proxy that serves "
          "unsubscribe_url over https).", where=listen))
    thread = server.serve_in_thread()
    while thread.is_alive():
        thread.join(0.5)
    server.server_close()
    return 0


def cmd_unsubscribe(target: Target, args: argparse.Namespace) -> int:
    from db import normalize
    from db.mailing import queue, rules

    if args.address == "serve":
        return _serve_unsubscribe(target, args.listen)
    bind_app_database(target)
    database = _connection()
    raw = args.address.strip()
    with database.connection_context():
        conn = database.connection()
        channel = "email" if "@" in raw else "sms"
        try:
            address = normalize.normalize_contact("email" if channel == "email" else "mobile", raw,
                                                  rules.read_country(conn))
        except UserError:
            raise UserError(N_("“{address}” is neither an e-mail address nor a phone number."), address=raw) from None
        done = queue.unsubscribe(conn, channel, address)
    say(t(N_("{address} will get no "
             "more {channel} messages.") if done else N_("{address} was already "
                                                 "suppressed for {channel}."), address=address, channel=channel))
    return 0


COMMANDS = {"campaign": cmd_campaign, "send": cmd_send, "unsubscribe": cmd_unsubscribe}
