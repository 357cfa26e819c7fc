"""Templates in a Jinja2 sandbox: checked when saved, rendered per recipient, never with a hole.

Headless: the delivery workers and the CLI use it under cron, so it imports neither Textual nor screens.

A value the client lacks is not in the context at all; using it without a default raises `MissingValue`,
and the caller skips that recipient with the reason "missing first_name". `{{ x | default("...") }}`
and `{% if x %}` work on it as on any undefined value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment

# The client's fields a template may use; custom fields come as `custom.<name>`.
# What a trigger's message adds (message.extra, db/mailing/triggers.py): a child's name and age, the product
# and end date of a subscription, the holiday. A campaign's template may name them too; a recipient without
# them is then skipped like any recipient lacking a value.
TRIGGER_FIELDS = ("child_name", "child_age", "product", "end_date", "holiday", "days_left")
FIELDS = ("first_name", "middle_name", "last_name", "full_name", "greeting", "birthday", "city",
          "favourite_product", "total_spent", "unsubscribe_url", "cta_url", "cta_label") + TRIGGER_FIELDS
CUSTOM = "custom"
GREETINGS = {"m": "Уважаемый", "f": "Уважаемая"}
# Attributes that lead from a value to Python's internals; the sandbox refuses them when rendering, the save
# refuses them earlier, with the line.
_UNSAFE_ATTRIBUTES = {"mro", "format", "format_map", "func_globals", "gi_frame", "gi_code", "cr_frame",
                      "f_globals", "f_locals", "f_back", "tb_frame"}
GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENDED = set("^{}\\[~]|€\f")


class MissingValue(Exception):
    """The recipient lacks a value the template uses without a default."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"missing {name}")

    @property
    def reason(self) -> str:
        return f"missing {self.name}"


@dataclass(frozen=True)
class Problem:
    """A reason a template cannot be saved, with the line it is on (1-based) and the part it is in."""

    part: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.part}, line {self.line}: {self.reason}"


class TemplateProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


class _CustomFields(dict):
    """The client's custom values; a distinct type so that a missing one is named `custom.<name>`."""


