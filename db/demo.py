"""Realistic synthetic data: `clientbase demo --clients N --seed S [--as-of D]`.

People are made in Python (names need grammar: Russian surnames and patronymics agree with gender) and
streamed with COPY; purchases are made inside PostgreSQL, set-based, from a hash of (client, seed): every
client's parameters are drawn from hashes of their id and their purchases from `generate_series`, so the
same seed and the same as-of date give the same base.

Cards are made uniformly over the three years before the as-of date. The purchases follow a process like a
real shop's (the constants below the vocabulary):

- A quarter of the cards never bought (NEVER_BOUGHT). Every other client bought on the day the card was made,
  then repeatedly by BG/NBD (Fader, Hardie & Lee 2005): while alive, purchases are a Poisson process of rate
  lambda ~ Gamma(r = 0.243, alpha = 5 days), and after each repeat purchase the client drops out for good
  with probability p ~ Beta(a = 0.793, b = 2.426). r, a and b are CDNOW's; alpha is CDNOW's 4.414 weeks
  scaled to this shop's pace (about 4.6 purchases per card, as DESIGN.md's standard base), and lambda is
  capped at one purchase every other day (MAX_RATE).
- The rate follows the season: the process runs in "season days", where a day counts as much as its
  multiplier (SEASON): 1.6 in early December, 2.6 from 15 December, 0.6 on 1-10 January, 2.0 on 16-22
  February (before 23 February), 2.4 on 1-7 March (before 8 March), 1 otherwise.
- Spend is gamma-gamma (Fader, Hardie & Lee 2005, CDNOW's p = 6.25, q = 3.74, gamma scaled from 15.44 dollars
  to 926 roubles): each client has a mean basket, each purchase a draw around it (about 2,100 roubles on
  average), which picks the product of the price list nearest to it and a quantity. With the dropout this
  makes the top fifth of the clients bring about 80 % of the revenue.
- Some clients cost more than they bring: 6 % of the buyers hunt discounts (70 % of their purchases at 35-70 %
  off, often below cost; others get 10-30 % off on 6 % of purchases), and 4 % return 45 % of what they order
  online or by phone (others 4 %). A returned order is a purchase of amount 0 (the schema allows no
  negative amounts) whose cost is a quarter of the goods' cost: shipping both ways and the write-off.
- 10 % of the buyers hold a pass (gym for 1, 3 or 12 months, or SPA): bought with their first purchase and
  renewed when it ends (after a gap of 0-9 days, the same for the client) with a probability rho ~ U(0.55,
  0.95) of their own each time, until it lapses or the as-of date comes. Every pass is a purchase and a
  `subscription` row.

A BG/NBD fit by hand on a 20,000-client base (seed 1) gives r = 0.28, alpha = 0.90 weeks, a = 0.82, b = 2.76:
finite and near the parameters above (the seasons and the passes move alpha).
"""

from __future__ import annotations

import random
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import IO, Callable, Iterator

import psycopg

from db import rows
from db.errors import UserError
from db.i18n import N_

# --- vocabulary ---------------------------------------------------------------------------------------

RU_MALE = ["Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Валерий", "Василий",
           "Виктор", "Владимир", "Владислав", "Геннадий", "Георгий", "Григорий", "Дмитрий", "Евгений",
           "Егор", "Иван", "Игорь", "Илья", "Кирилл", "Константин", "Леонид", "Максим", "Михаил",
           "Никита", "Николай", "Олег", "Павел", "Пётр", "Роман", "Сергей", "Станислав", "Степан",
           "Тимофей", "Фёдор", "Юрий", "Ярослав", "Семён"]
RU_FEMALE = ["Александра", "Алёна", "Алина", "Алла", "Анастасия", "Анна", "Валентина", "Валерия", "Вера",
             "Виктория", "Галина", "Дарья", "Евгения", "Екатерина", "Елена", "Елизавета", "Жанна",
             "Зоя", "Инна", "Ирина", "Карина", "Кристина", "Ксения", "Лариса", "Любовь", "Людмила",
             "Маргарита", "Марина", "Мария", "Надежда", "Наталья", "Нина", "Оксана", "Ольга", "Полина",
             "Светлана", "София", "Татьяна", "Юлия", "Яна"]
# Patronymic stems: (male first name, patronymic root); the endings are added by gender.
RU_PATRONYMIC = {"Александр": "Александров", "Алексей": "Алексеев", "Андрей": "Андреев", "Антон": "Антонов",
                 "Борис": "Борисов", "Вадим": "Вадимов", "Валерий": "Валерьев", "Василий": "Васильев",
                 "Виктор": "Викторов", "Владимир": "Владимиров", "Геннадий": "Геннадьев",
                 "Георгий": "Георгиев", "Григорий": "Григорьев", "Дмитрий": "Дмитриев",
                 "Евгений": "Евгеньев", "Иван": "Иванов", "Игорь": "Игорев", "Кирилл": "Кириллов",
                 "Константин": "Константинов", "Леонид": "Леонидов", "Максим": "Максимов",
                 "Михаил": "Михайлов", "Николай": "Николаев", "Олег": "Олегов", "Павел": "Павлов",
                 "Пётр": "Петров", "Роман": "Романов", "Сергей": "Сергеев", "Степан": "Степанов",
                 "Юрий": "Юрьев", "Фёдор": "Фёдоров", "Семён": "Семёнов"}
# Surnames in the masculine form; the feminine adds "а" (-ов/-ев/-ин) or turns "-ий" into "-ая".
RU_LAST = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
           "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
           "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
           "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
           "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
           "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
           "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
           "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
           "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
           "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
           "Мартынов", "Ефимов", "Федотов", "Щербаков", "Назаров", "Калинин", "Исаев", "Чернышёв",
           "Быков", "Маслов", "Родионов", "Коновалов", "Лазарев", "Воронин", "Климов", "Филатов",
           "Пономарёв", "Голубев", "Кудрявцев", "Прохоров", "Наумов", "Потапов", "Журавлёв",
           "Овчинников", "Трофимов", "Леонов", "Соболев", "Ермаков", "Колесников", "Гончаров",
           "Емельянов", "Никифоров", "Грачёв", "Котов", "Гришин", "Ефремов", "Архипов", "Громов",
           "Кириллов", "Малышев", "Панов", "Моисеев", "Румянцев", "Акимов", "Кондратьев", "Бирюков",
           "Горбунов", "Анисимов", "Ерёмин", "Тихомиров", "Галкин", "Лукьянов", "Михеев", "Скворцов",
           "Юдин", "Белоусов", "Нестеров", "Симонов", "Прокофьев", "Харитонов", "Князев", "Цветков",
           "Левин", "Митрофанов", "Воронов", "Аксёнов", "Софронов", "Мальцев", "Логинов", "Горшков",
           "Савин", "Краснов", "Майоров", "Демидов", "Елисеев", "Рыбаков", "Сафонов", "Плотников",
           "Жданов", "Блинов", "Муравьёв", "Сазонов", "Ершов", "Шубин", "Дьячков", "Мухин",
           "Третьяков", "Шестаков", "Петухов", "Одинцов", "Кравцов", "Зуев", "Суворов", "Бобров",
           "Островский", "Вишневский", "Покровский", "Зеленский", "Соколовский", "Успенский"]
