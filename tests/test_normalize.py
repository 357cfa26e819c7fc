"""Phones become E.164 whatever way they were written; bad e-mails are refused with a reason."""

from __future__ import annotations

import pytest

from db.errors import ValidationError
from db.normalize import normalize_contact, normalize_email, normalize_phone


@pytest.mark.parametrize("written", ["+7 (912) 345-67-89", "8 912 345 67 89", "89123456789", "+79123456789",
                                     "8(912)3456789", "  +7 912 345 6789 "])
def test_russian_ways_of_writing_one_number(written):
    assert normalize_phone(written, "RU") == "+79123456789"


def test_the_default_country_decides_numbers_without_a_code():
    assert normalize_phone("069123456", "MD") == "+37369123456"
    assert normalize_phone("+373 69 123 456", "RU") == "+37369123456"


@pytest.mark.parametrize("written", ["12345", "not a phone", "+7 (912) 345", "8 000 000 00 00"])
def test_impossible_phones_are_refused_with_a_sentence(written):
    with pytest.raises(ValidationError) as refused:
        normalize_phone(written, "RU")
    assert refused.value.field == "phone"
    assert str(refused.value).endswith(".")


def test_emails_are_lower_cased():
    assert normalize_email(" Ivan.Petrov@Mail.RU ") == "ivan.petrov@mail.ru"


@pytest.mark.parametrize("written, reason", [("ivan@", "after the @-sign"), ("ivan.mail.ru", "@-sign"),
                                             ("a@@b.ru", "@"), ("", "required")])
def test_bad_emails_are_refused_with_the_reason(written, reason):
    with pytest.raises(ValidationError) as refused:
        normalize_email(written)
    assert reason in str(refused.value)


def test_other_contact_kinds():
    assert normalize_contact("telegram", "https://t.me/Ivan_P") == "@ivan_p"
    assert normalize_contact("email", "A@B.RU") == "a@b.ru"
    assert normalize_contact("work", "8 (495) 123-45-67", "RU") == "+74951234567"
    with pytest.raises(ValidationError):
        normalize_contact("fax", "123")