class _Missing(StrictUndefined):
    """Undefined that may be tested (`if`, `is defined`, `default`) but never printed or computed with."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        name = self._undefined_name or "value"
        if isinstance(self._undefined_obj, _CustomFields):
            name = f"{CUSTOM}.{name}"
        raise MissingValue(name)

    def __bool__(self) -> bool:  # type: ignore[override]
        return False

    __str__ = __iter__ = __len__ = __eq__ = __ne__ = __hash__ = _fail_with_undefined_error  # type: ignore


def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=_Missing, autoescape=autoescape, keep_trailing_newline=True)


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


@dataclass(frozen=True)
class TemplateText:
    """What the administrator wrote: the subject and CTA apply to e-mail only."""

    channel: str
    body: str
    subject: str = ""
    html: str = ""
    cta_label: str = ""
    cta_url: str = ""

    def parts(self) -> list[tuple[str, str, bool]]:
        """(part name, source, is HTML) for every part that holds text."""
        found = [("body", self.body, False)]
        if self.channel == "email":
            found += [("subject", self.subject, False), ("cta", self.cta_url, False), ("html", self.html, True)]
        return [(name, source, html) for name, source, html in found if source]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@dataclass(frozen=True)
class Client:
    """The client as a template sees it; None or an empty string means "the client lacks it"."""

    first_name: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    gender: str | None = None
    birthday: date | None = None
    city: str | None = None
    favourite_product: str | None = None
    total_spent: Decimal | None = None
    custom: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)


def context(client: Client, unsubscribe_url: str = "", cta_label: str = "", cta_url: str = "") -> dict[str, Any]:
    full_name = " ".join(part for part in (client.first_name, client.middle_name, client.last_name) if part)
    values: dict[str, Any] = {
        "first_name": client.first_name, "middle_name": client.middle_name, "last_name": client.last_name,
        "full_name": full_name, "greeting": GREETINGS.get(client.gender or ""), "birthday": client.birthday,
        "city": client.city, "favourite_product": client.favourite_product, "total_spent": client.total_spent,
        "unsubscribe_url": unsubscribe_url, "cta_url": cta_url, "cta_label": cta_label,
        **{name: client.extra.get(name) for name in TRIGGER_FIELDS},
    }
    present = {name: value for name, value in values.items() if value not in (None, "")}
    present[CUSTOM] = _CustomFields({k: v for k, v in client.custom.items() if v not in (None, "")})
    return present


@functools.lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    # Compiling was most of a message's rendering, and a campaign renders one template for every client.
    return (_HTML if html else _TEXT).from_string(source)


def _render_one(source: str, values: Mapping[str, Any], html: bool = False) -> str:
    return _compiled(source, html).render(values)


def render(template: TemplateText, client: Client, unsubscribe_url: str = "") -> Rendered:
    """The message for one client; raises MissingValue when a value the template needs is absent."""
    cta_url = _render_one(template.cta_url, context(client, unsubscribe_url)) if template.cta_url else ""
    values = context(client, unsubscribe_url, template.cta_label, cta_url)
    subject = _render_one(template.subject, values) if template.subject else ""
    return Rendered(
        subject=" ".join(subject.split()),  # a subject is one line, whatever the template's line breaks
        text=_render_one(template.body, values),
        html=_render_one(template.html, values, html=True) if template.html else None,
    )


# --- checks when saving ------------------------------------------------------------------------------

# A preview shows a trigger's template with these in place of what the trigger would give.
SAMPLE_EXTRA = {"child_name": "Маша", "child_age": 7, "product": "Абонемент", "end_date": "09.03.2026",
                "holiday": "8 Марта", "days_left": 3}
_SAMPLE = Client(first_name="Анна", middle_name="Сергеевна", last_name="Иванова", gender="f",
                 birthday=date(1990, 3, 8), city="Москва", favourite_product="Кофе", total_spent=Decimal("1234.50"),
                 extra=SAMPLE_EXTRA)


def _ast_problems(part: str, source: str, custom_fields: set[str], html: bool) -> list[Problem]:
    env = _HTML if html else _TEXT
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        return [Problem(part, exc.lineno or 1, f"syntax error: {exc.message}")]
    problems = []
    assigned = {target.name for target in tree.find_all(nodes.Name) if target.ctx in ("store", "param")}
    for name in tree.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in FIELDS and name.name != CUSTOM and name.name not in assigned:
            problems.append(Problem(part, name.lineno, f"unknown variable {name.name!r}"))
    access: Any
    for access in tree.find_all((nodes.Getattr, nodes.Getitem)):
        attribute = access.attr if isinstance(access, nodes.Getattr) else (
            access.arg.value if isinstance(access.arg, nodes.Const) else None)
        if isinstance(attribute, str) and (attribute.startswith("_") or attribute in _UNSAFE_ATTRIBUTES):
            problems.append(Problem(part, access.lineno, f"unsafe attribute access {attribute!r}"))
        elif isinstance(access.node, nodes.Name) and access.node.name == CUSTOM and attribute not in custom_fields:
            problems.append(Problem(part, access.lineno, f"unknown custom field {attribute!r}"))
    return problems


def check(template: TemplateText, custom_fields: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """Raises TemplateProblems, or returns the fields the template needs (used without a default).

    A field is needed when rendering for a client who has everything but that field fails, so
    `{% if city %}` or `| default(...)` make a field optional without any rule of ours about them.
    """
    problems: list[Problem] = []
    if template.channel == "email" and not template.subject.strip():
        problems.append(Problem("subject", 1, "an e-mail needs a subject"))
    if not template.body.strip():
        problems.append(Problem("body", 1, "the text is empty"))
    for part, source, html in template.parts():
        problems += _ast_problems(part, source, set(custom_fields), html)
    if problems:
        raise TemplateProblems(problems)
    sample = Client(**{**_SAMPLE.__dict__, "custom": {name: "x" for name in custom_fields}})
    try:
        render(template, sample, "https://example.invalid/u")
    except SecurityError as exc:
        raise TemplateProblems([Problem("template", 1, f"unsafe attribute access: {exc}")]) from None
    except MissingValue:
        pass  # a template that needs everything still renders for someone; the loop below names it
    except TemplateError as exc:
        raise TemplateProblems([Problem("template", 1, str(exc))]) from None
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblems([Problem("template", 1, f"cannot compute: {exc}")]) from None
    needed = []
    # A trigger's values are the trigger's to give, not the client's: they never make a field "needed".
    for name in [f for f in FIELDS if f not in ("unsubscribe_url", "cta_url", "cta_label") + TRIGGER_FIELDS] + \
            [f"{CUSTOM}.{n}" for n in sorted(custom_fields)]:
        try:
            render(template, _without(sample, name), "https://example.invalid/u")
        except MissingValue as exc:
            if exc.name == name:
                needed.append(name)
    return needed


def _without(client: Client, name: str) -> Client:
    if name.startswith(f"{CUSTOM}."):
        custom = dict(client.custom)
        custom.pop(name.split(".", 1)[1], None)
        return Client(**{**client.__dict__, "custom": custom})
    if name == "greeting":
        return Client(**{**client.__dict__, "gender": None})
    if name == "full_name":
        return Client(**{**client.__dict__, "first_name": None, "middle_name": None, "last_name": None})
    if name in client.__dict__:
        return Client(**{**client.__dict__, name: None})
    return client


# --- SMS length --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SmsLength:
    characters: int
    segments: int
    encoding: str  # "GSM-7" or "UCS-2"
    per_segment: int


def sms_length(text: str) -> SmsLength:
    """Characters and segments as a phone counts them: GSM-7 160 (153 when split), UCS-2 70 (67)."""
    if all(ch in GSM7 or ch in GSM7_EXTENDED for ch in text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        # UTF-16 code units: a character outside the BMP (an emoji) takes two.
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 0 if units == 0 else 1 if units <= single else -(-units // multi)
    return SmsLength(units, segments, encoding, single if segments <= 1 else multi)
