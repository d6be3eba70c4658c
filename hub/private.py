"""The hub's home holds personal data: keep its folders and files to the owner."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger("hub.private")

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) 0700, or tighten it if this user owns it."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        # mkdir's mode passes through the umask; chmod does not.
        os.chmod(folder, DIR_MODE)

    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> None:
    """Create `path` empty 0600 if missing, else tighten it if this user owns it."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    _tighten(path, FILE_MODE)


def private_sqlite(url: str) -> None:
    """Make the file of a SQLite URL 0600 before SQLite creates it 0644."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return

    path = Path(name)
    if not path.parent.exists():
        private_dir(path.parent)
    # SQLite gives its -wal and -shm files the mode of the database file.
    private_file(path)


def _tighten(path: Path, mode: int) -> None:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077 == 0:
        return

    # A sticky folder such as /tmp is shared on purpose: warn, never chmod it.
    if info.st_uid == os.geteuid() and not info.st_mode & stat.S_ISVTX:
        os.chmod(path, mode)
        return

    log.warning(
        "home.too_open",
        extra={"path": str(path), "mode": oct(stat.S_IMODE(info.st_mode))},
    )
