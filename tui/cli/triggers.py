"""The `triggers` command group: `triggers run [--date YYYY-MM-DD]`, daily from cron under an admin login;
`triggers list` and `triggers set NAME [--on|--off] [--channel email|sms]`; and
`mailing forecast [--days 14]`: what the triggers and the scheduled campaigns will send over the next days."""

from __future__ import annotations

import argparse

from db import labels
from db.connection import Target
from db.i18n import N_, t, tn
from tui.cli.analytics import _connect
from tui.cli.common import iso_date, positive_int, say

# The names of db/mailing/triggers.TRIGGERS, written here so that parsing the command line does not import the
# holidays calendars; tests/test_trigger_sms.py checks that the two agree.
TRIGGERS = ("birthday", "child_birthday", "holiday", "subscription", "reactivation")
CHANNEL_WORD = labels.MAILING_CHANNEL


def add_parsers(commands) -> None:
    group = commands.add_parser("triggers", help=t("automatic greetings, renewal offers and reactivation"))
    actions = group.add_subparsers(dest="triggers_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help=t("enqueue today's birthdays, holidays, renewals and reactivation (safe to "
                                           "run twice; catches up missed days)"))
    run.add_argument("--date", type=iso_date, metavar="YYYY-MM-DD",
                     help=t("the day to run for (default: today in the shop's time zone)"))
    actions.add_parser("list", help=t("each trigger: on or off, and its channel"))
    configure = actions.add_parser("set", help=t("switch a trigger on or off, or send it by e-mail or SMS "
                                                 "(administrator)"))
    configure.add_argument("trigger", choices=TRIGGERS, metavar="TRIGGER",
                           help=t("one of: {names}", names=", ".join(TRIGGERS)))
    switch = configure.add_mutually_exclusive_group()
    switch.add_argument("--on", dest="enabled", action="store_const", const=True, default=None)
    switch.add_argument("--off", dest="enabled", action="store_const", const=False)
    configure.add_argument("--channel", choices=("email", "sms"),
                           help=t("e-mail, or SMS to reach clients who left a phone but no e-mail"))
    add_forecast_parser(commands)


def add_forecast_parser(commands) -> None:
    group = commands.add_parser("mailing", help=t("look ahead at the mailings"))
    actions = group.add_subparsers(dest="mailing_command", metavar="ACTION", required=True)
    forecast = actions.add_parser("forecast", help=t("who gets what over the next days, from scheduled campaigns and "
                                                     "triggers, after the caps and send days"))
    forecast.add_argument("--days", type=positive_int, default=14, metavar="N")


def cmd_mailing(target: Target, args: argparse.Namespace) -> int:
    from db.mailing import forecast
    from db.mailing.triggers import LABEL as TRIGGER_LABEL
    from tui.mailing.delivery import utc_now

    with _connect(target) as conn:
        found = forecast.forecast(conn, utc_now(), args.days)
    if not found.days:
        say(t("Nothing planned for the next {days} days.", days=args.days))
    for day in found.days:
        sources = ", ".join(f"{t(TRIGGER_LABEL[name]) if name in TRIGGER_LABEL else name} {count}"
                            for name, count in sorted(day.by_source.items()))
        say(t("{day}: {messages} to send ({sources}); {capped} held by the cap; {overlapping} clients get more than "
              "one.", day=day.day.isoformat(), messages=day.messages, sources=sources, capped=day.capped,
              overlapping=day.overlapping_clients))
        for overlap in (o for o in found.overlaps if o.day == day.day):
            said = ", ".join(t(TRIGGER_LABEL[name]) if name in TRIGGER_LABEL else name for name in overlap.sources)
            say(f"    {overlap.client_id} {overlap.name}: {said}")
    return 0


def cmd_triggers(target: Target, args: argparse.Namespace) -> int:
    if args.triggers_command in ("list", "set"):
        return _trigger_settings(target, args)
    return _run(target, args)


def _trigger_settings(target: Target, args: argparse.Namespace) -> int:
    from db.errors import UserError
    from db.mailing import triggers
    from db.mailing.triggers import LABEL as TRIGGER_LABEL

    with _connect(target) as conn:
        if args.triggers_command == "set":
            if args.enabled is None and args.channel is None:
                raise UserError(N_("Say what to change: --on, --off or --channel email|sms."))
            triggers.configure(conn, args.trigger, enabled=args.enabled, channel=args.channel)
        found = triggers.states(conn)
    for state in found:
        if args.triggers_command == "set" and state.trigger != args.trigger:
            continue
        say(t("{name} ({label}): {state}, by {channel}", name=state.trigger, label=t(TRIGGER_LABEL[state.trigger]),
              state=t("on") if state.enabled else t("off"), channel=t(CHANNEL_WORD[state.channel])))
    return 0


def _run(target: Target, args: argparse.Namespace) -> int:
    from db.mailing import splits
    from db.mailing.triggers import LABEL as TRIGGER_LABEL
    from tui.mailing import trigger_templates
    from tui.mailing.delivery import utc_now

    with _connect(target) as conn:
        now = utc_now()
        done = trigger_templates.run(conn, now, args.date)
        # The daily run also brings the stored split results up to date, so that viewing them stays instant.
        refreshed = splits.refresh_stale(conn, now)
    for outcome in done.outcomes:
        if outcome.campaign_id is None:
            continue
        say(t("{day} {trigger}: campaign {id}, {queued} to send, {skipped} "
              "skipped.", day=outcome.day.isoformat(), trigger=t(TRIGGER_LABEL[outcome.trigger]),
              id=outcome.campaign_id, queued=outcome.queued, skipped=outcome.enqueued - outcome.queued))
    added = sum(outcome.enqueued for outcome in done.outcomes)
    if not added:
        say(t("Nothing new to enqueue for {days}.", days=", ".join(day.isoformat() for day in done.days)))
    if refreshed:
        say(tn("Split test results recomputed for {count} campaign.",
               "Split test results recomputed for {count} campaigns.", refreshed))
    return 0


COMMANDS = {"triggers": cmd_triggers, "mailing": cmd_mailing}
