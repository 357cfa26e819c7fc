"""The import contracts in pyproject.toml (layers, headless jobs, no cycles) are checked, not remembered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_import_contracts_hold():
    root = Path(__file__).resolve().parent.parent
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter), str(root / "pyproject.toml")], cwd=root,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
