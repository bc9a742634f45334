"""Vectors shared by snapshot + delta across processes on PostgreSQL (issue 15), with real
`capmatch` processes, each with a home of its own (as on its own machine), one shared database and
one shared snapshot folder (CAPMATCH_INDEX_DIR):

- an indexer SIGKILLed between writing a snapshot file and recording it leaves readers on the
  previous snapshot, and a standby indexer that was waiting takes over and records the next one;
- a tool added through one API replica is found by vector search on another within 2 s, and a
  deleted one leaves that replica's results within 2 s.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx
import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.embeddings.snapshot import file_name
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import get_settings

from .conftest import FIXTURES, free_port, wait_for_job
from .test_worker import environment, kill, start, wait_until

DOCS = FIXTURES / "docs"


@pytest.fixture
def shared_index(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "snapshots"
    monkeypatch.setenv("CAPMATCH_DATABASE_URL", pg_url)  # environment() hands both to every process
    monkeypatch.setenv("CAPMATCH_INDEX_DIR", str(folder))
    return folder


def test_an_indexer_killed_before_recording_its_snapshot_leaves_readers_on_the_previous_one(
    shared_index: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    core = Runtime(get_settings(), embedder=embedder)
    core.ingest(Source(path=DOCS / "fetchwire.md"))
    core.verify_index()  # the first snapshot, recorded
    previous = core.catalog.vector_log.newest_snapshot()
    assert previous is not None
    core.ingest(Source(path=DOCS / "pliant.rst"))  # a delta after it
    head = core.catalog.vector_log.heads()[0]

    marker = tmp_path / "marker"
    leader = start(
        ["indexer", "--max-age", "0", "--poll", "0.2"],
        environment(
            tmp_path / "ix1",
            CAPMATCH_INDEX_DIR=str(shared_index),
            CAPMATCH_FAILPOINT="snapshot-written",
            CAPMATCH_FAILPOINT_MARKER=str(marker),
        ),
    )
    standby: subprocess.Popen[bytes] | None = None
    try:
        wait_until(marker.exists)  # the leader wrote and renamed its file; the manifest does not name it
        assert (shared_index / file_name(head)).is_file()
        standby = start(
            ["indexer", "--max-age", "0", "--poll", "0.2"],
            environment(tmp_path / "ix2", CAPMATCH_INDEX_DIR=str(shared_index)),
        )
        time.sleep(3)
        assert core.catalog.vector_log.newest_snapshot() == previous, "the standby waits while the leader lives"

        reader = Runtime(get_settings(), embedder=embedder)  # e.g. an API replica starting now
        assert reader.live_index.status()[0] == previous.seq, "readers load the recorded snapshot"
        ids, vectors = reader.catalog.vectors_of("pliant")
        _, found = reader.index().search(vectors, 1)
        assert set(found[:, 0]) == set(ids), "and find what came after it in the delta"
        assert reader.index().count() == reader.catalog.capability_count()
        kill(leader)  # SIGKILL: the file stays, never recorded

        # The standby takes the lock as the leader's connection dies, and records the snapshot.
        wait_until(lambda: core.catalog.vector_log.newest_snapshot().seq >= head, timeout=30)  # type: ignore[union-attr]
        reader.live_index._polled = float("-inf")
        assert reader.live_index.status()[0] >= head and reader.index().count() == reader.catalog.capability_count()
    finally:
        kill(leader)
        if standby is not None:
            kill(standby)


def vector_hits(client: httpx.Client, query: str) -> list[str]:
    response = client.get("/api/search", params={"q": query, "k": 5})
    assert response.status_code == 200, response.text
    return [hit["tool_id"] for hit in response.json()["results"]]


def seen_within(check: object, limit: float) -> float:
    """Seconds until ``check()`` holds; fails past ``limit``."""
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        elapsed = time.monotonic() - started
        assert elapsed <= limit, f"not seen within {limit} s"
        time.sleep(0.02)
    return time.monotonic() - started


def serve_with(home: Path, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], httpx.Client]:
    port = free_port()
    process = start(["serve", "--port", str(port), *args], environment(home, **env))
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        wait_until(lambda: _up(client), timeout=90)
    except AssertionError:
        kill(process)
        raise
    return process, client


def _up(client: httpx.Client) -> bool:
    try:
        return client.get("/api/health").status_code == 200
    except httpx.HTTPError:
        return False


def test_a_tool_added_through_one_replica_is_found_on_another_within_2_s(
    shared_index: Path, tmp_path: Path, docs_server: str
) -> None:
    # Vector search only: BM25 reads the catalog directly and would find the tool without the index.
    env = {"CAPMATCH_INDEX_DIR": str(shared_index), "CAPMATCH_SEARCH_MODE": "vector"}
    writer, one = serve_with(tmp_path / "api-1", **env)  # with its in-process worker
    reader, two = serve_with(tmp_path / "api-2", "--no-worker", **env)
    query = "lenient parsing of documents"
    try:
        assert vector_hits(two, query) == []
        job = one.post("/api/tools", json={"url": f"{docs_server}/docs/pliant.rst"}).json()
        done = wait_for_job(one, job["job_id"], timeout=120)
        assert done["status"] == "done", done
        added = seen_within(lambda: "pliant" in vector_hits(two, query), 2.0)
        health = two.get("/api/health").json()
        assert health["index"]["count"] == health["capabilities"] > 0
        assert one.delete("/api/tools/pliant").status_code == 204
        deleted = seen_within(lambda: "pliant" not in vector_hits(two, query), 2.0)
        print(f"seen on the other replica after {added:.2f} s (add), {deleted:.2f} s (delete)")
    finally:
        one.close()
        two.close()
        kill(writer)
        kill(reader)
