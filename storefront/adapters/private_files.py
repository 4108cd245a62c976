"""Files that hold personal data or secrets are readable by their owner only.

Shoppers' names, addresses and emails end up in the database, the captured mails, the payment
sandbox's store and Reflex's saved states (`.states/`, the default state manager writes one pickle per
browser); the secret key signs every order link. The ops commands set a umask before anything is
created, so new files get 0600 and new folders 0700 in this process and in every process it starts
(the Reflex server, the sidecars); `secure_existing` narrows what an earlier, laxer run left behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.engine import make_url

OWNER_ONLY_UMASK = 0o077
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def restrict_new_files() -> None:
    os.umask(OWNER_ONLY_UMASK)


def sqlite_files(database_url: str) -> list[Path]:
    """The database file and SQLite's companions, for a SQLite URL with a file; none otherwise."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return []
    main = Path(url.database)
    return [main] + [main.with_name(main.name + suffix) for suffix in SQLITE_COMPANIONS]


def secure_existing(paths: Iterable[Path]) -> None:
    """Owner-only modes on each existing path; folders with everything in them."""
    for path in paths:
        if not path.exists() or path.is_symlink():
            continue
        if path.is_dir():
            path.chmod(DIRECTORY_MODE)
            # os.walk passes over folders that vanish during the walk, and so does the loop for files: a server
            # running on data in var/ (production mode's PostgreSQL) removes its temporary files at any time.
            for folder, folders, files in os.walk(path):
                for name in folders + files:
                    inner = Path(folder, name)
                    try:
                        if not inner.is_symlink():
                            inner.chmod(DIRECTORY_MODE if name in folders else FILE_MODE)
                    except FileNotFoundError:
                        pass
        else:
            path.chmod(FILE_MODE)
