"""The triggers' default templates in Russian, Romanian and English, for e-mail and for SMS, and the daily run
that uses them (each trigger on the channel the shop set for it, trigger_<name>_channel).

Headless (cron runs `clientbase triggers run`). Each trigger's template is saved once, in the shop's language,
under a fixed name; the administrator may edit it in the mailing screen and the run keeps the edit. Each is
warm, short, carries one call to action, and never leaves a hole: a client without a first name is greeted
without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from db.i18n import N_, t
from db.mailing import templates, triggers
from tui.mailing import render
from tui.mailing.render import TemplateText

# Fixed names, so that the run finds the administrator's edited template again whatever the language; an SMS
# template is a template of its own beside the e-mail one, so switching a trigger's channel loses neither edit.
TEMPLATE_NAME = {name: f"trigger: {name}" for name in triggers.TRIGGERS}
SMS_TEMPLATE_NAME = {name: f"trigger: {name} (SMS)" for name in triggers.TRIGGERS}


def template_name(trigger: str, channel: str) -> str:
    return SMS_TEMPLATE_NAME[trigger] if channel == "sms" else TEMPLATE_NAME[trigger]


_TRIGGER_OF = {**{name: (trigger, "email") for trigger, name in TEMPLATE_NAME.items()},
               **{name: (trigger, "sms") for trigger, name in SMS_TEMPLATE_NAME.items()}}


def shown_name(name: str) -> str:
    """A template's name as a list shows it: a trigger's fixed name (stored in English, whatever the language,
    so that the run finds it) in the reader's words."""
    if name not in _TRIGGER_OF:
        return name
    trigger, channel = _TRIGGER_OF[name]
    label = t(triggers.LABEL[trigger])
    return t("Trigger: {trigger} (SMS)", trigger=label) if channel == "sms" else t("Trigger: {trigger}",
                                                                                   trigger=label)


CAMPAIGN_NAME = {"birthday": N_("Birthdays {day}"), "child_birthday": N_("Children's birthdays {day}"),
                 "holiday": N_("Holiday {day}"), "subscription": N_("Subscriptions ending {day}"),
                 "reactivation": N_("Come back {day}")}

_HI = {"ru": "{% if first_name %}{{ first_name }}, з{% else %}З{% endif %}дравствуйте!",
       "ro": "{% if first_name %}Bună ziua, {{ first_name }}!{% else %}Bună ziua!{% endif %}",
       "en": "{% if first_name %}Hello {{ first_name }},{% else %}Hello,{% endif %}"}

DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {
    "ru": {
        "birthday": (
            "{% if days_left %}Скоро ваш день рождения — подарок уже ждёт{% else %}С днём рождения!{% endif %}",
            "{% if first_name %}{{ first_name }}, с{% else %}С{% endif %} днём рождения"
            "{% if days_left %} — он совсем скоро{% endif %}!\n\n"
            "Желаем тепла, радости и исполнения желаний. В подарок от нас — скидка 10 % на любую покупку "
            "в течение недели.\n\nПокажите это письмо на кассе, чтобы получить подарок.\n"),
        "child_birthday": (
            "{{ child_name }} празднует день рождения!",
            _HI["ru"] + "\n\n{{ child_name }} — {{ child_age }}! Поздравляем вашу семью и желаем, чтобы этот "
            "год был полон открытий и радости.\n\nПриходите выбрать подарок: покажите это письмо на кассе, и мы "
            "дадим скидку 10 %.\n"),
        "holiday": (
            "Поздравляем: {{ holiday }}!",
            _HI["ru"] + "\n\nПоздравляем вас: {{ holiday }}! Пусть праздник будет тёплым и светлым.\n\n"
            "Заглядывайте к нам — для вас приготовлены праздничные предложения.\n"),
        "subscription": (
            "{{ product | default('Ваш абонемент') }}: срок заканчивается {{ end_date }}",
            _HI["ru"] + "\n\nНапоминаем: {{ product | default('ваш абонемент') }} действует до {{ end_date }}. "
            "Продлите заранее, чтобы не прерываться.\n\nОтветьте на это письмо или зайдите к нам — "
            "продлим за минуту.\n"),
        "reactivation": (
            "Мы по вам скучаем",
            _HI["ru"] + "\n\nДавно вас не видели — надеемся, у вас всё хорошо. У нас много нового, и мы будем "
            "рады вам снова.\n\nПокажите это письмо на кассе — для вас скидка 10 % на следующую покупку.\n"),
    },
    "ro": {
        "birthday": (
            "{% if days_left %}Ziua ta se apropie — te așteaptă un cadou{% else %}La mulți ani!{% endif %}",
            "La mulți ani{% if first_name %}, {{ first_name }}{% endif %}!"
            "{% if days_left %} Ziua ta de naștere e aproape.{% endif %}\n\n"
            "Îți dorim bucurie, sănătate și vise împlinite. Cadoul nostru: o reducere de 10 % la orice "
            "cumpărătură timp de o săptămână.\n\nArată acest e-mail la casă ca să primești cadoul.\n"),
        "child_birthday": (
            "La mulți ani, {{ child_name }}!",
            _HI["ro"] + "\n\n{{ child_name }} împlinește {{ child_age }} ani! Felicitări întregii familii și un "
            "an plin de bucurii.\n\nVeniți să alegeți un cadou: arătați acest e-mail la casă și primiți o "
            "reducere de 10 %.\n"),
        "holiday": (
            "Sărbători fericite: {{ holiday }}!",
            _HI["ro"] + "\n\nVă felicităm cu ocazia sărbătorii: {{ holiday }}! Să aveți o zi caldă și "
            "luminoasă.\n\nTreceți pe la noi — v-am pregătit oferte de sărbătoare.\n"),
        "subscription": (
            "{{ product | default('Abonamentul dumneavoastră') }} expiră pe {{ end_date }}",
            _HI["ro"] + "\n\nVă reamintim: {{ product | default('abonamentul dumneavoastră') }} este valabil "
            "până pe {{ end_date }}. Prelungiți-l din timp ca să nu faceți pauză.\n\nRăspundeți la acest "
            "e-mail sau treceți pe la noi — îl prelungim într-un minut.\n"),
        "reactivation": (
            "Ne este dor de dumneavoastră",
            _HI["ro"] + "\n\nNu v-am mai văzut de ceva vreme — sperăm că totul e bine. Avem multe noutăți și ne "
            "bucurăm să vă revedem.\n\nArătați acest e-mail la casă: aveți o reducere de 10 % la următoarea "
            "cumpărătură.\n"),
    },
    "en": {
        "birthday": (
            "{% if days_left %}Your birthday is coming — a gift is waiting{% else %}Happy birthday!{% endif %}",
            "Happy birthday{% if first_name %}, {{ first_name }}{% endif %}!"
            "{% if days_left %} Your day is almost here.{% endif %}\n\n"
            "We wish you a year full of joy. Our gift to you: 10% off anything you choose this week.\n\n"
            "Show this e-mail at the till to claim it.\n"),
        "child_birthday": (
            "Happy birthday, {{ child_name }}!",
            _HI["en"] + "\n\n{{ child_name }} turns {{ child_age }}! Congratulations to the whole family — may "
            "the year ahead be full of fun.\n\nCome and pick a present: show this e-mail at the till for 10% "
            "off.\n"),
        "holiday": (
            "Season's greetings: {{ holiday }}",
            _HI["en"] + "\n\nWarm wishes for {{ holiday }}! We hope the day brings you joy.\n\n"
            "Drop by — we have festive offers waiting for you.\n"),
        "subscription": (
            "{{ product | default('Your subscription') }} ends on {{ end_date }}",
            _HI["en"] + "\n\nA friendly reminder: {{ product | default('your subscription') }} runs until "
            "{{ end_date }}. Renew in time and keep going without a break.\n\nReply to this e-mail or visit "
            "us — renewing takes a minute.\n"),
        "reactivation": (
            "We miss you",
            _HI["en"] + "\n\nIt has been a while — we hope all is well. There is a lot that is new, and we "
            "would love to see you again.\n\nShow this e-mail at the till for 10% off your next purchase.\n"),
    },
}


