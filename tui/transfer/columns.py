"""Which column holds which field: guessed from headers in English, Russian and Romanian, overridable.

A header is folded (case, accents, punctuation, ё) and looked up among the known spellings; `--map
COLUMN=FIELD` wins over the guess. `custom.NAME` puts a column into the client's custom fields, `skip`
leaves it out. A column nobody recognises is reported, never guessed at.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from db.errors import UserError
from db.i18n import N_

PHONE_FIELDS = ("phone", "mobile", "home", "work", "whatsapp")
CONTACT_FIELDS = PHONE_FIELDS + ("email", "telegram", "skype", "vk", "website")

CLIENT_FIELDS: dict[str, tuple[str, ...]] = {
    "external_key": ("client number", "client no", "client id", "customer id", "customer number", "id", "code",
                     "external key", "номер клиента", "код клиента", "код", "номер", "id клиента", "№",
                     "номер карты", "карта", "cod client", "numar client", "cod"),
    "full_name": ("name", "full name", "fio", "фио", "ф и о", "клиент", "имя клиента", "полное имя", "контакт",
                  "contact", "customer", "client", "nume complet", "numele complet", "display name"),
    "last_name": ("last name", "surname", "family name", "фамилия", "nume", "nume de familie"),
    "first_name": ("first name", "given name", "forename", "имя", "prenume"),
    "middle_name": ("middle name", "patronymic", "отчество", "al doilea prenume", "patronimic"),
    "gender": ("gender", "sex", "пол", "gen", "sexul"),
    "birth_date": ("birth date", "birthday", "date of birth", "dob", "born", "дата рождения", "день рождения",
                   "др", "data nasterii", "data de nastere", "ziua de nastere"),
    "company": ("company", "organization", "organisation", "employer", "компания", "организация", "фирма",
                "место работы", "companie", "firma", "organizatie"),
    "position": ("position", "job title", "title", "role", "должность", "functie", "functia", "post"),
    "region": ("region", "state", "province", "county", "регион", "область", "край", "raion", "judet", "regiune"),
    "city": ("city", "town", "город", "населенный пункт", "oras", "localitate", "municipiu"),
    "address": ("address", "street", "street address", "адрес", "улица", "adresa", "strada"),
    "postal_address": ("postal address", "mailing address", "почтовый адрес", "adresa postala"),
    "tags": ("tags", "interests", "hobbies", "hobby", "интересы", "увлечения", "хобби", "теги", "метки",
             "interese", "hobbyuri", "etichete"),
    "notes": ("notes", "note", "comment", "comments", "remarks", "примечание", "примечания", "комментарий",
              "заметки", "note client", "observatii", "comentariu", "notite"),
    "source": ("source", "how did you hear", "источник", "откуда узнал", "откуда узнали", "sursa"),
    "assigned_to": ("salesperson", "manager", "assigned to", "owner", "менеджер", "ответственный",
                    "продавец", "agent", "responsabil"),
    "consent_email": ("e-mail consent", "email consent", "consent email", "newsletter", "subscribed",
                      "согласие на e-mail", "согласие на email", "согласие на рассылку", "рассылка",
                      "acord email", "abonat"),
    "consent_sms": ("sms consent", "consent sms", "согласие на sms", "согласие на смс", "смс", "acord sms"),
    "phone": ("phone", "phone number", "telephone", "tel", "contact phone", "телефон", "тел", "номер телефона",
              "телефоны", "контактный телефон", "telefon", "nr telefon", "numar de telefon", "telefoane"),
    "mobile": ("mobile", "mobile phone", "cell", "cell phone", "mobile number", "моб телефон", "мобильный",
               "мобильный телефон", "сотовый", "сот телефон", "моб", "mobil", "telefon mobil", "celular"),
    "home": ("home phone", "домашний телефон", "дом телефон", "домашний", "telefon acasa", "telefon fix"),
    "work": ("work phone", "office phone", "business phone", "рабочий телефон", "раб телефон", "рабочий",
             "telefon serviciu", "telefon birou"),
    "email": ("email", "e mail", "mail", "email address", "e mail address", "электронная почта", "эл почта",
              "почта", "емейл", "имейл", "adresa de email", "posta electronica"),
    "telegram": ("telegram", "телеграм", "телеграмм", "tg"),
    "whatsapp": ("whatsapp", "ватсап", "вотсап", "whats app"),
    "skype": ("skype", "скайп"),
    "vk": ("vk", "vkontakte", "вконтакте", "вк"),
    "website": ("website", "web site", "site", "web", "url", "homepage", "сайт", "веб сайт", "pagina web"),
}

PURCHASE_FIELDS: dict[str, tuple[str, ...]] = {
    "client_key": CLIENT_FIELDS["external_key"],
    "phone": CLIENT_FIELDS["phone"] + CLIENT_FIELDS["mobile"],
    "email": CLIENT_FIELDS["email"],
    "full_name": CLIENT_FIELDS["full_name"],
    "purchased_at": ("date", "purchase date", "order date", "sale date", "purchased at", "дата", "дата покупки",
                     "дата продажи", "дата заказа", "data", "data cumpararii", "data vanzarii"),
    "amount": ("amount", "total", "sum", "price", "revenue", "сумма", "итого", "стоимость", "выручка",
               "сумма покупки", "suma", "total de plata", "valoare"),
    "cost": ("cost", "cost price", "себестоимость", "закупочная цена", "закупка", "cost de achizitie"),
    "product": ("product", "item", "goods", "service", "товар", "продукт", "услуга", "наименование",
                "produs", "serviciu", "articol"),
    "quantity": ("quantity", "qty", "count", "количество", "кол во", "cantitate"),
    "channel": ("channel", "sales channel", "канал", "канал продаж", "canal"),
    "purchase_key": ("receipt", "receipt number", "order", "order number", "order id", "invoice", "чек",
                     "номер чека", "заказ", "номер заказа", "номер покупки", "bon", "comanda", "numar comanda"),
    "note": ("note", "notes", "comment", "примечание", "комментарий", "nota", "comentariu"),
}


def fold(header: str) -> str:
    text = unicodedata.normalize("NFKD", header.strip().lower().replace("ё", "е").replace("й", "\0"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("\0", "й")
    return re.sub(r"[\W_]+", " ", text).strip()


def _lookup(catalogue: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {fold(spelling): field for field, spellings in catalogue.items() for spelling in spellings + (field,)}


CLIENT_LOOKUP = _lookup(CLIENT_FIELDS)
PURCHASE_LOOKUP = _lookup(PURCHASE_FIELDS)
CLIENT_LOOKUP.update({"e mail consent": "consent_email", "sms consent": "consent_sms"})


@dataclass(frozen=True)
class Mapping:
    """For each column index, the field it feeds (None: not imported)."""

    headers: list[str]
    fields: list[str | None]
    unknown: list[str]


def parse_map(pairs: list[str]) -> dict[str, str]:
    result = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip() or not field.strip():
            raise UserError(N_("--map expects COLUMN=FIELD, such as 'Телефон=mobile', not '{pair}'."), pair=pair)
        result[column.strip()] = field.strip()
    return result


def guess(headers: list[str], overrides: dict[str, str], purchases: bool = False,
          custom_names: dict[str, str] | None = None) -> Mapping:
    """`custom_names` maps folded labels and names of defined custom fields to their names."""
    lookup = PURCHASE_LOOKUP if purchases else CLIENT_LOOKUP
    known = set(PURCHASE_FIELDS if purchases else CLIENT_FIELDS)
    custom_names = custom_names or {}
    by_header = {fold(header): index for index, header in enumerate(headers)}
    fields: list[str | None] = []
    unknown: list[str] = []
    for header in headers:
        folded = fold(header)
        if header.startswith("custom.") and not purchases:
            fields.append(header)
        elif folded in lookup:
            fields.append(lookup[folded])
        elif not purchases and folded in custom_names:
            fields.append("custom." + custom_names[folded])
        else:
            fields.append(None)
            if header.strip():
                unknown.append(header)
    for column, field in overrides.items():
        index = by_header.get(fold(column))
        if index is None and column.isdigit() and 1 <= int(column) <= len(headers):
            index = int(column) - 1
        if index is None:
            raise UserError(N_("--map names the column '{column}', which the file does not have; its columns are: "
                               "{columns}."), column=column, columns=", ".join(headers))
        if field == "skip":
            fields[index] = None
        elif field in known or (field.startswith("custom.") and not purchases and
                                re.fullmatch(r"custom\.[a-z][a-z0-9_]*", field)):
            fields[index] = field
        else:
            raise UserError(N_("--map names the field '{field}', which does not exist; use one of: {fields}, "
                               "custom.NAME or skip."), field=field, fields=", ".join(sorted(known)))
        if headers[index] in unknown:
            unknown.remove(headers[index])
    if purchases and not any(f in fields for f in ("client_key", "phone", "email")):
        raise UserError(N_("A purchase file needs a column with the client number, phone or e-mail; say which one it "
                           "is with --map, e.g. --map 'Карта=client_key'."))
    if purchases and not ("purchased_at" in fields and "amount" in fields):
        raise UserError(N_("A purchase file needs a date column and an amount column; say which they are with --map, "
                           "e.g. --map 'Дата=purchased_at' --map 'Сумма=amount'."))
    if not purchases and not any(f in fields for f in ("full_name", "last_name", "first_name", "company")):
        raise UserError(N_("No column of the file looks like a name or a company (columns: {columns}); say which one "
                           "it is with --map, e.g. --map 'Клиент=full_name'."), columns=", ".join(headers))
    return Mapping(headers=list(headers), fields=fields, unknown=unknown)
