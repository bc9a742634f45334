"""Immutable FAISS snapshot files in ``CAPMATCH_INDEX_DIR``, named by the change seq they hold.

A snapshot is written under a temporary name, fsynced, renamed to ``snapshot-<seq>.faiss`` and the
folder fsynced; only then does the caller record it in the manifest (the commit point). A process
killed before the record leaves a file no reader looks at; the name is taken from the seq, so a
later writer of the same seq replaces it whole.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import faiss

from capmatch.embeddings.index import FlatIndex, IVFIndex, VectorIndex

PREFIX = "snapshot-"
STALE_SECONDS = 600  # far longer than writing any snapshot takes
SUFFIX = ".faiss"


def file_name(seq: int) -> str:
    return f"{PREFIX}{seq:012d}{SUFFIX}"


def seq_of(name: str) -> int | None:
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
        return None
    digits = name[len(PREFIX) : -len(SUFFIX)]
    return int(digits) if digits.isdigit() else None


def write(index: VectorIndex, folder: Path, seq: int) -> str:
    """Write ``index`` as the snapshot of ``seq``; returns its file name (not yet recorded)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = file_name(seq)
    # A name of this writer's own: two writers of one seq never write into each other's file.
    tmp = folder / f"{name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    faiss.write_index(index.faiss_index(), str(tmp))
    with tmp.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, folder / name)
    _fsync_folder(folder)  # the rename itself survives a power cut before the manifest row names it
    return name


def read(folder: Path, name: str, dimension: int, count: int, nprobe: int) -> VectorIndex | None:
    """The snapshot ``name``; None when it is missing, unreadable or not the size the manifest says
    (the caller then rebuilds from the catalog)."""
    path = folder / name
    if not path.is_file():
        return None
    try:
        raw = faiss.read_index(str(path))
    except (RuntimeError, OSError):
        return None
    if int(raw.ntotal) != count or int(raw.d) != dimension:
        return None
    # read_index returns the concrete class; keep that object (a downcast copy would not own it).
    if isinstance(raw, faiss.IndexIVFFlat | faiss.IndexIVFScalarQuantizer):
        raw.nprobe = nprobe
        return IVFIndex(raw, dimension)
    return FlatIndex(raw, dimension)


def remove_files(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).unlink(missing_ok=True)


def remove_leftovers(folder: Path, older_than: int | None = None) -> int:
    """Delete temporary files of writes that never finished, and (with ``older_than``) snapshot files
    below that seq that the manifest no longer names. The folder may be shared by machines: a
    snapshot's temporary file is taken for dead only once it has not changed for STALE_SECONDS
    (another process may be writing it now)."""
    removed = 0
    if not folder.is_dir():
        return 0
    now = time.time()
    for path in folder.iterdir():
        seq = seq_of(path.name)
        # The whole-index file, its config and a save of it killed half-way, of capmatch before
        # snapshots: never read again (the first start-up builds a snapshot from the database).
        legacy = path.name.startswith("index-") and path.name.endswith((".faiss", ".faiss.tmp"))
        legacy |= path.name in ("config.json", "config.json.tmp")
        dead_tmp = path.name.startswith(PREFIX) and path.name.endswith(".tmp") and _age(path, now) > STALE_SECONDS
        stale_file = seq is not None and older_than is not None and seq < older_than
        if legacy or dead_tmp or stale_file:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:  # renamed or removed by its writer meanwhile
        return 0.0


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
