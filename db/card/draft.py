"""The editable part of a card, as the editor holds it, and the field-by-field comparison of two drafts
that the conflict dialog shows."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

RELATIONS = ("child", "spouse", "parent", "other")


@dataclass(frozen=True)
class ContactDraft:
    id: int | None
    kind: str
    value: str
    is_primary: bool = False
    note: str = ""


@dataclass(frozen=True)
class RelativeDraft:
    id: int | None
    relation: str
    name: str
    gender: str = ""
    birth_date: str = ""
    note: str = ""


@dataclass(frozen=True)
class CardDraft:
    """The editable part of a card, as the editor holds it: text as typed, dates in the shop's order."""

    last_name: str = ""
    first_name: str = ""
    middle_name: str = ""
    gender: str = ""
    birth_date: str = ""
    company: str = ""
    position: str = ""
    region: str = ""
    city: str = ""
    address: str = ""
    postal_address: str = ""
    source: str = ""
    referred_by_id: int | None = None
    referred_by_name: str = field(default="", compare=False)
    assigned_to: str = ""
    tags: str = ""
    notes: str = ""
    consent_email: bool = False
    consent_email_source: str = ""
    consent_sms: bool = False
    consent_sms_source: str = ""
    custom: tuple[tuple[str, str], ...] = ()
    contacts: tuple[ContactDraft, ...] = ()
    relatives: tuple[RelativeDraft, ...] = ()

    def custom_value(self, name: str) -> str:
        return dict(self.custom).get(name, "")

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part) or self.company


def changed_fields(mine: CardDraft, theirs: CardDraft) -> list[str]:
    """Names of the fields that differ; each custom field counts as one field ("custom.NAME")."""
    names = [f.name for f in fields(CardDraft) if f.compare and f.name != "custom"
             and getattr(mine, f.name) != getattr(theirs, f.name)]
    keys = sorted(set(dict(mine.custom)) | set(dict(theirs.custom)))
    names += [f"custom.{key}" for key in keys if mine.custom_value(key) != theirs.custom_value(key)]
    return names


def take_fields(base: CardDraft, source: CardDraft, names: list[str]) -> CardDraft:
    """`base` with the named fields copied from `source` (a field-by-field merge)."""
    plain = {name: getattr(source, name) for name in names if not name.startswith("custom.")}
    if "referred_by_id" in plain:
        plain["referred_by_name"] = source.referred_by_name
    custom = dict(base.custom)
    for name in names:
        if name.startswith("custom."):
            key = name.removeprefix("custom.")
            custom[key] = source.custom_value(key)
    return replace(base, **plain, custom=tuple(sorted(custom.items())))
