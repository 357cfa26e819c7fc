"""db/card/cards.py against a real database: loading a whole card without N+1, saving under optimistic locking,
validation with a reason per field, duplicates, and the read-only roles refused by PostgreSQL itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from playhouse.test_utils import assert_query_count

from db import session
from db.card import activity as card_activity

from db.card import cards

from db.card import custom_fields
from db.card.draft import CardDraft, ContactDraft, RelativeDraft
from db.errors import ConflictError, UserError, ValidationError
from db.i18n import N_


def _new_client(**overrides) -> cards.Card:
    blank = cards.load_card(None)
    draft = replace(CardDraft(last_name="Петрова", first_name="Анна", birth_date="12.03.1985",
                              contacts=(ContactDraft(None, "mobile", "8 912 345-67-89", True),
                                        ContactDraft(None, "email", "Anna.Petrova@Mail.RU", True)),
                              relatives=(RelativeDraft(None, "child", "Маша", "f", "01.06.2015"),)),
                    **overrides)
    return cards.save_card(blank, draft)


def test_a_new_card_is_saved_normalised_and_loads_back(admin_session):
    card = _new_client()
    assert card.id is not None and card.version == 1
    assert card.draft.birth_date == "12.03.1985"
    assert {(c.kind, c.normalized) for c in card.contacts} == {("mobile", "+79123456789"),
                                                              ("email", "anna.petrova@mail.ru")}
    assert card.draft.relatives[0].birth_date == "01.06.2015"
    assert card.category == "potential"


def test_loading_a_card_costs_a_fixed_number_of_queries(admin_session):
    with admin_session.connect(autocommit=True) as conn:
        from db import demo
        demo.load(conn, 200, seed=1)
        busiest = conn.execute("SELECT client_id FROM purchase GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    with assert_query_count(11):
        card = cards.load_card(busiest)
    assert len(card.purchases) >= 2 and all(p.lines for p in card.purchases)
    with assert_query_count(11):
        cards.load_card(1)


def test_saving_bumps_the_version_even_for_a_contact_only_change(admin_session):
    card = _new_client()
    draft = replace(card.draft, contacts=card.draft.contacts + (ContactDraft(None, "telegram", "@anna"),))
    saved = cards.save_card(card, draft)
    assert saved.version == card.version + 1
    assert any(c.kind == "telegram" and c.normalized == "@anna" for c in saved.contacts)


def test_a_stale_save_raises_a_conflict_carrying_the_current_card(admin_session):
    card = _new_client()
    with admin_session.connect("admin", autocommit=True) as conn:
        conn.execute("UPDATE client SET notes = 'from psql' WHERE id = %s", (card.id,))
    with pytest.raises(ConflictError) as caught:
        cards.save_card(card, replace(card.draft, notes="mine"))
    current = caught.value.current
    assert current.draft.notes == "from psql" and current.version == card.version + 1
    assert cards.load_card(card.id).draft.notes == "from psql"
    # Saving over the current version is a deliberate choice ("keep mine") and succeeds.
    assert cards.save_card(current, replace(current.draft, notes="mine")).draft.notes == "mine"


def test_swapping_the_primary_contact_of_a_kind(admin_session):
    card = _new_client()
    first = card.draft.contacts[0]
    draft = replace(card.draft, contacts=(replace(first, is_primary=False),) + card.draft.contacts[1:]
                    + (ContactDraft(None, "mobile", "+7 903 111 22 33", True),))
    saved = cards.save_card(card, draft)
    assert [c.normalized for c in saved.contacts if c.kind == "mobile" and c.is_primary] == ["+79031112233"]


@pytest.mark.parametrize("change, field, key", [
    (dict(last_name="", first_name=""), "last_name", N_("A last or first name is required.")),
    (dict(birth_date="01.01.2999"), "birth_date", N_("A birth date cannot be in the future.")),
    (dict(birth_date="31.02.1990"), "birth_date", N_("Expected a date such as 31.12.1985 or 1985-12-31.")),
    (dict(contacts=(ContactDraft(None, "email", "not an address"),)), "contact.0.value",
     N_("This is not a valid e-mail address: {reason}.")),
    (dict(contacts=(ContactDraft(None, "mobile", "12"),)), "contact.0.value", N_("This is not a valid phone number.")),
    (dict(contacts=(ContactDraft(None, "mobile", "+79123456789", True),
                    ContactDraft(None, "mobile", "+79031112233", True))), "contact.1.is_primary",
     N_("Only one {kind} contact can be the primary one.")),
])
def test_invalid_drafts_are_refused_with_a_reason_per_field(admin_session, change, field, key):
    blank = cards.load_card(None)
    draft = replace(CardDraft(last_name="Test"), **change)
    problems = cards.check(blank, draft)
    assert (problems[0].field, problems[0].key) == (field, key)
    with pytest.raises(ValidationError):
        cards.save_card(blank, draft)


def test_phones_use_the_phone_country_setting(admin_session):
    from db import settings
    settings.set_value("phone_country", "MD")
    card = _new_client(contacts=(ContactDraft(None, "mobile", "069123456", True),))
    assert card.contacts[0].normalized == "+37369123456"


def test_duplicates_are_found_by_normalised_phone_or_email(admin_session):
    existing = _new_client()
    blank = cards.load_card(None)
    draft = CardDraft(last_name="Другая", contacts=(ContactDraft(None, "email", "ANNA.PETROVA@mail.ru"),))
    found = cards.find_duplicates(blank, draft)
    assert [d.client_id for d in found] == [existing.id]
    assert cards.find_duplicates(existing, existing.draft) == []


def test_custom_fields_are_typed_and_stored_as_json(admin_session):
    custom_fields.create_definition("shoe_size", "Shoe size", "number")
    custom_fields.create_definition("vip", "VIP", "bool")
    custom_fields.create_definition("colour", "Colour", "choice", ["red", "blue"])
    custom_fields.create_definition("visit", "First visit", "date")
    card = _new_client()
    draft = replace(card.draft, custom=(("colour", "blue"), ("shoe_size", "38,5"), ("vip", "yes"),
                                        ("visit", "01.02.2020")))
    saved = cards.save_card(card, draft)
    with admin_session.connect(autocommit=True) as conn:
        stored = conn.execute("SELECT custom FROM client WHERE id = %s", (card.id,)).fetchone()[0]
    assert stored == {"colour": "blue", "shoe_size": 38.5, "vip": True, "visit": "2020-02-01"}
    assert saved.draft.custom_value("visit") == "01.02.2020"
    bad = cards.check(saved, replace(saved.draft, custom=(("colour", "green"),)))
    assert bad[0].field == "custom.colour"


def test_activity_is_added_and_reminders_ticked(admin_session):
    card = _new_client()
    products = card_activity.products()
    card_activity.add_purchase(card.id, datetime(2025, 1, 5, 12, tzinfo=timezone.utc), "shop",
                               [(products[0].id if products else None, "Крем", Decimal(2), Decimal("450.00"))])
    card_activity.add_subscription(card.id, None, date(2025, 1, 1), date(2025, 12, 31))
    card_activity.add_interaction(card.id, "call", "Asked about the new collection", "call back in May")
    reminder = card_activity.add_reminder(card.id, date(2025, 5, 1), "Call back")
    card_activity.set_reminder_done(reminder)
    loaded = cards.load_card(card.id)
    assert loaded.purchase_count == 1 and loaded.total_spent == Decimal("900.00")
    assert loaded.purchases[0].lines[0].quantity == 2
    assert loaded.favourites[0].times == 1
    assert loaded.subscriptions[0].ends_on == date(2025, 12, 31)
    assert loaded.interactions[0].outcome == "call back in May"
    assert loaded.reminders[0].done and loaded.reminders[0].done_at is not None


@pytest.mark.parametrize("role", ["sales", "manager"])
def test_a_read_only_login_is_refused_by_the_database_in_one_sentence(admin_session, role):
    card = _new_client()
    session.bind(admin_session.target(role))
    as_seen = cards.load_card(card.id)
    with pytest.raises(UserError) as caught:
        cards.save_card(as_seen, replace(as_seen.draft, notes="sneaky"))
    assert caught.value.key == N_("Your login is read-only: only an administrator may change client data.")
    with pytest.raises(UserError):
        card_activity.add_interaction(card.id, "note", "sneaky")
    with admin_session.connect(autocommit=True) as conn:
        assert conn.execute("SELECT notes FROM client WHERE id = %s", (card.id,)).fetchone()[0] == ""


def test_a_save_notifies_listeners_of_the_client(admin_session):
    card = _new_client()
    with admin_session.connect("sales", autocommit=True) as listener:
        listener.execute("LISTEN client_changed")
        cards.save_card(card, replace(card.draft, notes="ping"))
        payloads = {n.payload for n in listener.notifies(timeout=2, stop_after=1)}
    assert str(card.id) in payloads


def test_an_old_contact_that_todays_rules_reject_does_not_block_saving(admin_session):
    card = _new_client()
    with admin_session.connect("admin", autocommit=True) as conn:
        conn.execute("UPDATE contact_point SET value = '+44 7911 447566', normalized = '+447911447566' "
                     "WHERE client_id = %s AND kind = 'mobile'", (card.id,))
    loaded = cards.load_card(card.id)
    saved = cards.save_card(loaded, replace(loaded.draft, city="Leeds"))
    assert saved.draft.city == "Leeds"
    edited = replace(saved.draft, contacts=tuple(replace(c, value=c.value + "0") if c.kind == "mobile" else c
                                                 for c in saved.draft.contacts))
    assert [p.field for p in cards.check(saved, edited)] == ["contact.0.value"]


def test_a_bulk_change_is_announced_once_as_everything(admin_session):
    with admin_session.connect("sales", autocommit=True) as listener:
        listener.execute("LISTEN client_changed")
        with admin_session.connect("admin", autocommit=True) as writer:
            writer.execute("INSERT INTO client (last_name) SELECT 'Bulk ' || i FROM generate_series(1, 1001) i")
            writer.execute("INSERT INTO client (last_name) SELECT 'Few ' || i FROM generate_series(1, 3) i")
        payloads = [n.payload for n in listener.notifies(timeout=2, stop_after=4)]
    assert payloads[0] == "*" and len(payloads) == 4 and all(p.isdigit() for p in payloads[1:])