RO_MALE = ["Andrei", "Alexandru", "Ion", "Mihai", "Ștefan", "Gheorghe", "Vasile", "Constantin", "Nicolae",
           "Dumitru", "Florin", "Adrian", "Cristian", "Marius", "Radu", "Sergiu", "Victor", "Vlad",
           "Octavian", "Iulian", "Tudor", "Dorin", "Eugen", "Petru", "Valeriu", "Corneliu", "Răzvan"]
RO_FEMALE = ["Maria", "Elena", "Ioana", "Ana", "Cristina", "Mihaela", "Andreea", "Alexandra", "Daniela",
             "Gabriela", "Irina", "Natalia", "Olga", "Tatiana", "Doina", "Lucia", "Victoria", "Aurelia",
             "Corina", "Liliana", "Rodica", "Silvia", "Angela", "Veronica", "Mariana", "Ecaterina", "Viorica"]
RO_LAST = ["Popescu", "Ionescu", "Popa", "Rusu", "Munteanu", "Ciobanu", "Ceban", "Cebotari", "Țurcanu",
           "Lungu", "Rotaru", "Sârbu", "Moraru", "Cojocaru", "Bălan", "Ursu", "Mocanu", "Grosu",
           "Stratan", "Gheorghiu", "Dumitrescu", "Stoica", "Stan", "Constantinescu", "Marin", "Matei",
           "Ștefănescu", "Negru", "Căpățînă", "Roșca", "Botnaru", "Cazacu", "Bivol", "Guțu", "Vrabie",
           "Melnic", "Cucu", "Plămădeală", "Croitoru", "Olaru", "Pascari", "Răileanu", "Șișcan"]
EN_MALE = ["James", "John", "Robert", "Michael", "William", "David", "Richard", "Thomas", "Daniel",
           "Matthew", "George", "Oliver", "Harry", "Jack", "Charles", "Edward", "Henry", "Samuel"]
EN_FEMALE = ["Mary", "Elizabeth", "Sarah", "Emma", "Olivia", "Sophie", "Emily", "Charlotte", "Lucy",
             "Grace", "Hannah", "Jessica", "Alice", "Amelia", "Victoria", "Rachel", "Laura", "Anna"]
EN_LAST = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
           "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson",
           "Clarke", "O'Brien", "Hughes", "Edwards", "Lewis", "Harris", "Martin", "Cooper", "Baker"]

PLACES = {
    "ru": [("Москва", "Москва"), ("Санкт-Петербург", "Санкт-Петербург"), ("Московская область", "Химки"),
           ("Московская область", "Подольск"), ("Свердловская область", "Екатеринбург"),
           ("Новосибирская область", "Новосибирск"), ("Татарстан", "Казань"),
           ("Нижегородская область", "Нижний Новгород"), ("Самарская область", "Самара"),
           ("Краснодарский край", "Краснодар"), ("Краснодарский край", "Сочи"),
           ("Ростовская область", "Ростов-на-Дону"), ("Пермский край", "Пермь"),
           ("Воронежская область", "Воронеж"), ("Челябинская область", "Челябинск")],
    "ro": [("Chișinău", "Chișinău"), ("Bălți", "Bălți"), ("Cahul", "Cahul"), ("Orhei", "Orhei"),
           ("Ungheni", "Ungheni"), ("București", "București"), ("Iași", "Iași"), ("Cluj", "Cluj-Napoca")],
    "en": [("England", "London"), ("England", "Manchester"), ("England", "Bristol"), ("Scotland", "Edinburgh")],
}
STREETS = {"ru": ["ул. Ленина", "ул. Садовая", "пр. Мира", "ул. Гагарина", "ул. Пушкина", "ул. Советская",
                  "ул. Лесная", "ул. Школьная", "наб. Реки Фонтанки", "ул. Новая"],
           "ro": ["str. Ștefan cel Mare", "bd. Dacia", "str. Mihai Eminescu", "str. Pușkin", "bd. Decebal"],
           "en": ["High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue"]}
HOBBIES = ["рыбалка", "йога", "фитнес", "путешествия", "кулинария", "садоводство", "книги", "театр",
           "бег", "велосипед", "фотография", "шахматы", "музыка", "кино", "вязание", "горные лыжи",
           "dans", "fotbal", "vin", "golf", "tennis", "hiking"]
NOTES = ["Аллергия на орехи", "Предпочитает звонки после 18:00", "Не звонить по понедельникам",
         "Постоянный клиент, скидка 5 %", "Аллергия на латекс", "Просила сообщить о поступлении новинок",
         "Vorbește doar română", "Prefers e-mail to calls", "День рождения отмечает в ресторане",
         "Купил подарок жене на годовщину", "Интересуется абонементом на год", ""]
SOURCES = ["рекомендация", "Instagram", "ВКонтакте", "Яндекс", "Google", "вывеска", "выставка",
           "сайт", "Facebook", "recomandare", ""]
SALESPEOPLE = ["anna", "oleg", "irina", "victor", None]
COMPANY_WORDS = ["Альфа", "Вектор", "Гранит", "Меридиан", "Сфера", "Прогресс", "Техно", "Строй", "Опт",
                 "Лидер", "Омега", "Сигма", "Восток", "Север", "Profi", "Nord", "Vita", "Trans"]
