"""The catalogs against the code: Babel extracts every message the code uses (babel.cfg's keywords), and the
template must hold exactly those, and every language must translate each of them. A new sentence in the code
without a catalog entry, or a catalog entry the code no longer uses, fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from db import i18n as runtime

REPO = Path(__file__).resolve().parents[1]
LOCALE_DIR = REPO / "tui" / "locale"
KEYWORDS = {"t": None, "tn": (1, 2), "tp": ((1, "c"), 2), "N_": None, "NP_": ((1, "c"), 2)}

pytestmark = pytest.mark.skipif(hasattr(runtime, "EN"), reason="messages are still keys of db/i18n.py's EN "
                                "(transitional); /work/tools/i18n_convert.py makes them literal")


def _key(message_id, context):
    return context, tuple(message_id) if isinstance(message_id, (list, tuple)) else message_id


def extracted() -> set:
    found = set()
    for folder in ("db", "tui", "screens"):
        for _filename, _lineno, message, _comments, context in extract_from_dir(
                REPO / folder, method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=(),
                strip_comment_tags=True):
            found.add(_key(message, context))
    return found


def catalog_keys(path: Path, locale: str | None = None) -> dict:
    with open(path, "rb") as source:
        catalog = read_po(source, locale=locale)
    return {_key(message.id, message.context): message for message in catalog if message.id}


def test_the_template_is_what_the_code_uses():
    template = set(catalog_keys(LOCALE_DIR / "clientbase.pot"))
    used = extracted()
    assert sorted(used - template, key=str) == [], "run pybabel extract (babel.cfg) and update the catalogs"
    assert sorted(template - used, key=str) == [], "the template holds messages the code no longer uses"


@pytest.mark.parametrize("language", ["ru", "ro"])
def test_every_message_the_code_uses_is_translated(language):
    catalog = catalog_keys(LOCALE_DIR / language / "LC_MESSAGES" / "clientbase.po", language)
    missing = []
    for key in extracted():
        message = catalog.get(key)
        strings = () if message is None else (message.string if isinstance(message.string, tuple)
                                               else (message.string,))
        if message is None or message.fuzzy or not strings or not all(strings):
            missing.append(key)
    assert sorted(missing, key=str) == []


def test_no_label_is_built_at_run_time():
    """`t(f"card.tab.{tab}")` cannot be extracted: such labels live in literal tables (db/labels.py)."""
    built = []
    for folder in ("db", "tui", "screens"):
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                        and node.func.id in ("t", "tn", "tp", "N_", "NP_") and node.args \
                        and isinstance(node.args[0], ast.JoinedStr):
                    built.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert built == []
