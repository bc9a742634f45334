"""The API end to end over real HTTP: submit fixture URLs served on loopback, wait for the jobs,
then similar, search, compare and graph; every bad input ends with a clear error and changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from capmatch.settings import Settings

from .conftest import BACKENDS, RunningServer, wait_for_job

GROUPS = {
    "safety-models": ["wardline-guard.html", "clearsignal.html", "tinyshield.md"],
    "http-clients": ["fetchwire.md", "pliant.rst", "ferrox.md"],
    "task-queues": ["emberq.md", "pgtide.html", "relaywork.md"],
}


@pytest.fixture(scope="module", params=BACKENDS)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, docs_server: str
) -> Iterator[httpx.Client]:
    """One server per backend for the module: SQLite under its home, or a PostgreSQL database."""
    database_url = request.getfixturevalue("pg_server").create_database() if request.param == "postgres" else None
    settings = Settings(home=tmp_path_factory.mktemp("api-home"), allow_private_urls=True, database_url=database_url)
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def loaded(api: httpx.Client, docs_server: str) -> dict[str, str]:
    """Submit every fixture URL through the API; returns file -> tool id."""
    jobs = {}
    for files in GROUPS.values():
        for file in files:
            response = api.post("/api/tools", json={"url": f"{docs_server}/docs/{file}"})
            assert response.status_code == 202, response.text
            assert response.headers["location"] == f"/api/jobs/{response.json()['job_id']}"
            jobs[file] = response.json()["job_id"]
    tools = {}
    for file, job_id in jobs.items():
        job = wait_for_job(api, job_id)
        assert job["status"] == "done", job
        assert job["stage"] == "done" and job["progress"] == 1.0
        tools[file] = str(job["tool_id"])
    # On PostgreSQL the API's index follows the catalog's change log, polled about once a second (a
    # tool is searchable within 2 s of its job, README "Several machines"): wait for it, as a client
    # would, before the tests compare the index with the catalog.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, capabilities, indexed = catalog_state(api)
        if indexed == capabilities:
            break
        time.sleep(0.1)
    return tools


def catalog_state(api: httpx.Client) -> tuple[int, int, int]:
    health = api.get("/api/health").json()
    return health["tools"], health["capabilities"], health["index"]["count"]


def test_submitted_urls_become_tools(api: httpx.Client, loaded: dict[str, str]) -> None:
    listing = api.get("/api/tools").json()
    assert listing["total"] == 9
    tool = api.get(f"/api/tools/{loaded['wardline-guard.html']}").json()
    assert tool["type"] == "Model" and tool["pricing"] == "Freemium"
    assert tool["starting_price"]["unit"] == "per 1M input tokens"
    assert tool["type_basis"]["rule"].startswith("self-description")
    assert tool["grounding_rate"] == 1.0 and tool["rank"]["score"] is not None
    source = api.get(f"/api/tools/{tool['id']}/source").text
    for cap in tool["capabilities"]:
        for evidence in cap["evidence"]:
            assert source[evidence["start"] : evidence["end"]] == evidence["quote"]
    health = api.get("/api/health").json()
    assert health["index"]["count"] == health["capabilities"]


def test_similar_returns_tools_of_the_same_kind_ahead_of_others(api: httpx.Client, loaded: dict[str, str]) -> None:
    group_of = {loaded[f]: g for g, files in GROUPS.items() for f in files}
    for tool_id, group in group_of.items():
        body = api.get(f"/api/tools/{tool_id}/similar", params={"k": 4}).json()
        ranked = [hit["tool_id"] for hit in body["results"]]
        assert tool_id not in ranked
        assert {group_of[t] for t in ranked[:2]} == {group}, (tool_id, ranked)
        assert body["results"][0]["matched"], "each hit lists the capability pairs that matched"


def test_filtered_listing_counts_what_it_filters(api: httpx.Client, loaded: dict[str, str]) -> None:
    models = api.get("/api/tools", params={"type": "Model"}).json()
    assert models["total"] == len(models["tools"]) == 2
    assert api.get("/api/tools", params={"limit": 2}).json()["total"] == 9


def test_compare_needs_two_different_tools(api: httpx.Client, loaded: dict[str, str]) -> None:
    same = api.get(f"/api/compare/{loaded['pliant.rst']}/{loaded['pliant.rst']}")
    assert same.status_code == 400 and "compare two different tools" in same.json()["error"]["message"]


def test_graph_shows_current_times_matched(api: httpx.Client, loaded: dict[str, str]) -> None:
    before = {n["id"]: n["times_matched"] for n in api.get("/api/graph").json()["nodes"]}
    hits = api.get(f"/api/tools/{loaded['emberq.md']}/similar", params={"k": 2}).json()["results"]
    after = {n["id"]: n["times_matched"] for n in api.get("/api/graph").json()["nodes"]}
    for hit in hits:
        assert after[hit["tool_id"]] == before[hit["tool_id"]] + 1


def test_search_and_filters(api: httpx.Client, loaded: dict[str, str]) -> None:
    body = api.get("/api/search", params={"q": "queue background jobs in postgres", "k": 3}).json()
    assert body["results"][0]["tool_id"] == loaded["pgtide.html"]
    body = api.get("/api/search", params={"q": "moderation", "type": "Model"}).json()
    assert body["results"] and all(hit["type"] == "Model" for hit in body["results"])
    bad = api.get("/api/search", params={"q": "x", "type": "Spaceship"})
    assert bad.status_code == 400 and "unknown type 'Spaceship'" in bad.json()["error"]["message"]


def test_compare_json_and_markdown(api: httpx.Client, loaded: dict[str, str]) -> None:
    a, b = loaded["wardline-guard.html"], loaded["pgtide.html"]
    body = api.get(f"/api/compare/{a}/{b}").json()
    for key in ("title", "headline", "a", "b", "table", "alignment", "verdict", "rank_formula"):
        assert body[key], key
    assert {"matched", "only_in_a", "only_in_b", "score"} <= set(body["alignment"])
    md = api.get(f"/api/compare/{a}/{b}", params={"format": "markdown"})
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith(f"# {body['title']}") and "## Verdict" in md.text


def test_graph(api: httpx.Client, loaded: dict[str, str]) -> None:
    graph = api.get("/api/graph").json()
    assert len(graph["nodes"]) == 9 and graph["edges"]
    centred = api.get("/api/graph", params={"tool": loaded["fetchwire.md"]}).json()
    assert loaded["fetchwire.md"] in {n["id"] for n in centred["nodes"]}


@pytest.mark.both_backends
def test_same_url_while_its_job_is_open_returns_that_job(
    tmp_path_factory: pytest.TempPathFactory, docs_server: str
) -> None:
    # No worker: the first job stays queued, so the second submission must find it open.
    settings = Settings(home=tmp_path_factory.mktemp("no-worker"), allow_private_urls=True)
    with RunningServer(settings, start_worker=False) as server, httpx.Client(base_url=server.url) as client:
        url = f"{docs_server}/docs/sextant.md"
        first = client.post("/api/tools", json={"url": url}).json()
        second = client.post("/api/tools", json={"url": url}).json()
        other = client.post("/api/tools", json={"url": f"{docs_server}/docs/ferrox.md"}).json()
        assert not first["existing"] and second["existing"] and not other["existing"]
        assert second["job_id"] == first["job_id"] != other["job_id"]
        assert [j["status"] for j in client.get("/api/jobs").json()] == ["queued", "queued"]
        assert client.get("/api/jobs", params={"status": "queued"}).status_code == 200
        bogus = client.get("/api/jobs", params={"status": "bogus"})
        assert bogus.status_code == 422 and "status" in bogus.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/status/404", "fetch_failed", "HTTP 404"),
        ("/status/500", "fetch_failed", "HTTP 500"),
        ("/loop", "too_many_redirects", "redirects (loop?)"),
        ("/image.png", "unsupported_content_type", "'image/png' is not a document"),
        ("/archive.zip", "unsupported_content_type", "'application/zip' is not a document"),
        ("/huge", "content_too_large", "over the 5242880-byte cap"),
        ("/empty", "empty_document", "no readable text"),
        ("/pages/no-capabilities.html", "no_capabilities", "no capability-bearing text found"),
    ],
)
def test_bad_pages_fail_their_job_with_the_reason_and_change_nothing(
    api: httpx.Client, loaded: dict[str, str], docs_server: str, path: str, code: str, message: str
) -> None:
    before = catalog_state(api)
    job = api.post("/api/tools", json={"url": docs_server + path}).json()
    done = wait_for_job(api, job["job_id"])
    assert done["status"] == "failed" and done["error_code"] == code
    assert message in done["error"] and done["tool_id"] is None
    assert catalog_state(api) == before


def test_unreachable_host_fails_the_job(api: httpx.Client, loaded: dict[str, str]) -> None:
    before = catalog_state(api)
    done = wait_for_job(api, api.post("/api/tools", json={"url": "http://127.0.0.1:9/x"}).json()["job_id"])
    assert done["status"] == "failed" and "could not fetch http://127.0.0.1:9/x" in done["error"]
    assert catalog_state(api) == before


def test_bad_requests(api: httpx.Client) -> None:
    malformed = api.post("/api/tools", content=b'{"url": ', headers={"content-type": "application/json"})
    assert malformed.status_code == 422
    assert malformed.json()["error"]["message"].startswith("malformed JSON body")
    missing = api.post("/api/tools", json={"name": "x"})
    assert missing.status_code == 422 and "url: Field required" in missing.json()["error"]["message"]
    scheme = api.post("/api/tools", json={"url": "ftp://example.com/readme"})
    assert scheme.status_code == 422
    extractor = api.post("/api/tools", json={"url": "https://example.com/", "extractor": "magic"})
    assert extractor.status_code == 400 and "unknown extractor 'magic'" in extractor.json()["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/tools/nope",
        "/api/tools/nope/similar",
        "/api/tools/nope/source",
        "/api/jobs/nope",
        "/api/compare/nope/also-nope",
        "/api/graph?tool=nope",
    ],
)
def test_unknown_ids_are_404(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found" and "nope" in response.json()["error"]["message"]


def test_delete_tool(api: httpx.Client, loaded: dict[str, str]) -> None:
    victim = loaded["ferrox.md"]
    name = api.get(f"/api/tools/{victim}").json()["name"]
    named_before = [
        t["id"]
        for t in api.get("/api/tools").json()["tools"]
        if any(f"{name} (“" in c["vs_alternatives"] for c in api.get(f"/api/tools/{t['id']}").json()["capabilities"])
    ]
    assert named_before, "the test needs tools whose lines name the victim"
    assert api.delete(f"/api/tools/{victim}").status_code == 204
    assert api.get(f"/api/tools/{victim}").status_code == 404
    for tool in api.get("/api/tools").json()["tools"]:
        detail = api.get(f"/api/tools/{tool['id']}").json()
        for cap in detail["capabilities"]:
            assert victim not in [a["tool_id"] for a in cap["alternatives"]]
            # vs lines name an alternative as 'Tool (“capability”)', Unique lines list the comparable tools
            # by name; the vendor's own text may still mention the deleted tool, which is fine.
            assert f"{name} (“" not in cap["vs_alternatives"] and name not in cap["unique"]
    graph = api.get("/api/graph").json()
    assert victim not in {n["id"] for n in graph["nodes"]}
    assert all(victim not in (e["source"], e["target"]) for e in graph["edges"])
    health = api.get("/api/health").json()
    assert health["index"]["count"] == health["capabilities"]


def test_openapi_documents_every_endpoint(api: httpx.Client) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/api/tools",
        "/api/jobs/{job_id}",
        "/api/tools/{tool_id}",
        "/api/tools/{tool_id}/similar",
        "/api/search",
        "/api/compare/{a}/{b}",
        "/api/graph",
    ):
        assert path in paths
    assert api.get("/docs").status_code == 200


def test_private_urls_are_refused_at_submission(tmp_path_factory: pytest.TempPathFactory, docs_server: str) -> None:
    settings = Settings(home=tmp_path_factory.mktemp("strict-home"), allow_private_urls=False)
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post("/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md"})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "private_address"
        assert "CAPMATCH_ALLOW_PRIVATE_URLS=1" in response.json()["error"]["message"]
        assert client.get("/api/jobs").json() == []
