"""Templates: checked when saved (line and reason), rendered without holes, SMS length, the CLI file format."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from db.errors import UserError
from db.mailing import templates
from tui.mailing import render, template_file
from tui.mailing.render import Client, MissingValue, TemplateProblems, TemplateText

ANNA = Client(first_name="Анна", last_name="Иванова", gender="f", city="Москва", birthday=date(1990, 3, 8),
              total_spent=Decimal("1500.00"), favourite_product="Кофе", custom={"club": "gold"})


def _email(body: str, subject: str = "Новости", **extra) -> TemplateText:
    return TemplateText(channel="email", subject=subject, body=body, **extra)


def test_a_client_with_every_value_gets_a_personal_message():
    template = _email("{{ greeting }} {{ first_name }}!\nВаш город: {{ city }}, клуб {{ custom.club }}.\n"
                      "{{ cta_label }}: {{ cta_url }}", subject="{{ first_name }}, для вас",
                      cta_label="Купить", cta_url="https://shop.example/offer?c={{ city }}")
    out = render.render(template, ANNA)
    assert out.subject == "Анна, для вас"
    assert out.text.startswith("Уважаемая Анна!\nВаш город: Москва, клуб gold.")
    assert "Купить: https://shop.example/offer?c=Москва" in out.text
    assert out.html is None


def test_a_missing_value_without_default_is_named_and_never_rendered_empty():
    template = _email("Dear {{ first_name }},")
    with pytest.raises(MissingValue) as missing:
        render.render(template, Client(last_name="Петров"))
    assert missing.value.reason == "missing first_name"
    with pytest.raises(MissingValue) as missing:
        render.render(_email("{{ custom.club }}"), Client(first_name="A"))
    assert missing.value.reason == "missing custom.club"
    for empty in ("", None):
        with pytest.raises(MissingValue):
            render.render(template, Client(first_name=empty, last_name="Петров"))


def test_a_default_or_a_condition_fills_the_gap():
    template = _email('{{ greeting | default("Здравствуйте") }}, {{ first_name | default("друг") }}!'
                      '{% if city %} ({{ city }}){% endif %}')
    assert render.render(template, Client(last_name="Петров")).text == "Здравствуйте, друг!"
    assert render.render(template, ANNA).text == "Уважаемая, Анна! (Москва)"


def test_html_is_escaped_and_sent_as_the_alternative():
    out = render.render(_email("{{ first_name }}", html="<p>{{ first_name }}</p>"),
                        Client(first_name="<b>Ann</b>"))
    assert out.html == "<p>&lt;b&gt;Ann&lt;/b&gt;</p>"
    assert out.text == "<b>Ann</b>"


def test_saving_reports_syntax_errors_with_their_line():
    with pytest.raises(TemplateProblems) as problems:
        render.check(_email("Hello\n{{ first_name }\nbye"))
    [problem] = problems.value.problems
    assert (problem.part, problem.line) == ("body", 2)
    assert "syntax error" in problem.reason


def test_saving_reports_unknown_variables_and_custom_fields_with_their_line():
    with pytest.raises(TemplateProblems) as problems:
        render.check(_email("Hi {{ first_name }}\n\n{{ frist_name }} {{ custom.nope }}"), {"club"})
    found = [(p.line, p.reason) for p in problems.value.problems]
    assert found == [(3, "unknown variable 'frist_name'"), (3, "unknown custom field 'nope'")]


def test_saving_refuses_unsafe_attribute_access():
    for body in ("{{ first_name.__class__ }}", "{{ city.__class__.__mro__ }}", "{{ ''.format }}",
                 "{{ first_name['__class__'] }}"):
        with pytest.raises(TemplateProblems) as problems:
            render.check(_email("ok\n" + body))
        assert any("unsafe attribute access" in p.reason and p.line == 2 for p in problems.value.problems), body


def test_saving_finds_the_fields_a_template_needs():
    template = _email('{{ greeting | default("Hi") }} {{ first_name }}, {{ custom.club }}'
                      '{% if city %}{{ city }}{% endif %}', subject="{{ last_name }}")
    assert render.check(template, {"club", "size"}) == ["first_name", "last_name", "custom.club"]


def test_an_email_needs_a_subject_and_a_body():
    with pytest.raises(TemplateProblems) as problems:
        render.check(TemplateText(channel="email", body=""))
    assert {p.part for p in problems.value.problems} == {"subject", "body"}


@pytest.mark.parametrize("text, expected", [
    ("", (0, 0, "GSM-7")),
    ("a" * 160, (160, 1, "GSM-7")),
    ("a" * 161, (161, 2, "GSM-7")),
    ("a" * 306, (306, 2, "GSM-7")),
    ("a" * 307, (307, 3, "GSM-7")),
    ("€" * 80, (160, 1, "GSM-7")),  # an extended character takes two septets
    ("я" * 70, (70, 1, "UCS-2")),
    ("я" * 71, (71, 2, "UCS-2")),
    ("я" * 134, (134, 2, "UCS-2")),
    ("я" * 135, (135, 3, "UCS-2")),
    ("a" * 69 + "😀", (71, 2, "UCS-2")),
])
def test_sms_length_counts_like_a_phone(text, expected):
    length = render.sms_length(text)
    assert (length.characters, length.segments, length.encoding) == expected


def test_the_template_file_format(tmp_path):
    (tmp_path / "offer.html").write_text("<p>{{ first_name }}</p>", encoding="utf-8")
    path = tmp_path / "offer.txt"
    path.write_text("Subject: Скидка для {{ first_name }}\nCTA: Купить | https://shop.example/x\nHTML: offer.html\n"
                    "\nЗдравствуйте, {{ first_name }}!\n", encoding="utf-8")
    parsed = template_file.load(path, "email")
    assert parsed == TemplateText(channel="email", subject="Скидка для {{ first_name }}",
                                  body="Здравствуйте, {{ first_name }}!\n", html="<p>{{ first_name }}</p>",
                                  cta_label="Купить", cta_url="https://shop.example/x")
    assert template_file.parse("Привет, {{ first_name }}\n", "sms").body == "Привет, {{ first_name }}"


@pytest.mark.parametrize("text", ["Subject: x\nbody without a blank line", "Subjekt: x\n\nbody",
                                  "Subject: x\nCTA: no bar\n\nbody", "CTA: a | b\n\nbody",
                                  "Subject: a\nSubject: b\n\nbody"])
def test_a_bad_template_file_is_one_sentence(text):
    with pytest.raises(UserError):
        template_file.parse(text, "email")


def test_templates_are_saved_and_loaded_by_name(admin_session):
    from db.models import database

    with database.connection_context():
        conn = database.connection()
        saved = templates.save(conn, name="Offer", channel="email", subject="S", body="B {{ first_name }}",
                               html_body="", cta_label="", cta_url="", required_fields=["first_name"])
        again = templates.save(conn, name="Offer", channel="email", subject="S2", body="B", html_body="<p>",
                               cta_label="Go", cta_url="https://x", required_fields=[])
        assert again.id == saved.id and again.version == saved.version + 1
        assert templates.load(conn, saved.id).subject == "S2"
        assert templates.load(conn, saved.id).required_fields == []
        with pytest.raises(UserError):
            templates.load(conn, saved.id + 100)


def test_only_the_administrator_saves_templates(fresh_db):
    with fresh_db.connect("sales") as conn, pytest.raises(UserError):
        templates.save(conn, name="x", channel="sms", subject="", body="b", html_body="", cta_label="",
                       cta_url="", required_fields=[])