COMPANY_FORMS = {"ru": ["ООО «{}»", "АО «{}»", "ИП {}"], "ro": ["SRL «{}»", "ÎI {}"], "en": ["{} Ltd", "{} LLP"]}
INDUSTRIES = ["розница", "строительство", "IT", "логистика", "производство", "услуги", "HoReCa", "медицина"]
POSITIONS = ["директор", "менеджер", "бухгалтер", "инженер", "закупщик", "director", "manager", ""]
DOMAINS = {"ru": ["mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru"],
           "ro": ["gmail.com", "mail.ru", "yahoo.com", "mail.md"],
           "en": ["gmail.com", "outlook.com", "yahoo.co.uk", "btinternet.com"]}
CHILD_RU_M = ["Миша", "Ваня", "Саша", "Артём", "Даня", "Лёва"]
CHILD_RU_F = ["Маша", "Аня", "Соня", "Ева", "Катя", "Варя"]
CHILD_RO_M, CHILD_RO_F = ["Andrei", "Matei", "Luca", "David"], ["Sofia", "Ana", "Daria", "Eva"]
CHILD_EN_M, CHILD_EN_F = ["Jack", "Leo", "Noah", "Oscar"], ["Lily", "Mia", "Isla", "Ava"]

TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya", "ă": "a", "â": "a", "î": "i", "ș": "s", "ț": "t", "'": "",
})

PRODUCTS = [
    # (sku, name, category, price, cost ratio, subscription days)
    ("GYM-1M", "Абонемент в зал, 1 месяц", "абонементы", 3500, 0.35, 30),
    ("GYM-3M", "Абонемент в зал, 3 месяца", "абонементы", 9000, 0.35, 90),
    ("GYM-12M", "Абонемент в зал, год", "абонементы", 29000, 0.35, 365),
    ("SPA-10", "Абонемент SPA, 10 посещений", "абонементы", 12000, 0.45, 180),
] + [
    (f"SKU-{n:04d}", f"{kind} {model}", category, price, ratio, None)
    for n, (kind, category, price, ratio, model) in enumerate(
        (kind, category, round(base * (0.6 + 0.15 * step), -1), ratio, model)
        for kind, category, base, ratio in [
            ("Крем для лица", "косметика", 1900, 0.55), ("Шампунь", "косметика", 650, 0.5),
            ("Парфюм", "парфюмерия", 5900, 0.6), ("Кроссовки", "обувь", 7900, 0.6),
            ("Куртка", "одежда", 11900, 0.62), ("Футболка", "одежда", 1490, 0.45),
            ("Сумка", "аксессуары", 4900, 0.5), ("Часы", "аксессуары", 15900, 0.7),
            ("Подарочный сертификат", "сертификаты", 3000, 0.95), ("Массаж", "услуги", 2500, 0.4),
            ("Стрижка", "услуги", 1800, 0.35), ("Маникюр", "услуги", 1500, 0.35),
            ("Витамины", "здоровье", 990, 0.5), ("Протеин", "здоровье", 2900, 0.6),
        ]
        for step, model in enumerate(["Classic", "Pro", "Lux", "Mini", "Max", "Eco"])
    )
]

# A Romanian-speaking shop's demo: the same products, prices and proportions, named in Romanian.
PRODUCT_NAMES_RO = {
    "Абонемент в зал, 1 месяц": "Abonament la sală, 1 lună", "Абонемент в зал, 3 месяца": "Abonament la sală, 3 luni",
    "Абонемент в зал, год": "Abonament la sală, un an", "Абонемент SPA, 10 посещений": "Abonament SPA, 10 vizite",
    "Крем для лица": "Cremă de față", "Шампунь": "Șampon", "Парфюм": "Parfum", "Кроссовки": "Adidași",
    "Куртка": "Geacă", "Футболка": "Tricou", "Сумка": "Geantă", "Часы": "Ceas",
    "Подарочный сертификат": "Certificat cadou", "Массаж": "Masaj", "Стрижка": "Tuns", "Маникюр": "Manichiură",
    "Витамины": "Vitamine", "Протеин": "Proteină",
    "абонементы": "abonamente", "косметика": "cosmetice", "парфюмерия": "parfumerie", "обувь": "încălțăminte",
    "одежда": "îmbrăcăminte", "аксессуары": "accesorii", "сертификаты": "certificate", "услуги": "servicii",
    "здоровье": "sănătate",
}

# What the shop's language changes: every person, place and word of the demo (en keeps today's mix).
CULTURE_OF_LANGUAGE = {"ru": "ru", "ro": "ro"}
WORDS = {
    "ru": {
        "hobbies": HOBBIES[:16],
        "notes": ["Аллергия на орехи", "Предпочитает звонки после 18:00", "Не звонить по понедельникам",
                  "Постоянный клиент, скидка 5 %", "Аллергия на латекс", "Просила сообщить о поступлении новинок",
                  "День рождения отмечает в ресторане", "Купил подарок жене на годовщину",
                  "Интересуется абонементом на год", ""],
        "sources": ["рекомендация", "Instagram", "ВКонтакте", "Яндекс", "Google", "вывеска", "выставка", "сайт", ""],
        "positions": ["директор", "менеджер", "бухгалтер", "инженер", "закупщик", ""],
        "industries": INDUSTRIES,
        "company_words": COMPANY_WORDS[:14],
    },
    "ro": {
        "hobbies": ["pescuit", "yoga", "fitness", "călătorii", "gătit", "grădinărit", "cărți", "teatru", "alergare",
                    "ciclism", "fotografie", "șah", "muzică", "film", "tricotat", "schi", "dans", "fotbal", "vin",
                    "tenis", "drumeții"],
        "notes": ["Alergie la nuci", "Preferă apeluri după ora 18:00", "Nu sunați lunea",
                  "Client fidel, reducere 5 %", "Alergie la latex", "A cerut să fie anunțată despre noutăți",
                  "Vorbește doar română", "Își sărbătorește ziua la restaurant",
                  "A cumpărat un cadou soției de aniversare", "Interesat de un abonament pe un an", ""],
        "sources": ["recomandare", "Instagram", "Facebook", "Google", "firmă luminoasă", "expoziție", "site",
                    "TikTok", ""],
        "positions": ["director", "manager", "contabil", "inginer", "achizitor", ""],
        "industries": ["comerț cu amănuntul", "construcții", "IT", "logistică", "producție", "servicii", "HoReCa",
                       "medicină"],
        "company_words": ["Alfa", "Vector", "Granit", "Meridian", "Sfera", "Progres", "Tehno", "Construct", "Nord",
                          "Vita", "Trans", "Profi", "Lider", "Omega", "Sigma", "Est"],
    },
    "en": {"hobbies": HOBBIES, "notes": NOTES, "sources": SOURCES, "positions": POSITIONS,
           "industries": INDUSTRIES, "company_words": COMPANY_WORDS},
}