# SMS: one or two segments, one call to action. Cyrillic and Romanian letters make an SMS UCS-2 (70
# characters, 67 a segment when split), so the Russian and Romanian ones stay within 134 characters with a long
# name filled in (tests/test_trigger_sms.py counts them); the English ones keep to GSM-7 (no dashes or quotes
# outside it), 160 and 153.
SMS_DEFAULTS: dict[str, dict[str, str]] = {
    "ru": {
        "birthday": "{% if first_name %}{{ first_name }}, с{% else %}С{% endif %} днём рождения"
                    "{% if days_left %} — он уже скоро{% endif %}! Дарим скидку 10 % на неделю: покажите это SMS "
                    "на кассе.",
        "child_birthday": "{{ child_name }} празднует день рождения! Поздравляем! Скидка 10 % на подарок: покажите "
                          "это SMS на кассе.",
        "holiday": "Поздравляем: {{ holiday }}! Для вас праздничные предложения — ждём в гости.",
        "subscription": "{{ product | default('Абонемент') }} действует до {{ end_date }}. Зайдите к нам — "
                        "продлим за минуту.",
        "reactivation": "{% if first_name %}{{ first_name }}, мы{% else %}Мы{% endif %} по вам скучаем! Скидка "
                        "10 % на следующую покупку: покажите это SMS на кассе.",
    },
    "ro": {
        "birthday": "La mulți ani{% if first_name %}, {{ first_name }}{% endif %}! Cadou: 10 % reducere o "
                    "săptămână. Arătați acest SMS la casă.",
        "child_birthday": "La mulți ani, {{ child_name }}! Reducere 10 % la un cadou: arătați acest SMS la casă.",
        "holiday": "Sărbători fericite: {{ holiday }}! Vă așteptăm cu oferte de sărbătoare.",
        "subscription": "{{ product | default('Abonamentul') }} e valabil până pe {{ end_date }}. Treceți pe la "
                        "noi: îl prelungim într-un minut.",
        "reactivation": "{% if first_name %}{{ first_name }}, ne{% else %}Ne{% endif %} e dor de "
                        "dumneavoastră! 10 % reducere la următoarea cumpărătură: arătați acest SMS la casă.",
    },
    "en": {
        "birthday": "Happy birthday{% if first_name %}, {{ first_name }}{% endif %}!"
                    "{% if days_left %} Your day is almost here.{% endif %} Enjoy 10% off all week: show this text "
                    "at the till.",
        "child_birthday": "Happy birthday, {{ child_name }}! 10% off a present: show this text at the till.",
        "holiday": "Warm wishes for {{ holiday }}! Festive offers are waiting for you in store.",
        "subscription": "{{ product | default('Your subscription') }} ends on {{ end_date }}. Drop by to renew: "
                        "it takes a minute.",
        "reactivation": "{% if first_name %}{{ first_name }}, we{% else %}We{% endif %} miss you! 10% off your "
                        "next purchase: show this text at the till.",
    },
}


def default_template(trigger: str, language: str, channel: str = triggers.CHANNEL) -> TemplateText:
    if channel == "sms":
        return TemplateText(channel="sms", body=SMS_DEFAULTS.get(language, SMS_DEFAULTS["en"])[trigger])
    subject, body = DEFAULTS.get(language, DEFAULTS["en"])[trigger]
    return TemplateText(channel=channel, subject=subject, body=body)


def ensure_template(conn: psycopg.Connection, trigger: str, language: str, channel: str = triggers.CHANNEL) -> int:
    """The trigger's template for the channel: the one saved under its name (perhaps edited since), or the
    default, saved now."""
    name = template_name(trigger, channel)
    found = templates.id_by_name(conn, name)
    if found is not None:
        return found
    text = default_template(trigger, language, channel)
    needed = render.check(text, templates.custom_field_names(conn))
    return templates.save(conn, name=name, channel=text.channel, subject=text.subject,
                          body=text.body, html_body="", cta_label="", cta_url="", required_fields=needed).id


@dataclass(frozen=True)
class Run:
    days: list[date]
    outcomes: list[triggers.Outcome]


def run(conn: psycopg.Connection, now: datetime, day: date | None = None) -> Run:
    """Every trigger that is on, for `day` (default: the shop's today) and any missed day before it."""
    settings = triggers.read_settings(conn)
    day = day or triggers.shop_today(settings, now)
    days = triggers.days_to_run(conn, day)
    outcomes = []
    for trigger in triggers.TRIGGERS:
        if trigger not in settings.enabled:
            continue
        template_id = ensure_template(conn, trigger, settings.language, settings.channel(trigger))
        for each in days:
            outcome = triggers.run_trigger(conn, trigger, each, template_id=template_id,
                                           campaign_name=t(CAMPAIGN_NAME[trigger], day=each.isoformat()),
                                           settings=settings, now=now)
            if outcome is not None:
                outcomes.append(outcome)
    return Run(days, outcomes)


def greet_birthday(client_id: int, on_day: date, child: bool, now: datetime) -> triggers.Greeting:
    """Queues the birthday greeting of one client (or of their child) now, on the app's connection, with the
    trigger's template (saved first if the nightly run never did); see triggers.greet_one. A login that may
    not write campaigns is refused by the database."""
    from db.models import database

    trigger = "child_birthday" if child else "birthday"
    with database.connection_context():
        conn = database.connection()
        conn.rollback()
        try:
            with conn.transaction():
                settings = triggers.read_settings(conn)
                template_id = ensure_template(conn, trigger, settings.language, settings.channel(trigger))
                return triggers.greet_one(conn, trigger, client_id, on_day, template_id=template_id,
                                          campaign_name=t(CAMPAIGN_NAME[trigger], day=on_day.isoformat()),
                                          settings=settings, now=now)
        finally:
            conn.rollback()
