"""Vectors shared by snapshot + delta, in one process per Runtime (issue 15): a write appends change
rows and leaves the snapshot files alone; other Runtimes apply the changes; deletes leave results;
snapshots are folded once the delta is big enough, and the old ones pruned. The merge of a snapshot
and its side index gives exactly what one index of the same vectors gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from capmatch.embeddings import index as vector_index
from capmatch.embeddings.delta import DeltaIndex, Pending
from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.pipeline.indexer import Indexer
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import get_settings

from .conftest import FIXTURES

DOCS = FIXTURES / "docs"
pytestmark = pytest.mark.both_backends


def unit_vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize(("kind", "encoding"), [("flat", "flat"), ("ivf", "flat"), ("ivf", "sq8")])
def test_a_snapshot_and_its_side_index_answer_as_one_index(kind: str, encoding: str) -> None:
    vectors = unit_vectors(1200)
    ids = np.arange(1200, dtype=np.int64)
    delta = DeltaIndex(vector_index.build(kind, ids[:1000], vectors[:1000], 32, nprobe=64, encoding=encoding))
    delta.add(ids[1000:], vectors[1000:])
    gone = np.concatenate([ids[:100:3], ids[1000:1200:7]])
    delta.remove(gone)
    alive = np.setdiff1d(ids, gone)
    exact = vector_index.build("flat", alive, vectors[alive], 32)
    assert delta.count() == exact.count() == len(alive)
    queries = unit_vectors(20, seed=1)
    _, want = exact.search(queries, 10)
    _, got = delta.search(queries, 10)
    if kind == "flat":
        assert (got == want).all()
    else:  # IVF is approximate: nprobe 64 of ~25 lists searches them all here; SQ8 rounds the vectors
        assert np.mean([len(set(g) & set(w)) / 10 for g, w in zip(got, want, strict=True)]) >= 0.95
    assert not np.isin(got, gone).any()
    folded = delta.folded()
    assert folded.count() == len(alive) and folded.kind == kind
    assert getattr(folded, "encoding", "flat") == encoding
    _, again = folded.search(queries, 10)
    if encoding == "flat":
        assert (again == got).all()
    else:  # the side index was exact; folded into SQ8 its vectors are 8-bit codes like the rest
        assert np.mean([len(set(a) & set(g)) / 10 for a, g in zip(again, got, strict=True)]) >= 0.95
    # A writer's pending view hides removed ids and shows added ones before they commit.
    pending = Pending(delta)
    pending.remove(alive[:5])
    pending.add(np.array([5000], dtype=np.int64), queries[:1])
    _, hits = pending.search(queries[:1], 3)
    assert hits[0, 0] == 5000 and not np.isin(hits, alive[:5]).any()
    assert pending.count() == len(alive) - 5 + 1


def add(core: Runtime, name: str) -> list[int]:
    tool = core.ingest(Source(path=DOCS / name)).tool
    return [c.id for c in tool.capabilities if c.id is not None]


def snapshot_files(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("snapshot-*.faiss")}


def test_a_write_appends_change_rows_and_leaves_the_snapshot_files_alone(core: Runtime) -> None:
    add(core, "fetchwire.md")
    core.verify_index()  # the first snapshot
    before = snapshot_files(core.settings.index_dir)
    assert len(before) == 1
    ids = add(core, "pliant.rst")
    assert snapshot_files(core.settings.index_dir) == before, "no index file was rewritten"
    newest = core.catalog.vector_log.newest_snapshot()
    assert newest is not None
    added = core.catalog.vector_log.changes_after(newest.seq, core.catalog.vector_log.heads()[0])
    assert sorted(int(c.item) for c in added) == sorted(ids) and {c.op for c in added} == {"add"}
    base_seq, applied, delta = core.live_index.status()
    assert (base_seq, delta) == (newest.seq, len(ids)) and applied > base_seq
    assert core.index().count() == core.catalog.capability_count()


def test_another_runtime_sees_adds_and_deletes(core: Runtime, backend: str) -> None:
    add(core, "fetchwire.md")
    core.verify_index()
    other = Runtime(get_settings(), embedder=core.embedder)  # another process
    other.index()
    ids = add(core, "pliant.rst")
    _, vectors = core.catalog.vectors_of("pliant")
    other.live_index._polled = float("-inf")  # no waiting for the poll interval in this test
    _, found = other.index().search(vectors, 1)
    assert set(found[:, 0]) == set(ids)
    core.delete_tool("pliant")
    other.live_index._polled = float("-inf")
    _, found = other.index().search(vectors, 5)
    assert not np.isin(found, ids).any(), "deleted vectors are gone from results"
    assert other.index().count() == core.catalog.capability_count()
    assert [h.tool_id for h in other.search("lenient parsing of documents", k=5, mode="vector")] == ["fetchwire"]


def test_a_big_enough_delta_is_folded_into_a_snapshot_and_old_ones_pruned(
    monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder
) -> None:
    monkeypatch.setenv("CAPMATCH_INDEX_SNAPSHOT_CHANGES", "3")
    core = Runtime(get_settings(), embedder=embedder)
    seqs = []
    for name in ("fetchwire.md", "pliant.rst", "ferrox.md", "emberq.md"):
        add(core, name)
        newest = core.catalog.vector_log.newest_snapshot()
        assert newest is not None and newest.seq == core.catalog.vector_log.heads()[0]
        seqs.append(newest.seq)
    # The two newest snapshots are kept, and only the changes after the older of them.
    kept = [s.seq for s in core.catalog.vector_log.snapshots()]
    assert kept == seqs[:-3:-1]
    files = sorted(s.file for s in core.catalog.vector_log.snapshots())
    assert sorted(snapshot_files(core.settings.index_dir)) == files
    assert core.catalog.vector_log.pruned_through() == seqs[-2]
    fresh = Runtime(get_settings(), embedder=embedder)
    assert not fresh.verify_index().rebuilt and fresh.index().count() == core.catalog.capability_count()


def test_the_indexer_folds_when_processes_leave_snapshots_to_it(
    monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder
) -> None:
    monkeypatch.setenv("CAPMATCH_INDEX_SNAPSHOTS", "indexer")
    monkeypatch.setenv("CAPMATCH_INDEX_SNAPSHOT_CHANGES", "1")
    writer = Runtime(get_settings(), embedder=embedder)
    add(writer, "fetchwire.md")
    assert writer.catalog.vector_log.newest_snapshot() is None, "the writer left it to the indexer"
    indexer_core = Runtime(get_settings(), embedder=embedder)
    indexer = Indexer(indexer_core.catalog, indexer_core.live_index, max_age=60)
    recorded = indexer.step()
    assert recorded is not None and recorded.count == writer.catalog.capability_count()
    assert indexer.step() is None  # nothing new
    add(writer, "pliant.rst")
    assert indexer.step() is not None  # the delta passed CAPMATCH_INDEX_SNAPSHOT_CHANGES
    writer.live_index._polled = float("-inf")
    assert writer.live_index.status()[0] == writer.catalog.vector_log.newest_snapshot().seq  # type: ignore[union-attr]


def test_a_write_at_n_vectors_writes_a_delta_not_the_whole_index(core: Runtime, backend: str) -> None:
    if backend == "postgres":
        pytest.skip("bytes written are counted in this process: PostgreSQL writes them on its server")
    from capmatch.evaluation.bench_writes import CAPABILITIES, _tool, written_bytes
    from capmatch.evaluation.synthetic import fill

    fill(core, 600, CAPABILITIES)  # 3,000 vectors, then a reindex: one snapshot
    newest = core.catalog.vector_log.newest_snapshot()
    assert newest is not None and newest.count == 3000
    whole = (core.settings.index_dir / newest.file).stat().st_size
    before_files = snapshot_files(core.settings.index_dir)
    vectors = unit_vectors(CAPABILITIES, dim=384, seed=3)  # far from the synthetic clusters: little contrast work
    core.writer.store_tool(*_tool(0, vectors))  # warm: caches of the write path
    spent = []
    for n in range(1, 3):
        start = written_bytes()
        core.writer.store_tool(*_tool(n, vectors))
        spent.append(written_bytes() - start)
    assert snapshot_files(core.settings.index_dir) == before_files, "no index file was rewritten"
    # What this process wrote per write (SQLite's WAL included; PostgreSQL writes on its server) is a
    # small fraction of the index file every write used to rewrite, and does not hold it.
    assert max(spent) < whole / 10, (spent, whole)
    changes = core.catalog.vector_log.changes_after(newest.seq, core.catalog.vector_log.heads()[0])
    assert sum(len(c.vector or b"") for c in changes) == 3 * CAPABILITIES * 384 * 4


def test_identity_vectors_follow_the_change_log_without_a_full_read(core: Runtime) -> None:
    add(core, "fetchwire.md")
    other = Runtime(get_settings(), embedder=core.embedder)  # another process
    first = other.catalog.identities()
    assert first[0] == ["fetchwire"]
    full_reads: list[int] = []
    mirror = other.catalog._identities  # type: ignore[attr-defined]
    load_all = mirror._load_all
    mirror._load_all = lambda: full_reads.append(1) or load_all()
    add(core, "pliant.rst")
    core.delete_tool("fetchwire")
    ids, matrix = other.catalog.identities()
    assert full_reads == [], "applied from the change log, not read whole"
    want_ids, want = core.catalog._load_identities()  # type: ignore[attr-defined]
    assert ids == want_ids == ["pliant"] and np.array_equal(matrix, want)


def test_an_unrecorded_snapshot_file_is_removed_once_older_than_every_kept_one(
    monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder
) -> None:
    monkeypatch.setenv("CAPMATCH_INDEX_SNAPSHOT_CHANGES", "3")
    core = Runtime(get_settings(), embedder=embedder)
    add(core, "fetchwire.md")
    orphan = core.settings.index_dir / "snapshot-000000000001.faiss"  # a killed writer's, never recorded
    orphan.write_bytes(b"\x00" * 64)
    legacy = core.settings.index_dir / "index-0123abcd.faiss"  # the whole-index file of before snapshots
    legacy.write_bytes(b"\x00" * 64)
    for name in ("pliant.rst", "ferrox.md"):
        add(core, name)
    assert not orphan.exists() and not legacy.exists()
    files = sorted(s.file for s in core.catalog.vector_log.snapshots())
    assert sorted(snapshot_files(core.settings.index_dir)) == files
