"""Merging two cards of one person: everything moves, empty fields are filled, the other card is gone,
and the audit log holds every step under the administrator's login."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from textual.widgets import Input

from db.card import activity as card_activity

from db.card import cards

from db.card import merge
from db.card.draft import CardDraft, ContactDraft, RelativeDraft
from db.errors import ConflictError, ValidationError
from screens.confirm import ConfirmScreen
from tests.card_helpers import CardApp, make_client
from tests.pilot import settle


def _other() -> cards.Card:
    draft = CardDraft(last_name="Петрова", first_name="Аня", city="Казань", tags="йога",
                      consent_sms=True, consent_sms_source="shop form",
                      contacts=(ContactDraft(None, "mobile", "+7 912 345-67-89", True),
                                ContactDraft(None, "mobile", "+7 903 000 11 22", False),
                                ContactDraft(None, "telegram", "@anya", True)),
                      relatives=(RelativeDraft(None, "child", "Петя", "m", "02.02.2018"),))
    other = cards.save_card(cards.load_card(None), draft)
    card_activity.add_purchase(other.id, datetime(2024, 3, 1, 12, tzinfo=timezone.utc), "shop",
                               [(None, "Крем", Decimal(1), Decimal("700"))])
    card_activity.add_subscription(other.id, None, date(2024, 3, 1), date(2025, 3, 1))
    card_activity.add_interaction(other.id, "call", "Asked for a discount")
    card_activity.add_reminder(other.id, date(2025, 6, 1), "Birthday gift")
    return other


def test_merge_moves_everything_and_fills_empty_fields(admin_session):
    keep = make_client(tags="фитнес")
    other = _other()
    merged = merge.merge_cards(keep, other.id)
    assert merged.version == keep.version + 1
    assert merged.draft.city == "Казань" and merged.draft.first_name == "Анна"
    assert merged.draft.tags == "йога, фитнес"
    assert merged.draft.consent_sms and merged.draft.consent_sms_source == "shop form"
    # The shared phone is not doubled, and the kept card's primary mobile stays the primary one.
    contacts = sorted((c.kind, c.normalized, c.is_primary) for c in merged.contacts)
    assert contacts == [("email", "anna.petrova@mail.ru", True), ("mobile", "+79030001122", False),
                        ("mobile", "+79123456789", True), ("telegram", "@anya", True)]
    assert sorted(r.name for r in merged.draft.relatives) == ["Маша", "Петя"]
    assert merged.purchase_count == 1 and merged.total_spent == Decimal("700.00")
    assert len(merged.subscriptions) == len(merged.interactions) == len(merged.reminders) == 1
    with admin_session.connect(autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM client WHERE id = %s", (other.id,)).fetchone()[0] == 0
        logged = conn.execute(
            "SELECT table_name, action, login FROM audit_log WHERE at >= (SELECT max(at) FROM audit_log "
            "WHERE table_name = 'client' AND action = 'update' AND row_id = %s) ORDER BY id",
            (str(keep.id),)).fetchall()
    actions = {(table, action) for table, action, _ in logged}
    assert {("client", "update"), ("contact_point", "update"), ("contact_point", "delete"),
            ("purchase", "update"), ("relative", "update"), ("interaction", "update"),
            ("reminder", "update"), ("subscription", "update"), ("client", "delete")} <= actions
    assert {login for _, _, login in logged} == {"t_admin"}


def test_merge_refuses_a_stale_card_and_itself(admin_session):
    keep = make_client()
    other = _other()
    with pytest.raises(ValidationError):
        merge.merge_cards(keep, keep.id)
    cards.save_card(keep, replace(keep.draft, notes="changed meanwhile"))
    with pytest.raises(ConflictError):
        merge.merge_cards(keep, other.id)
    assert cards.load_card(other.id).id == other.id


async def test_an_admin_merges_from_the_card(admin_session):
    keep = make_client()
    other = _other()
    app = CardApp("admin", keep.id)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        await pilot.press(*"Аня")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.card_screen.query_one("#f-city", Input).value == "Казань"
    assert cards.load_card(keep.id).purchase_count == 1
    with admin_session.connect(autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM client WHERE id = %s", (other.id,)).fetchone()[0] == 0
