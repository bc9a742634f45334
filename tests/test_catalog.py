"""The catalog: migrations, whole-or-nothing writes, content-hash no-ops, contrast kept current,
and an index that always agrees with the database."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.extractor.decompose.extractive import ExtractiveDecomposer
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import get_settings
from capmatch.storage.vector_log import VectorLog

from .conftest import FIXTURES, PAGES

DOCS = FIXTURES / "docs"
pytestmark = pytest.mark.both_backends


def add(core: Runtime, path: Path, name: str | None = None):  # type: ignore[no-untyped-def]
    return core.ingest(Source(path=path, name=name))


def index_agrees(core: Runtime) -> None:
    index = core.index()
    assert index.count() == core.catalog.capability_count()
    # Every committed vector change applied; a recorded snapshot is a file this process can read.
    _, applied, _ = core.live_index.status()
    assert applied == core.catalog.vector_log.heads()[0]
    newest = core.catalog.vector_log.newest_snapshot()
    assert newest is None or (core.settings.index_dir / newest.file).is_file()


def test_migrations_are_numbered_and_applied_once(core: Runtime, backend: str) -> None:
    if backend == "postgres":
        rows = core.catalog.conn.execute("SELECT version, name FROM schema_migrations").fetchall()
        assert [tuple(r) for r in rows] == [(1, "0001_initial.sql"), (2, "0002_vector_changes.sql")]
        return  # PostgreSQL's own migration story: tests/test_postgres.py
    rows = core.catalog.conn.execute("SELECT version, name FROM schema_migrations").fetchall()
    assert [tuple(r) for r in rows] == [
        (1, "0001_initial.sql"),
        (2, "0002_llm.sql"),
        (3, "0003_identity.sql"),
        (4, "0004_page_indexes.sql"),
        (5, "0005_leases.sql"),
        (6, "0006_job_outcome.sql"),
        (7, "0007_document.sql"),
        (8, "0008_contrast_basis.sql"),
        (9, "0009_vector_changes.sql"),
    ]
    assert core.catalog.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    again = Runtime(core.settings, embedder=core.embedder)  # re-opening applies nothing
    assert again.catalog.conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == 9


def test_a_tool_lands_whole(core: Runtime) -> None:
    result = add(core, PAGES / "tiny.md")
    tool = result.tool
    assert result.created and tool.id == "quillpad" and tool.type.value == "Library"
    assert tool.license == "BSD-3-Clause"
    assert len(tool.capabilities) >= 3 and all(c.id for c in tool.capabilities)
    source = core.catalog.source_text(tool.id)
    for cap in tool.capabilities:
        for evidence in cap.evidence:
            assert source[evidence.start : evidence.end] == evidence.quote
    index_agrees(core)


def test_unchanged_content_does_no_work(core: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    add(core, PAGES / "tiny.md")
    generation = core.catalog.generation()
    calls = []
    original = ExtractiveDecomposer.decompose
    monkeypatch.setattr(ExtractiveDecomposer, "decompose", lambda self, doc: calls.append(1) or original(self, doc))
    again = add(core, PAGES / "tiny.md")
    assert not again.created and again.outcome == "unchanged"
    assert again.notice == "unchanged: this content is already in the catalog as quillpad; nothing was changed"
    assert calls == [] and core.catalog.generation() == generation and core.catalog.tool_count() == 1


def test_a_failure_mid_write_leaves_catalog_and_index_unchanged(core: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    add(core, DOCS / "fetchwire.md")
    before = (core.catalog.tool_count(), core.catalog.capability_count(), core.catalog.generation())

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("capmatch.pipeline.writer.refresh_after_change", explode)
    with pytest.raises(RuntimeError, match="disk on fire"):
        add(core, DOCS / "pliant.rst")
    assert (core.catalog.tool_count(), core.catalog.capability_count(), core.catalog.generation()) == before
    assert (
        core.catalog.conn.execute(
            "SELECT COUNT(*) FROM evidence e LEFT JOIN capabilities c ON c.id = e.capability_id WHERE c.id IS NULL"
        ).fetchone()[0]
        == 0
    )
    index_agrees(core)
    monkeypatch.undo()
    assert add(core, DOCS / "pliant.rst").created
    index_agrees(core)


def test_changed_content_at_the_same_url_replaces_the_tool(core: Runtime, tmp_path: Path) -> None:
    page = tmp_path / "tool.md"
    page.write_text((PAGES / "tiny.md").read_text())
    first = add(core, page).tool
    page.write_text((PAGES / "tiny.md").read_text() + "\n## Export\n\nQuillpad exports PDF/A files for archiving.\n")
    second = add(core, page)
    assert second.created and second.tool.id == first.id and second.tool.content_hash != first.content_hash
    assert core.catalog.tool_count() == 1
    index_agrees(core)


def test_contrast_names_catalog_tools_and_forgets_deleted_ones(core: Runtime) -> None:
    add(core, DOCS / "fetchwire.md")
    add(core, DOCS / "pliant.rst")
    fetchwire = core.catalog.get_tool("fetchwire")
    named = {a.tool_name for c in fetchwire.capabilities for a in c.alternatives}
    assert named == {"Pliant"}
    assert any("Pliant (“" in c.vs_alternatives for c in fetchwire.capabilities)
    assert any(c.unique for c in fetchwire.capabilities)

    core.delete_tool("pliant")
    fetchwire = core.catalog.get_tool("fetchwire")
    assert all(not c.alternatives for c in fetchwire.capabilities)
    assert not any("Pliant" in c.vs_alternatives or "Pliant" in c.unique for c in fetchwire.capabilities)
    assert core.catalog.match_edges() == []
    index_agrees(core)


def test_a_new_tool_updates_the_lines_of_existing_ones(core: Runtime) -> None:
    add(core, DOCS / "fetchwire.md")
    alone = core.catalog.get_tool("fetchwire")
    assert all(c.vs_alternatives == "" for c in alone.capabilities), "nothing to argue against: no line"
    assert all(not c.alternatives for c in alone.capabilities)
    add(core, DOCS / "ferrox.md")
    updated = core.catalog.get_tool("fetchwire")
    assert any("Ferrox" in c.vs_alternatives for c in updated.capabilities)


def test_index_written_by_another_process_is_picked_up(core: Runtime) -> None:
    core.index()
    other = Runtime(get_settings(), embedder=core.embedder)  # e.g. `capmatch add` while the server runs
    add(other, DOCS / "fetchwire.md")
    # SQLite: seen by the next query; PostgreSQL: by the next poll, about a second later.
    deadline = time.monotonic() + 2
    while core.index().count() != core.catalog.capability_count() and time.monotonic() < deadline:
        time.sleep(0.05)
    index_agrees(core)
    assert core.index().count() == other.index().count() > 0


def test_a_stale_or_missing_index_is_rebuilt_from_stored_vectors(core: Runtime) -> None:
    add(core, DOCS / "fetchwire.md")
    count = core.catalog.capability_count()
    assert core.verify_index().rebuilt  # no snapshot yet: one is made
    shutil.rmtree(core.settings.index_dir)
    fresh = Runtime(core.settings, embedder=core.embedder)
    status = fresh.verify_index()
    assert status.rebuilt and status.count == count
    # A snapshot file that is not what the manifest says (truncated, replaced) is refused too.
    newest = core.catalog.vector_log.newest_snapshot()
    assert newest is not None
    (core.settings.index_dir / newest.file).write_bytes(b"\x00" * 64)
    assert Runtime(core.settings, embedder=core.embedder).verify_index().rebuilt
    assert core.reindex().count == count


def test_similar_search_counts_times_matched(core: Runtime) -> None:
    add(core, DOCS / "fetchwire.md")
    add(core, DOCS / "pliant.rst")
    hits = core.similar("fetchwire", k=5)
    assert [h.tool_id for h in hits] == ["pliant"]
    assert core.catalog.get_tool("pliant", with_capabilities=False).times_matched == 1
    assert core.catalog.get_tool("fetchwire", with_capabilities=False).times_matched == 0


def test_the_index_switches_to_ivf_when_the_catalog_grows(
    monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder
) -> None:
    first = Runtime(get_settings(), embedder=embedder)
    add(first, DOCS / "fetchwire.md")
    # The threshold is one vector more than the catalog holds: the next tool crosses it.
    monkeypatch.setenv("CAPMATCH_IVF_THRESHOLD", str(first.index().count() + 1))
    core = Runtime(get_settings(), embedder=embedder)
    assert core.index().kind == "flat"
    add(core, DOCS / "pliant.rst")
    assert core.index().kind == "ivf"
    index_agrees(core)
    assert core.catalog.vector_log.newest_snapshot().kind == "ivf"  # type: ignore[union-attr]
    assert [h.tool_id for h in core.similar("fetchwire", k=3)] == ["pliant"]


def test_queries_run_safely_while_tools_are_written(core: Runtime) -> None:
    import threading

    add(core, DOCS / "fetchwire.md")
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for name in ("pliant.rst", "ferrox.md", "emberq.md", "pgtide.html"):
                add(core, DOCS / name)
            core.delete_tool("pliant")
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    queries = 0
    while thread.is_alive() or queries < 20:
        core.search("retry failed requests", k=5, count_matches=False)
        core.similar("fetchwire", k=5, count_matches=False)
        queries += 1
    thread.join()
    assert errors == []
    assert {t.id for t in core.catalog.list_tools()} == {"fetchwire", "ferrox", "emberq", "pgtide"}
    index_agrees(core)


def test_a_crash_between_a_snapshot_file_and_its_manifest_row_never_leaves_a_wrong_index(
    core: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(core, DOCS / "fetchwire.md")
    core.verify_index()  # a first snapshot
    before = core.catalog.vector_log.newest_snapshot()
    add(core, DOCS / "pliant.rst")

    def power_cut(self: object, snapshot: object) -> None:
        raise OSError("power cut")  # the new snapshot file is written and renamed, its row is not

    monkeypatch.setattr(VectorLog, "record", power_cut)
    with pytest.raises(OSError, match="power cut"):
        core.live_index.snapshot(force=True)
    monkeypatch.undo()
    assert core.catalog.vector_log.newest_snapshot() == before  # readers stay on the previous one

    fresh = Runtime(core.settings, embedder=core.embedder)
    assert not fresh.verify_index().rebuilt  # the previous snapshot and the changes after it
    ids, vectors = fresh.catalog.vectors_of("pliant")
    _, found = fresh.index().search(vectors, 1)
    assert set(found[:, 0]) == set(ids)  # the vectors added after the snapshot are found
    index_agrees(fresh)
    assert add(fresh, DOCS / "ferrox.md").created
    index_agrees(fresh)


def test_two_writers_storing_the_same_page_store_it_once(core: Runtime) -> None:
    import threading

    # Two Runtime objects with their own locks and connections behave like two processes
    # (the server's worker and `capmatch add`) on one catalog.
    others = [Runtime(core.settings, embedder=core.embedder) for _ in range(3)]
    results, errors = [], []

    def run(c: Runtime) -> None:
        try:
            results.append(add(c, DOCS / "fetchwire.md"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(r.created for r in results) == [False, False, True]
    assert core.catalog.tool_count() == 1
    index_agrees(core)


def test_a_new_version_keeps_the_tool_history(core: Runtime, tmp_path: Path) -> None:
    page = tmp_path / "tool.md"
    page.write_text((PAGES / "tiny.md").read_text())
    first = add(core, page).tool
    add(core, DOCS / "fetchwire.md")
    core.similar("fetchwire", k=3)
    page.write_text((PAGES / "tiny.md").read_text() + "\nQuillpad also exports PDF/A files for archiving.\n")
    second = add(core, page).tool
    assert second.id == first.id and second.times_matched == 1 and second.created_at == first.created_at


def test_inline_records_with_the_same_name_are_separate_tools(core: Runtime) -> None:
    text_a = (PAGES / "tiny.md").read_text()
    text_b = (DOCS / "fetchwire.md").read_text()
    first = core.ingest(Source(text=text_a, text_format="markdown", name="Guard"))
    second = core.ingest(Source(text=text_b, text_format="markdown", name="Guard"))
    assert first.created and second.created and "replaced" not in (second.notice or "")
    assert {first.tool.id, second.tool.id} == {"guard", "guard-2"}


def test_a_different_embedding_model_is_refused_even_by_reindex(
    core: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from capmatch.embeddings.model import resolve_model_path
    from capmatch.errors import IndexMismatch

    add(core, DOCS / "fetchwire.md")
    # The same weights under another name stand in for another model: nothing may mix them silently.
    monkeypatch.setenv("CAPMATCH_EMBEDDING_MODEL", resolve_model_path("all-MiniLM-L6-v2"))
    other = Runtime(get_settings(), embedder=core.embedder)
    for action in (other.reindex, other.index, lambda: add(other, DOCS / "pliant.rst")):
        with pytest.raises(IndexMismatch, match="CAPMATCH_EMBEDDING_MODEL=all-MiniLM-L6-v2"):
            action()
    assert core.catalog.tool_count() == 1


def test_match_counts_are_written_in_batches_not_per_read(core: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from capmatch.storage import counters

    add(core, DOCS / "fetchwire.md")
    add(core, DOCS / "pliant.rst")
    counters.flush_all()
    monkeypatch.setattr(counters._flusher, "interval", 3600.0)  # no timed flush during the test
    elsewhere = Runtime(core.settings, embedder=core.embedder)  # another process's view of the catalog
    for _ in range(3):
        assert [h.tool_id for h in core.similar("fetchwire", k=3)] == ["pliant"]
    assert core.catalog.get_tool("pliant").times_matched == 3, "this process sees its own reads at once"
    assert core.catalog.times_matched()["pliant"] == 3
    assert elsewhere.catalog.get_tool("pliant").times_matched == 0, "three reads wrote nothing yet"
    counters.flush_all()  # what the flusher thread does every few seconds: one transaction
    assert elsewhere.catalog.get_tool("pliant").times_matched == 3
    assert core.catalog.get_tool("pliant").times_matched == 3, "flushed counts are not counted twice"
