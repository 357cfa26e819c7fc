"""Files that hold personal data (exports, reject files, backups and their manifests) are readable by their
owner only, whatever the umask: a new file is created 0600, and one that was already there is narrowed to
0600 before a byte of data goes into it. Every writer of such a file opens it here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO

PRIVATE_MODE = 0o600


def open_private(path: Path | str, mode: str = "w", **kwargs) -> IO:
    """`open(path, mode)` for writing ("w" or "wb"), private from its first byte. O_CREAT's mode covers a
    new file (the umask can only remove bits); fchmod covers a file that existed with wider rights, and runs
    right after the truncation, before anything is written."""
    if mode not in ("w", "wb"):
        raise ValueError(f"open_private writes only, not {mode!r}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)
        return os.fdopen(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise
