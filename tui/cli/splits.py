"""Split tests on the command line: `campaign create ... --variant FILE:SHARE ... [--holdout PERCENT]` and
`campaign results ID [--json]` (the campaign group, tui/cli/mailing.py, calls these)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from db.errors import UserError
from db.i18n import N_, t, tn
from tui.cli.common import positive_int, say


def variant(text: str) -> tuple[Path, int]:
    path, colon, share = text.rpartition(":")
    if not colon or not path or not share.strip().isdigit() or int(share) <= 0:
        raise argparse.ArgumentTypeError(t("expected FILE:SHARE such as offer-a.txt:50, not '{text}'", text=text))
    return Path(path), int(share)


def percent(text: str) -> float:
    try:
        value = float(text.replace(",", ".").rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(t("expected a percentage from 0 to 99, not '{text}'", text=text)) from None
    if not 0 <= value < 100:
        raise argparse.ArgumentTypeError(t("expected a percentage from 0 to 99, not '{text}'", text=text))
    return value


def add_create_arguments(create: argparse.ArgumentParser) -> None:
    create.add_argument("--variant", action="append", type=variant, metavar="FILE:SHARE", default=[],
                        help=t("a split test's arm: a template file and its share (give two or more instead of "
                               "--template)"))
    create.add_argument("--holdout", type=percent, default=0.0, metavar="PERCENT",
                        help=t("a share of the audience that gets nothing, to measure the arms against"))


def add_results_parser(campaign) -> None:
    results = campaign.add_parser("results", help=t("per arm: sent, failed, unsubscribed, buyers and revenue 30/60/90 "
                                                    "days after sending, against the holdout (significance by a "
                                                    "two-proportion z-test)"))
    results.add_argument("id", type=positive_int)
    results.add_argument("--json", action="store_true")
    results.add_argument("--refresh", action="store_true",
                         help=t("compute the figures again now instead of reading the stored ones (stored figures "
                                "are recomputed when older than a day)"))


def template_files(args: argparse.Namespace) -> list[tuple[Path, int]]:
    """The campaign's template files with their shares: one --template, or two or more --variant."""
    if args.template is not None and args.variant:
        raise UserError(N_("Give either --template or two or more --variant, not both."))
    if args.template is not None:
        if args.holdout:
            raise UserError(N_("A holdout needs a split test: give two or more --variant."))
        return [(args.template, 1)]
    if len(args.variant) < 2:
        raise UserError(N_("Give a --template, or two or more --variant FILE:SHARE for a split test."))
    return list(args.variant)


def save_templates(conn, args: argparse.Namespace) -> list[tuple[int, int]]:
    """Checks and saves the campaign's template files; returns (template id, share) for each, in order."""
    from db.mailing import templates
    from tui.mailing import render, template_file

    saved = []
    for path, share in template_files(args):
        text = template_file.load(path, args.channel)
        try:
            needed = render.check(text, templates.custom_field_names(conn))
        except render.TemplateProblems as problems:
            raise UserError(N_("The template cannot be saved: {problems}."), problems=str(problems)) from None
        # One template per campaign and file: saving again replaces it, so a corrected file is one command.
        template = templates.save(conn, name=f"{args.name} — {path.name}", channel=args.channel,
                                  subject=text.subject, body=text.body, html_body=text.html,
                                  cta_label=text.cta_label, cta_url=text.cta_url, required_fields=needed)
        saved.append((template.id, share))
    return saved


def add_arms(conn, campaign_id: int, arms: list[tuple[int, int]], holdout: float) -> None:
    """A campaign of two or more files is a split test; one file is a plain campaign."""
    from db.mailing import splits

    if len(arms) > 1:
        splits.add_variants(conn, campaign_id, arms, holdout)


def show_results(conn, args: argparse.Namespace) -> None:
    from db.mailing import splits
    from tui.mailing.delivery import utc_now

    now = utc_now()
    found = splits.results(conn, args.id, now, recompute=args.refresh)
    if args.json:
        say(json.dumps(found.to_json(), ensure_ascii=False))
        return
    say(t("Campaign {id}: compared with {baseline}; significance by the {test}.", id=args.id,
          baseline=t("the holdout") if found.baseline == splits.HOLDOUT else found.baseline,
          test=t(splits.SIGNIFICANCE_TEST)))
    for arm in found.arms:
        label = t("holdout") if arm.label == splits.HOLDOUT else arm.label
        say(t("{arm}: {recipients} recipients, {sent} sent, {failed} failed, {unsubscribed} "
              "unsubscribed", arm=label, recipients=arm.recipients, sent=arm.sent, failed=arm.failed,
              unsubscribed=arm.unsubscribed))
        for days, window in arm.windows.items():
            said = t("  {days} days: {share:.1%} bought, {revenue:.2f} per recipient", days=days,
                     share=window.buyer_share(arm.recipients), revenue=window.revenue_per_recipient(arm.recipients))
            say(said if window.complete else said + " " + t("(so far)"))
    for comparison in found.comparisons:
        p_value = "-" if comparison.p_value is None else f"{comparison.p_value:.4f}"
        say(t("{arm} vs {baseline}, {days} days: {share:+.1%} bought, {revenue:+.2f} per recipient, p = {p}"
              "{mark}", arm=comparison.label, baseline=t("holdout") if found.baseline == splits.HOLDOUT
              else found.baseline, days=comparison.days, share=comparison.share_difference,
              revenue=comparison.revenue_difference, p=p_value,
              mark=" " + t("(significant)") if comparison.significant else ""))
    if found.days_left:
        say(t("{days} days left until the 90-day follow-up is complete.", days=found.days_left))
    age = found.age(now)
    if age is not None:
        hours = int(age.total_seconds() // 3600)
        say(tn("Figures computed {count} hour ago; --refresh computes them again.",
               "Figures computed {count} hours ago; --refresh computes them again.", hours)
            if hours else t("Figures computed just now."))
