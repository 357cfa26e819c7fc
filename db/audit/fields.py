"""An audit row said in words: the table and the action by name, and each changed field with its label, its old
value beside its new one. The client's fields reuse the card's labels (db/labels.py); a column no table below
names yet (one a later migration adds) is shown by its column name rather than hidden."""

from __future__ import annotations

import json
from dataclasses import dataclass

from db import labels
from db.audit.reads import Entry
from db.i18n import N_, t

TABLE = {
    "client": N_("Client"),
    "contact_point": N_("Contact"),
    "relative": N_("Relative"),
    "company": N_("Company"),
    "product": N_("Product"),
    "purchase": N_("Purchase"),
    "purchase_line": N_("Purchase line"),
    "subscription": N_("Subscription"),
    "interaction": N_("Interaction"),
    "reminder": N_("Reminder"),
    "custom_field": N_("Custom field"),
    "segment": N_("Segment"),
    "template": N_("Template"),
    "campaign": N_("Campaign"),
    "campaign_variant": N_("Campaign variant"),
    "message": N_("Message"),
    "suppression": N_("Suppression"),
    "settings": N_("Setting"),
    # Written by the app's logins screen (db/admin/logins.py): role changes fire no trigger.
    "login": N_("Login"),
}

ACTION = {
    "insert": N_("added"),
    "update": N_("changed"),
    "delete": N_("deleted"),
    # A data-subject request (db/admin/clients.forget): the row says who, whom and when, never what.
    "forget": N_("forgotten (personal data erased)"),
}

# Labels of the columns of every audited table but the client's (labels.CARD_F): one word per column name,
# which means the same thing in every table that has it.
COLUMN = {
    "client_id": N_("Client"),
    "can_login": N_("May connect"),
    "role": N_("Role"),
    "password": N_("Password"),
    "kind": N_("Kind"),
    "value": N_("Value"),
    "normalized": N_("Normalised value"),
    "is_primary": N_("Primary"),
    "note": N_("Note"),
    "relation": N_("Relation"),
    "name": N_("Name"),
    "sku": N_("Article"),
    "category": N_("Category"),
    "price": N_("Price"),
    "cost": N_("Cost"),
    "subscription_days": N_("Subscription days"),
    "active": N_("Active"),
    "purchased_at": N_("Purchase date"),
    "channel": N_("Channel"),
    "amount": N_("Amount"),
    "external_key": N_("External key"),
    "purchase_id": N_("Purchase"),
    "product_id": N_("Product"),
    "description": N_("Description"),
    "quantity": N_("Quantity"),
    "starts_on": N_("From"),
    "ends_on": N_("Until"),
    "happened_at": N_("When"),
    "author": N_("Author"),
    "text": N_("Text"),
    "outcome": N_("Outcome"),
    "due_on": N_("Due"),
    "assignee": N_("Assignee"),
    "done": N_("Done"),
    "done_at": N_("Done at"),
    "tax_id": N_("Tax id"),
    "industry": N_("Industry"),
    "website": N_("Website"),
    "label": N_("Label"),
    "type": N_("Type"),
    "choices": N_("Choices"),
    "position": N_("Place in the order"),
    "filter": N_("Filter"),
    "subject": N_("Subject"),
    "body": N_("Text of the message"),
    "cta_url": N_("Call-to-action link"),
    "purpose": N_("Purpose"),
    "segment_id": N_("Segment"),
    "status": N_("Status"),
    "scheduled_at": N_("Scheduled for"),
    "campaign_id": N_("Campaign"),
    "template_id": N_("Template"),
    "weight": N_("Weight"),
    "address": N_("E-mail or phone"),
    "reason": N_("Reason"),
    "key": N_("Setting"),
    "birth_date": N_("Birth date"),
    "gender": N_("Gender"),
    "custom": N_("Custom fields"),
    "kind_of_client": N_("Person or company"),
    "consent_email_at": N_("E-mail consent given"),
    "consent_sms_at": N_("SMS consent given"),
    "company_id": N_("Company"),
    # A bulk insert's summary row.
    "rows": N_("Rows"),
    "first_id": N_("First number"),
    "last_id": N_("Last number"),
}

# Enumerated columns: the code the database stores (English, for queries and checks) said by its label, as the
# screens that edit it say it. A code no table here knows (a value a later migration allows) is shown as stored.
_MAILING = {"channel": labels.MAILING_CHANNEL, "purpose": labels.CAMPAIGN_PURPOSE}
CODES: dict[str, dict[str, dict]] = {
    "client": {"kind": labels.CLIENT_KIND, "gender": labels.CLIENTS_GENDER, "category": labels.CLIENTS_CATEGORY},
    "relative": {"relation": labels.CARD_RELATION, "gender": labels.CLIENTS_GENDER},
    "contact_point": {"kind": labels.CARD_KIND},
    "interaction": {"kind": labels.CARD_INTERACTION},
    "custom_field": {"type": labels.CARD_FIELDS_TYPE},
    "purchase": {"channel": labels.CARD_CHANNEL},
    "template": _MAILING,
    "campaign": {**_MAILING, "status": labels.CAMPAIGN_STATUS},
    "message": {"channel": labels.MAILING_CHANNEL, "status": labels.MESSAGE_STATE,
                "skip_reason": labels.SKIP_REASON},
    "suppression": {"channel": labels.MAILING_CHANNEL, "reason": labels.SUPPRESSION_REASON},
    "trigger_campaign": {"trigger": labels.TRIGGER},
    "trigger_occasion": {"trigger": labels.TRIGGER},
    "login": {"role": labels.ROLE},
}

# Who and when a row was made: the audit row itself says that.
HIDDEN = frozenset({"id", "created_at", "created_by", "version", "updated_at", "updated_by"})


@dataclass(frozen=True)
class FieldChange:
    column: str
    label: str  # a message id: translate where shown
    # As shown, an enumerated code already said in the current language (CODES).
    old: str
    new: str


def field_label(table_name: str, column: str) -> str:
    if table_name == "client":
        if column == "kind":
            return COLUMN["kind_of_client"]
        if column in labels.CARD_F:
            return labels.CARD_F[column]
    return COLUMN.get(column, column)


def shown(value: object) -> str:
    """A stored value as text: empty for none, lists comma-separated, objects as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def value_shown(table_name: str, column: str, value: object) -> str:
    """A stored value as text in the current language: an enumerated column's code by its label."""
    codes = CODES.get(table_name, {}).get(column)
    if codes is not None and isinstance(value, str) and value in codes:
        return t(codes[value])
    return shown(value)


def changes(entry: Entry) -> list[FieldChange]:
    """The row's fields, old beside new: for an insert the new values, for a delete the old ones, for an update
    only what changed (the log keeps only that)."""
    old, new = entry.old_values or {}, entry.new_values or {}
    columns = [column for column in (*old, *(key for key in new if key not in old)) if column not in HIDDEN]
    table = entry.table_name
    return [FieldChange(column, field_label(table, column), value_shown(table, column, old.get(column)),
                        value_shown(table, column, new.get(column)))
            for column in columns
            if entry.action != "insert" or new.get(column) not in (None, "", [], {})]