def product_rows(language: str) -> list[tuple[str, str, str, float, float, int | None]]:
    if language != "ro":
        return list(PRODUCTS)
    named: list[tuple[str, str, str, float, float, int | None]] = []
    for sku, name, category, price, ratio, days in PRODUCTS:
        kind, _, model = name.rpartition(" ") if days is None else (name, "", "")
        local = f"{PRODUCT_NAMES_RO[kind]} {model}" if days is None else PRODUCT_NAMES_RO[name]
        named.append((sku, local, PRODUCT_NAMES_RO[category], price, ratio, days))
    return named


CHANNELS = ["shop", "shop", "shop", "online", "online", "phone"]
PHONE_FORMATS_RU = ["+7 ({a}) {b}-{c}-{d}", "8 {a} {b} {c} {d}", "8{a}{b}{c}{d}", "+7{a}{b}{c}{d}",
                    "8 ({a}) {b}-{c}-{d}", "+7 {a} {b}{c}{d}"]


@dataclass(frozen=True)
class DemoResult:
    clients: int
    purchases: int
    seconds: float


def _copy_text(value: object) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _pg_array(items: list[str]) -> str:
    return "{" + ",".join('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items) + "}"


def _feminine_surname(surname: str) -> str:
    if surname.endswith("ий"):
        return surname[:-2] + "ая"
    return surname + "а"


class _People:
    """Makes one client (and their contacts and children) at a time from a seeded random generator."""

    def __init__(self, seed: int, as_of: date, companies: int, language: str = "en") -> None:
        self.rng = random.Random(seed)
        self.culture = CULTURE_OF_LANGUAGE.get(language)
        self.words = WORDS[language if language in WORDS else "en"]
        self.as_of = as_of
        self.companies = companies
        self.now = datetime(as_of.year, as_of.month, as_of.day, 12, tzinfo=timezone.utc)

    def person(self, client_id: int) -> tuple[list[object], list[list[object]], list[list[object]]]:
        rng = self.rng
        roll = rng.random()
        culture = self.culture or ("ru" if roll < 0.6 else "ro" if roll < 0.85 else "en")
        gender = "f" if rng.random() < 0.55 else "m"
        middle = ""
        if culture == "ru":
            first = rng.choice(RU_FEMALE if gender == "f" else RU_MALE)
            last = rng.choice(RU_LAST)
            if gender == "f":
                last = _feminine_surname(last)
            if rng.random() < 0.9:
                root = RU_PATRONYMIC[rng.choice(list(RU_PATRONYMIC))]
                middle = root[:-2] + ("евна" if gender == "f" else "евич") if root.endswith("ев") \
                    else root[:-2] + ("овна" if gender == "f" else "ович")
        elif culture == "ro":
            first = rng.choice(RO_FEMALE if gender == "f" else RO_MALE)
            last = rng.choice(RO_LAST)
        else:
            first = rng.choice(EN_FEMALE if gender == "f" else EN_MALE)
            last = rng.choice(EN_LAST)
        region, city = rng.choice(PLACES[culture])
        birth = None
        if rng.random() < 0.85:
            birth = self.as_of - timedelta(days=rng.randint(18 * 365, 80 * 365))
        company_id = position = None
        if rng.random() < 0.08:
            company_id = rng.randint(1, self.companies)
            position = rng.choice(self.words["positions"])
        created = self.now - timedelta(days=rng.random() * 3 * 365, seconds=rng.randint(0, 86399))
        tags = rng.sample(self.words["hobbies"], k=rng.choice((0, 0, 1, 1, 2, 3)))
        note = rng.choice(self.words["notes"]) if rng.random() < 0.15 else ""
        has_email = rng.random() < 0.75
        has_phone = rng.random() < 0.95 or not has_email
        consent_email = has_email and rng.random() < 0.6
        consent_sms = has_phone and rng.random() < 0.5
        consent_at = created if (consent_email or consent_sms) else None
        street = f"{rng.choice(STREETS[culture])}, {rng.randint(1, 150)}"
        client: list[object] = [
            client_id, None, "person", last, first, middle, gender, birth, company_id, position or "",
            region, city, street if rng.random() < 0.5 else "", "", _pg_array(tags), note,
            rng.choice(self.words["sources"]), None, rng.choice(SALESPEOPLE),
            consent_email, consent_at if consent_email else None, "demo" if consent_email else "",
            consent_sms, consent_at if consent_sms else None, "demo" if consent_sms else "",
            "{}", created, "demo", created, "demo",
        ]
        contacts: list[list[object]] = []
        if has_phone:
            written, normalized = self.phone(culture)
            contacts.append([client_id, "mobile", written, normalized, True])
            if rng.random() < 0.12:
                written, normalized = self.phone(culture)
                contacts.append([client_id, "work", written, normalized, True])
        if has_email:
            local = f"{first}.{last}".lower().translate(TRANSLIT)
            local = "".join(ch for ch in local if ch.isascii() and (ch.isalnum() or ch == "."))
            if rng.random() < 0.6:
                local += str(rng.randint(1, 999))
            address = f"{local}.{client_id}@{rng.choice(DOMAINS[culture])}"
            shown = address if rng.random() < 0.8 else address.capitalize()
            contacts.append([client_id, "email", shown, address, True])
        if rng.random() < 0.05:
            contacts.append([client_id, "telegram", f"@{first.translate(TRANSLIT).lower()}{client_id}",
                             f"@{first.translate(TRANSLIT).lower()}{client_id}", True])
        children: list[list[object]] = []
        if birth is not None and rng.random() < 0.3:
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                child_gender = rng.choice("mf")
                names = {"ru": (CHILD_RU_M, CHILD_RU_F), "ro": (CHILD_RO_M, CHILD_RO_F),
                         "en": (CHILD_EN_M, CHILD_EN_F)}[culture]
                age = rng.randint(0, 25)
                child_birth = self.as_of - timedelta(days=age * 365 + rng.randint(0, 364))
                if child_birth > birth + timedelta(days=18 * 365):
                    children.append([client_id, "child", rng.choice(names[0 if child_gender == "m" else 1]),
                                     child_gender, child_birth])
        return client, contacts, children

    def phone(self, culture: str) -> tuple[str, str]:
        rng = self.rng
        if culture == "ru":
            a, b, c, d = rng.randint(900, 999), rng.randint(100, 999), rng.randint(0, 99), rng.randint(0, 99)
            written = rng.choice(PHONE_FORMATS_RU).format(a=a, b=b, c=f"{c:02d}", d=f"{d:02d}")
            return written, f"+7{a}{b}{c:02d}{d:02d}"
        if culture == "ro":
            if rng.random() < 0.7:
                operator = rng.choice(("60", "62", "67", "68", "69", "78", "79"))
                rest = f"{rng.randint(0, 999999):06d}"
                written = rng.choice((f"+373 {operator} {rest[:3]} {rest[3:]}", f"0{operator}{rest}",
                                      f"+373{operator}{rest}"))
                return written, f"+373{operator}{rest}"
            operator = rng.choice(("722", "723", "745", "740", "755"))
            rest = f"{rng.randint(0, 999999):06d}"
            return f"+40 {operator} {rest[:3]} {rest[3:]}", f"+40{operator}{rest}"
        rest = f"{rng.randint(0, 999999):06d}"
        operator = rng.choice(("7931", "7723", "7890", "7412", "7956"))
        return f"+44 {operator} {rest}", f"+44{operator}{rest}"

    def company(self, company_id: int) -> list[object]:
        rng = self.rng
        culture = self.culture or rng.choice(("ru", "ru", "ro", "en"))
        words = self.words["company_words"]
        word = rng.choice(words) + (rng.choice(words).lower() if rng.random() < 0.5 else "")
        name = rng.choice(COMPANY_FORMS[culture]).format(f"{word}-{company_id}")
        return [company_id, name, f"{rng.randint(10**9, 10**10 - 1)}{company_id:06d}",
                rng.choice(self.words["industries"]),
                f"https://{word.lower().translate(TRANSLIT)}{company_id}.example"]


CLIENT_COLUMNS = ("id, external_key, kind, last_name, first_name, middle_name, gender, birth_date, company_id, "
                  "position, region, city, address, postal_address, tags, notes, source, referred_by_id, "
                  "assigned_to, consent_email, consent_email_at, consent_email_source, consent_sms, "
                  "consent_sms_at, consent_sms_source, custom, created_at, created_by, updated_at, updated_by")

DEMO_TABLES = ("company", "client", "contact_point", "relative", "product", "purchase", "purchase_line",
               "subscription")

# --- the purchase process -------------------------------------------------------------------------------
# Parameters of the generating process (see the module docstring for what they mean and where they come from).
NEVER_BOUGHT = 0.25                      # clients with a card and no purchase yet
BGNBD_R, BGNBD_ALPHA_DAYS = 0.243, 5.0   # purchase rate while alive: lambda ~ Gamma(r, alpha) per (normal) day
BGNBD_A, BGNBD_B = 0.793, 2.426          # dropout after each repeat purchase: p ~ Beta(a, b)
MAX_RATE = 0.5                           # nobody buys more often than every other day on average
SPEND_P, SPEND_Q, SPEND_GAMMA = 6.25, 3.74, 926.0  # gamma-gamma spend: z ~ Gamma(p, nu), nu ~ Gamma(q, gamma)
DISCOUNT_HUNTERS = 0.06                  # of buyers: 70 % of their purchases at 35-70 % off
RETURNERS = 0.04                         # of buyers: 45 % of their orders at a distance come back (others 4 %)
RETURN_LOSS = 0.25                       # what a returned order still costs: shipping both ways, write-off
SUBSCRIBERS = 0.10                       # of buyers: a pass renewed with probability rho ~ U(0.55, 0.95)
SEASON = (  # (month, first day, last day, multiplier of the purchase rate)
    (12, 1, 14, 1.6), (12, 15, 31, 2.6), (1, 1, 10, 0.6), (2, 16, 22, 2.0), (3, 1, 7, 2.4),
)

# u(k, n) is uniform in [0, 1) from a hash of (k, seed, n); z(k, n) standard normal (Box-Muller); g(shape, k,
# n) Gamma(shape, 1) (Wilson-Hilferty, with Gamma(s) = Gamma(s + 1) * U^(1/s) below shape 1): all immutable,
# so the base depends only on the seed and the as-of date, never on the order rows are produced in.
RANDOM_FUNCTIONS_SQL = [
    "CREATE OR REPLACE FUNCTION pg_temp.u(bigint, integer) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    "RETURN ((hashint8extended($1, {seed} * 1000 + $2) & 281474976710655)::float8 / 281474976710656.0)",
    "CREATE OR REPLACE FUNCTION pg_temp.z(bigint, integer) RETURNS float8 LANGUAGE sql IMMUTABLE PARALLEL SAFE "
    "RETURN sqrt(-2 * ln(1 - pg_temp.u($1, $2))) * cos(2 * pi() * pg_temp.u($1, $2 + 500))",
    "CREATE OR REPLACE FUNCTION pg_temp.g(float8, bigint, integer) RETURNS float8 LANGUAGE sql IMMUTABLE "
    "PARALLEL SAFE RETURN ($1 + ($1 < 1)::int) "
    "* GREATEST(1 - 1 / (9 * ($1 + ($1 < 1)::int)) + pg_temp.z($2, $3) / (3 * sqrt($1 + ($1 < 1)::int)), 1e-3) ^ 3"
    " * CASE WHEN $1 < 1 THEN pg_temp.u($2, $3 + 700) ^ (1 / $1) ELSE 1 END",
]

# One row per client with the parameters of their process. Times are in "season days": a day counts as
# much as its multiplier, so a Poisson process in season days is busier in December in real days. S(x) maps
# real days since day 0 to season days, S^-1 back (piecewise linear over the day grid %(season)s).
BUYER_SQL = """
CREATE TEMP TABLE demo_buyer ON COMMIT DROP AS
SELECT c.id, c.created_at, x.s0, x.t_op, x.lambda, x.nu, x.hunter, x.returner,
       LEAST(4000, x.repeats_alive, ceil(x.lambda * x.t_op + 4 * sqrt(x.lambda * x.t_op) + 1.5))::int AS k,
       CASE WHEN pg_temp.u(c.id, 7) < %(subscribers)s THEN 1 + width_bucket(pg_temp.u(c.id, 8), ARRAY[0.5, 0.8, 0.95])
       END AS plan,
       0.55 + 0.4 * pg_temp.u(c.id, 9) AS renew
  FROM demo_client c
 CROSS JOIN LATERAL (SELECT extract(epoch FROM c.created_at - %(day0)s::timestamptz) / 86400 AS real0) AS r
 CROSS JOIN LATERAL (SELECT (%(season)s::float8[])[1 + floor(r.real0)::int]
                            + (r.real0 - floor(r.real0)) * (%(rate)s::float8[])[1 + floor(r.real0)::int] AS s0) AS s
 CROSS JOIN LATERAL (
     SELECT s.s0, %(end_op)s - s.s0 AS t_op,
            GREATEST(1e-9, LEAST(%(max_rate)s, pg_temp.g(%(r)s, c.id, 2) / %(alpha)s)) AS lambda,
            LEAST(1e6, GREATEST(1, ceil(ln(1 - pg_temp.u(c.id, 5))
                                        / ln(1 - LEAST(1 - 1e-12, GREATEST(1e-12, pg_temp.g(%(a)s, c.id, 3)
                                             / NULLIF(pg_temp.g(%(a)s, c.id, 3) + pg_temp.g(%(b)s, c.id, 4), 0))))))
                ) AS repeats_alive,
            GREATEST(pg_temp.g(%(q)s, c.id, 6), 0.05) / %(gamma)s AS nu,
            pg_temp.u(c.id, 10) < %(hunters)s AS hunter,
            pg_temp.u(c.id, 11) < %(returners)s AS returner
 ) AS x
 WHERE pg_temp.u(c.id, 1) >= %(never)s
"""

# Every purchase: the first on the day the card was made, the repeat ones a Poisson process in season days
# until the client drops out or the as-of date comes, and the renewals of a pass. Amounts come from the
# price list: the product whose price is nearest the gamma-gamma draw for this purchase.
PURCHASE_PLAN_SQL = """
CREATE TEMP TABLE demo_purchase ON COMMIT DROP AS
WITH repeat AS (
    -- The running sum is taken client by client, each over a sort of their own few gaps: one window
    -- partitioned by client sorted every client's gaps at once (about 630 MB at a million clients, past
    -- work_mem and onto disk; as fast at 200,000 clients, where that sort fitted in memory).
    SELECT b.id, g.i, b.s0, b.t_op, b.nu, b.hunter, b.returner, g.op
      FROM demo_buyer b
     CROSS JOIN LATERAL (
         SELECT i, sum(-ln(1 - pg_temp.u(b.id * 4096 + i, 50))) OVER (ORDER BY i) / b.lambda AS op
           FROM generate_series(1, b.k) AS i
     ) AS g
), event AS (
    -- Each event carries its buyer's parameters: joining them back to four million events cost a sort of them.
    SELECT id AS client_id, 0 AS i, created_at AS purchased_at, nu, hunter, returner FROM demo_buyer
    UNION ALL
    SELECT r.id, r.i, %(day0)s::timestamptz + make_interval(secs => 86400 * (
               w.k - 1 + (r.s0 + r.op - (%(season)s::float8[])[w.k]) / (%(rate)s::float8[])[w.k])),
           r.nu, r.hunter, r.returner
      FROM repeat r CROSS JOIN LATERAL (SELECT width_bucket(r.s0 + r.op, %(season)s::float8[]) AS k) AS w
     WHERE r.op < r.t_op
), ordinary AS (
    -- OFFSET 0 keeps the planner from pulling the subquery up, which copied the gamma draw into every
    -- expression that reads it (the product's hash key twice): it is computed once per event here.
    SELECT e.client_id, e.i, e.purchased_at, e.hunter, e.returner,
           pg_temp.g(%(p)s, e.client_id * 4096 + e.i, 51) / e.nu AS target,
           LEAST(5, 1 + floor(-ln(1 - pg_temp.u(e.client_id * 4096 + e.i, 52)) * 0.5))::int AS quantity,
           (ARRAY['shop', 'shop', 'shop', 'online', 'online', 'phone'])
               [1 + floor(pg_temp.u(e.client_id * 4096 + e.i, 53) * 6)::int] AS channel
      FROM event e
    OFFSET 0
), priced AS (
    SELECT o.*, q.quantity AS units,
           (%(ordinary_ids)s::int[])[LEAST(%(ordinary_count)s, GREATEST(1,
               width_bucket(o.target / q.quantity, %(ordinary_prices)s::float8[])
               + floor(pg_temp.u(o.client_id * 4096 + o.i, 54) * 5)::int - 2))] AS product_id,
           CASE WHEN o.hunter AND pg_temp.u(o.client_id * 4096 + o.i, 55) < 0.7
                THEN 0.35 + 0.35 * pg_temp.u(o.client_id * 4096 + o.i, 56)
                WHEN pg_temp.u(o.client_id * 4096 + o.i, 55) < 0.06
                THEN 0.1 + 0.2 * pg_temp.u(o.client_id * 4096 + o.i, 56)
                ELSE 0 END AS discount,
           o.channel <> 'shop' AND pg_temp.u(o.client_id * 4096 + o.i, 57)
               < CASE WHEN o.returner THEN 0.45 ELSE 0.04 END AS returned
      FROM ordinary o
     CROSS JOIN LATERAL (SELECT LEAST(10, GREATEST(o.quantity, ceil(o.target / %(top_price)s)))::int AS quantity) q
    OFFSET 0
), renewal AS (
    SELECT b.id AS client_id, 3000 + g.i AS i, pr.id AS product_id,
           b.created_at + make_interval(days => g.i * (pr.subscription_days + gap.days)) AS purchased_at
      FROM demo_buyer b
      JOIN product pr ON pr.id = b.plan
     CROSS JOIN LATERAL (SELECT floor(pg_temp.u(b.id, 12) * 10)::int AS days) AS gap
     CROSS JOIN LATERAL generate_series(1, LEAST(
               floor(ln(1 - pg_temp.u(b.id, 13)) / ln(b.renew)),
               floor(extract(epoch FROM %(as_of)s::timestamptz - b.created_at) / 86400
                     / (pr.subscription_days + gap.days)))::int) AS g(i)
     WHERE b.plan IS NOT NULL
), line AS (
    SELECT p.client_id, p.i, p.purchased_at, p.channel, p.product_id, p.units AS quantity,
           CASE WHEN p.returned THEN 0 ELSE round(pr.price * (1 - p.discount::numeric), 2) END AS unit_price,
           CASE WHEN p.returned THEN round(coalesce(pr.cost, 0) * %(return_loss)s::numeric, 2)
                ELSE coalesce(pr.cost, 0) END AS unit_cost,
           CASE WHEN p.returned THEN 'возврат: деньги возвращены' ELSE '' END AS note
      FROM priced p JOIN product pr ON pr.id = p.product_id
    UNION ALL
    -- The pass bought with the first purchase, then each renewal on the day the last one ended (plus a gap).
    SELECT b.id, 2999, b.created_at, 'shop', pr.id, 1, pr.price, coalesce(pr.cost, 0), ''
      FROM demo_buyer b JOIN product pr ON pr.id = b.plan
    UNION ALL
    SELECT r.client_id, r.i, r.purchased_at, 'shop', pr.id, 1, pr.price, coalesce(pr.cost, 0), ''
      FROM renewal r JOIN product pr ON pr.id = r.product_id
)
SELECT row_number() OVER (ORDER BY l.purchased_at, l.client_id, l.i) AS id, l.client_id, l.purchased_at,
       l.channel, l.product_id, l.quantity, l.unit_price, l.unit_cost,
       l.unit_price * l.quantity AS amount, l.unit_cost * l.quantity AS cost, l.note
  FROM line l
"""


def _season(as_of: date) -> tuple[date, list[float], list[float]]:
    """Day 0 (before the oldest card), the purchase-rate multiplier of every day from it to past the as-of
    date, and the season days elapsed at the start of each day (S at whole days)."""
    day0 = as_of - timedelta(days=3 * 365 + 3)
    rates: list[float] = []
    for offset in range((as_of - day0).days + 3):
        day = day0 + timedelta(days=offset)
        rates.append(next((rate for month, first, last, rate in SEASON
                           if day.month == month and first <= day.day <= last), 1.0))
    cumulative = [0.0]
    for rate in rates:
        cumulative.append(cumulative[-1] + rate)
    return day0, rates, cumulative


def is_empty(conn: psycopg.Connection) -> bool:
    return rows.value(conn.execute("SELECT NOT EXISTS (SELECT 1 FROM client)"))


def load(conn: psycopg.Connection, clients: int, seed: int = 1, as_of: date | None = None,
         progress: Callable[[str, int, int], None] | None = None, language: str | None = None) -> DemoResult:
    """Fills an empty base; runs as the database owner (it switches the audit triggers off for the load).
    The people, places and products speak `language`, by default the shop's `language` setting."""
    if not 1 <= clients <= 10_000_000:
        raise UserError(N_("The number of clients must be between 1 and 10,000,000."))
    as_of = as_of or date.today()
    started = time.monotonic()
    report = progress or (lambda stage, done, total: None)
    if not conn.autocommit:
        conn.commit()
        conn.autocommit = True  # the load is one transaction of its own; VACUUM after it needs autocommit
    with conn.transaction(), ExitStack() as stack:
        existing = rows.value(conn.execute("SELECT count(*) FROM client"))
        if existing:
            raise UserError(N_("The database already holds {count} clients; demo data goes into an empty base only "
                               "(use a fresh CLIENTBASE_HOME or database)."), count=existing)
        # Synthetic people are not edits by anyone, and their derived columns are computed set-based below,
        # so every user trigger (audit, statistics, search, notifications) is off for the load.
        for table in DEMO_TABLES:
            conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        _skip_foreign_key_checks_if_allowed(conn)
        # Building an index once over loaded rows is several times cheaper than growing it row by row.
        indexes = _drop_secondary_indexes(conn)
        for statement in RANDOM_FUNCTIONS_SQL:
            conn.execute(statement.format(seed=int(seed)))
        if language is None:
            language = rows.value(conn.execute("SELECT value FROM settings WHERE key = 'language'")) or "en"
        people = _People(seed, as_of, companies=max(1, clients // 100), language=language)
        _load_products(conn, language)
        report("companies", 0, clients)
        _copy_rows(conn, "COPY company (id, name, tax_id, industry, website) FROM STDIN",
                   (people.company(i) for i in range(1, people.companies + 1)))
        # Contacts and children are made with their person but can be copied only once the clients are in
        # their table (the foreign keys, for an owner who is not a superuser), so their COPY lines wait in
        # private temporary files, not in memory: a million people have two million contacts (350 MB of
        # Python strings when they were kept in lists).
        contacts = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
        relatives = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
        conn.execute(f"CREATE TEMP TABLE demo_client ON COMMIT DROP AS SELECT {CLIENT_COLUMNS} FROM client LIMIT 0")

        def client_rows() -> Iterator[list[object]]:
            for client_id in range(1, clients + 1):
                client, client_contacts, children = people.person(client_id)
                for row in client_contacts:
                    contacts.write(_copy_line(row) + "\n")
                for row in children:
                    relatives.write(_copy_line(row) + "\n")
                if client_id % 50_000 == 0:
                    report("clients", client_id, clients)
                yield client

        _copy_rows(conn, f"COPY demo_client ({CLIENT_COLUMNS}) FROM STDIN", client_rows())
        report("purchases", clients, clients)
        # The plan's window and sorts would spill to disk at the default 4 MB.
        conn.execute("SET LOCAL work_mem = '256MB'")
        parameters = _plan_parameters(as_of)
        conn.execute(BUYER_SQL, parameters)
        conn.execute(PURCHASE_PLAN_SQL, parameters)
        conn.execute(
            f"""
            INSERT INTO client ({CLIENT_COLUMNS}, purchase_count, total_spent, total_profit,
                                first_purchase_at, last_purchase_at, search)
            SELECT d.*, coalesce(s.n, 0), coalesce(s.spent, 0), coalesce(s.profit, 0), s.first_at, s.last_at,
                   cb_fold(concat_ws(' ', NULLIF(d.last_name, ''), NULLIF(d.first_name, ''),
                                     NULLIF(d.middle_name, ''), co.name))
              FROM demo_client d
              LEFT JOIN company co ON co.id = d.company_id
              LEFT JOIN (SELECT client_id, count(*) AS n, sum(amount) AS spent,
                                sum(amount - cost) AS profit,
                                min(purchased_at) AS first_at, max(purchased_at) AS last_at
                           FROM demo_purchase GROUP BY client_id) s ON s.client_id = d.id
            """
        )
        report("contacts", clients, clients)
        _copy_spool(conn, "COPY contact_point (client_id, kind, value, normalized, is_primary) FROM STDIN", contacts)
        _copy_spool(conn, "COPY relative (client_id, relation, name, gender, birth_date) FROM STDIN", relatives)
        conn.execute(
            """
            INSERT INTO purchase (id, client_id, purchased_at, channel, amount, cost, note, created_at, created_by,
                                  updated_at, updated_by)
            SELECT id, client_id, purchased_at, channel, amount, cost, note, purchased_at, 'demo', purchased_at,
                   'demo'
              FROM demo_purchase
            """
        )
        conn.execute(
            """
            INSERT INTO purchase_line (purchase_id, product_id, description, quantity, price, cost,
                                       created_at, created_by, updated_at, updated_by)
            SELECT d.id, pr.id, pr.name, d.quantity, d.unit_price, d.unit_cost, d.purchased_at, 'demo', d.purchased_at,
                   'demo'
              FROM demo_purchase d JOIN product pr ON pr.id = d.product_id
            """
        )
        conn.execute(
            """
            INSERT INTO subscription (client_id, product_id, purchase_id, starts_on, ends_on, created_by, updated_by)
            SELECT d.client_id, pr.id, d.id, d.purchased_at::date,
                   d.purchased_at::date + pr.subscription_days * d.quantity,
                   'demo', 'demo'
              FROM demo_purchase d JOIN product pr ON pr.id = d.product_id
             WHERE pr.subscription_days IS NOT NULL
            """
        )
        _advance_identity_sequences(conn)
        report("indexes", clients, clients)
        for definition in indexes:
            conn.execute(definition)
        for table in DEMO_TABLES:
            conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        purchases = rows.value(conn.execute("SELECT count(*) FROM purchase"))
    report("analyse", clients, clients)
    for table in ("client", "contact_point", "purchase", "purchase_line", "relative", "subscription"):
        conn.execute(f"VACUUM ANALYZE {table}")
    return DemoResult(clients=clients, purchases=purchases, seconds=time.monotonic() - started)


def _plan_parameters(as_of: date) -> dict[str, object]:
    day0, rates, season = _season(as_of)
    start = datetime(day0.year, day0.month, day0.day, tzinfo=timezone.utc)
    end = datetime(as_of.year, as_of.month, as_of.day, 20, tzinfo=timezone.utc)
    real_end = (end - start).total_seconds() / 86400
    whole = int(real_end)
    ordinary = sorted((price, n) for n, (_, _, _, price, _, days) in enumerate(PRODUCTS, start=1) if days is None)
    return {
        "as_of": end, "day0": start, "season": season, "rate": rates,
        "end_op": season[whole] + (real_end - whole) * rates[whole],
        "never": NEVER_BOUGHT, "r": BGNBD_R, "alpha": BGNBD_ALPHA_DAYS, "a": BGNBD_A, "b": BGNBD_B,
        "max_rate": MAX_RATE, "p": SPEND_P, "q": SPEND_Q, "gamma": SPEND_GAMMA, "hunters": DISCOUNT_HUNTERS,
        "returners": RETURNERS, "return_loss": RETURN_LOSS, "subscribers": SUBSCRIBERS,
        "ordinary_ids": [n for _, n in ordinary], "ordinary_prices": [float(price) for price, _ in ordinary],
        "ordinary_count": len(ordinary), "top_price": float(ordinary[-1][0]),
    }


def _load_products(conn: psycopg.Connection, language: str = "en") -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO product (id, sku, name, category, price, cost, subscription_days, created_by, updated_by)"
            " VALUES (%s, %s, %s, %s, %s, round(%s::numeric * %s::numeric, 2), %s, 'demo', 'demo')",
            [(n, sku, name, category, price, price, ratio, days)
             for n, (sku, name, category, price, ratio, days) in enumerate(product_rows(language), start=1)],
        )


IDENTITY_COLUMNS_SQL = """
SELECT format('%I.%I', n.nspname, c.relname) AS table_name, quote_ident(a.attname) AS column_name,
       pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) AS sequence
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE a.attidentity <> '' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
   AND n.nspname = current_schema()
"""


def _advance_identity_sequences(conn: psycopg.Connection) -> None:
    """The load writes its ids itself; every identity sequence (read from the catalog, so that a table added
    later is not forgotten, as the product table once was) must then start after the largest id, or the first
    row a user adds collides with a demo row."""
    for identity in rows.dicts(conn.execute(IDENTITY_COLUMNS_SQL)):
        column = identity["column_name"]
        conn.execute(f"SELECT setval(%s, coalesce(max({column}), 1), max({column}) IS NOT NULL) "
                     f"FROM {identity['table_name']}", (identity["sequence"],))


def _skip_foreign_key_checks_if_allowed(conn: psycopg.Connection) -> None:
    """The generated rows reference each other correctly by construction; a superuser (the embedded
    server's owner) may skip the per-row foreign key checks, anyone else just pays for them."""
    try:
        with conn.transaction():
            conn.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        pass


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drops the indexes of the demo tables that back no constraint; returns the statements that rebuild them."""
    indexes = rows.dicts(conn.execute(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
          FROM pg_index i
         WHERE i.indrelid = ANY(%s::regclass[])
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        """,
        (list(DEMO_TABLES),),
    ))
    for index in indexes:
        conn.execute(f"DROP INDEX {index['name']}")
    return [index["definition"] for index in indexes]


def _copy_line(row: list[object]) -> str:
    # Most rows need no escaping: join them as they are (NUL standing in for NULL, as no PostgreSQL text
    # can hold one), and escape value by value only when the joined line shows a character COPY reserves.
    # A million clients make three million lines, and this halves what writing them costs.
    line = "\t".join(["\0" if value is None else str(value) for value in row])
    if line.count("\t") == len(row) - 1 and "\\" not in line and "\n" not in line and "\r" not in line:
        return line.replace("\0", "\\N")
    return "\t".join(map(_copy_text, row))


def _copy_spool(conn: psycopg.Connection, statement: str, spool: IO[str]) -> None:
    spool.seek(0)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        while chunk := spool.read(1 << 16):  # COPY's data messages need not end at a row
            copy.write(chunk)


COPY_BATCH = 20_000  # lines sent to COPY at a time: what the Python side holds at most, whatever the base's size


def _copy_rows(conn: psycopg.Connection, statement: str, rows) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        buffer: list[str] = []
        for row in rows:
            buffer.append(_copy_line(row))
            if len(buffer) >= COPY_BATCH:
                copy.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            copy.write("\n".join(buffer) + "\n")
