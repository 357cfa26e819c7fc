"""The stylesheets beside the screens: every screen's CSS_PATH exists, the app reads them all, an installed
package carries them, and no rule names an id or class that no widget has."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

from textual.screen import Screen

import screens
from tui.app import ClientbaseApp

ROOT = Path(__file__).resolve().parent.parent
SCREENS = Path(screens.__file__).parent


def screen_classes() -> list[type[Screen]]:
    for module in pkgutil.walk_packages(screens.__path__, "screens."):
        importlib.import_module(module.name)
    found: list[type[Screen]] = []
    pending = [Screen]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("screens."):
                found.append(subclass)
    return found


def stylesheets() -> list[Path]:
    return sorted(SCREENS.rglob("*.tcss"))


def test_every_screens_css_path_exists_and_the_app_reads_it_at_start():
    named = set()
    for screen in screen_classes():
        paths = screen.CSS_PATH if isinstance(screen.CSS_PATH, list) else [screen.CSS_PATH] if screen.CSS_PATH else []
        for path in paths:
            path = Path(path)
            assert path.is_absolute(), f"{screen.__name__}: a relative CSS_PATH is read beside each subclass"
            assert path.is_file(), f"{screen.__name__}: {path} does not exist"
            named.add(path)
    assert named == set(stylesheets()), "a stylesheet that no screen names, or one outside screens/"
    assert set(ClientbaseApp.CSS_PATH) == named


def test_no_screen_keeps_its_styles_in_a_default_css_string():
    inline = [screen.__name__ for screen in screen_classes() if "DEFAULT_CSS" in vars(screen)]
    assert inline == []


def test_every_id_and_class_a_stylesheet_names_is_given_to_some_widget():
    sources = "\n".join(path.read_text(encoding="utf-8") for folder in ("screens", "tui")
                        for path in (ROOT / folder).rglob("*.py"))
    dead = []
    for sheet in stylesheets():
        rules = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
        selectors = " ".join(re.findall(r"([^{}]+)\{", rules))
        for name in sorted(set(re.findall(r"[#.](-?[a-z][a-z0-9_-]*)", selectors))):
            if not re.search(rf"""["' ]{re.escape(name)}["' ]""", sources):
                dead.append(f"{sheet.relative_to(ROOT)}: {name}")
    assert dead == []


def test_an_installed_package_carries_every_stylesheet_catalog_and_migration(tmp_path):
    """setuptools' build_py, the step of a wheel or an install that copies the packages and their data."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("db", "tui", "screens"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = tmp_path / "lib"
    script = ("import sys, setuptools; "
              f"sys.argv = ['setup.py', 'build_py', '--build-lib', {str(built)!r}]; setuptools.setup()")
    result = subprocess.run([sys.executable, "-c", script], cwd=source, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    carried = {str(path.relative_to(built)) for path in built.rglob("*.tcss")}
    assert carried == {str(path.relative_to(ROOT)) for path in stylesheets()}
    # The same install carries the translations and the migrations, which the app reads from its package.
    for language in ("ru", "ro"):
        for suffix in ("po", "mo"):
            assert f"tui/locale/{language}/LC_MESSAGES/clientbase.{suffix}" in {
                str(path.relative_to(built)) for path in (built / "tui" / "locale").rglob(f"*.{suffix}")}
    assert {path.name for path in (built / "db" / "migrations").glob("*.sql")} == \
        {path.name for path in (ROOT / "db" / "migrations").glob("*.sql")}
