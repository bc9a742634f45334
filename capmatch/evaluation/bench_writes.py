"""`capmatch bench writes`: what one catalog write costs the vector index at N vectors (issue 15).

Before snapshot + delta every write saved the whole FAISS index; now it appends its change rows and
the index file is rewritten only when a snapshot is folded. On a synthetic SQLite catalog of N
vectors this measures, per write of one tool (5 capability vectors): the bytes the process wrote
(``wchar`` of /proc/self/io: every write() call, the SQLite WAL included), the bytes of its change
rows, the size of the whole index file such a write used to rewrite, and how long another process
(a second Runtime) takes to see the write.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from capmatch.evaluation.bench_search import clustered
from capmatch.evaluation.synthetic import fill, synthetic_tool
from capmatch.models import Tool
from capmatch.runtime import Runtime
from capmatch.settings import Settings
from capmatch.storage.base import NewCapability

CAPABILITIES = 5


def written_bytes() -> int:
    """Bytes this process has passed to write() calls so far (Linux)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    raise RuntimeError("no wchar in /proc/self/io")


def _tool(number: int, vectors: np.ndarray) -> tuple[Tool, str, list[NewCapability]]:
    text = f"Bench tool {number} retries cached streams."
    names = [f"bench capability {j}" for j in range(len(vectors))]
    tool, caps = synthetic_tool("bench", number, text, names, vectors, datetime.now(UTC))
    return tool, text, caps


def bench(vectors: int, writes: int = 20, home: Path | None = None) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="capmatch-bench-writes-") as tmp:
        settings = Settings(home=home or Path(tmp))
        core = Runtime(settings)
        tools = vectors // CAPABILITIES
        started = time.perf_counter()
        if core.catalog.tool_count() < tools:
            fill(core, tools - core.catalog.tool_count(), CAPABILITIES)  # ends with a reindex: a snapshot
        core.verify_index()
        filled = time.perf_counter() - started
        newest = core.catalog.vector_log.newest_snapshot()
        assert newest is not None
        whole_index = (settings.index_dir / newest.file).stat().st_size
        other = Runtime(settings, embedder=core.embedder)  # another process reading the same catalog
        other.index()

        rng = np.random.default_rng(11)
        centres = rng.standard_normal((64, core.embedder.dimension), dtype=np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        per_write, change_rows, seen_ms, write_ms = [], [], [], []
        for n in range(writes):
            tool, text, caps = _tool(n, clustered(CAPABILITIES, centres, rng))
            head = core.catalog.vector_log.heads()[0]
            before = written_bytes()
            t0 = time.perf_counter()
            core.writer.store_tool(tool, text, caps, identity=caps[0].vector)
            write_ms.append((time.perf_counter() - t0) * 1000)
            per_write.append(written_bytes() - before)
            rows = core.catalog.vector_log.changes_after(head, core.catalog.vector_log.heads()[0])
            change_rows.append(sum(len(c.vector or b"") + len(c.item) + 24 for c in rows))
            t1 = time.perf_counter()
            count = other.index().count()  # the other process polls and applies the change rows
            seen_ms.append((time.perf_counter() - t1) * 1000)
            assert count == core.catalog.capability_count()
        fold_started = time.perf_counter()
        folded = core.live_index.snapshot(force=True)
        fold_seconds = time.perf_counter() - fold_started
        assert folded is not None
        # What each other process then pays once: reading the new snapshot (under its index lock).
        load_started = time.perf_counter()
        other.live_index._polled = float("-inf")
        other.index().count()
        load_seconds = time.perf_counter() - load_started
        assert other.live_index.status()[0] == folded.seq
    return {
        "vectors": tools * CAPABILITIES,
        "writes": writes,
        "vectors_per_write": CAPABILITIES,
        "bytes_written_per_write_median": int(statistics.median(per_write)),
        "bytes_written_per_write_max": max(per_write),
        "change_row_bytes_per_write": int(statistics.median(change_rows)),
        "whole_index_file_bytes": whole_index,
        "whole_index_over_write": round(whole_index / statistics.median(per_write), 1),
        "write_ms_median": round(statistics.median(write_ms), 1),
        "seen_by_other_runtime_ms_median": round(statistics.median(seen_ms), 2),
        "snapshot_fold_seconds": round(fold_seconds, 2),
        "snapshot_load_seconds": round(load_seconds, 2),
        "snapshot_kind": folded.kind,
        "catalog_fill_seconds": round(filled, 1),
    }
