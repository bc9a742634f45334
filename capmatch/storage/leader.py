"""One leader per role: a lock that one process holds while the others wait to take over.

On PostgreSQL a session advisory lock on a connection of its own: it goes when the process or its
connection dies, so a standby takes over without any timeout to tune. On SQLite (one machine) an
exclusive ``flock`` on a file beside the catalog, released by the kernel when the process dies.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LEADER_LOCK_SPACE = 0x6C65_6164  # "lead": an advisory lock key is this space, then crc32(role)


@contextmanager
def file_leader(folder: Path, role: str) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{role}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks while another process leads
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def advisory_key(role: str) -> int:
    # One bigint, as the catalog's other advisory locks: the space in the high half, the role below.
    return (LEADER_LOCK_SPACE << 32) | zlib.crc32(role.encode())
