"""The LLM backend end to end through the API and the CLI, against the loopback endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from capmatch.cli import app
from capmatch.evaluation.fake_llm import LLMServer
from capmatch.settings import Settings
from tests.conftest import PAGES, RunningServer, wait_for_job


@pytest.fixture(scope="module")
def llm_api(
    tmp_path_factory: pytest.TempPathFactory, llm_server: LLMServer, docs_server: str
) -> Iterator[httpx.Client]:
    settings = Settings(
        home=tmp_path_factory.mktemp("llm-api"),
        allow_private_urls=True,
        openai_base_url=llm_server.url,
        openai_api_key="test-key",
        llm_model="test-model",
        llm_backoff_base=0.01,
        llm_prices={"test-model": (1.0, 2.0)},
    )
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_a_url_submitted_with_the_llm_backend_is_stored_grounded(
    llm_api: httpx.Client, llm_server: LLMServer, docs_server: str
) -> None:
    llm_server.reset()
    job = llm_api.post("/api/tools", json={"url": f"{docs_server}/docs/fetchwire.md", "extractor": "llm"}).json()
    done = wait_for_job(llm_api, job["job_id"])
    assert done["status"] == "done", done
    assert done["backend"] == "llm" and done["model"] == "test-model" and "extract@" in done["prompt_version"]
    assert done["usage"]["requests"] == 1 and done["usage"]["prompt_tokens"] > 0 and done["usage"]["cost_usd"] > 0
    calls = llm_api.get(f"/api/jobs/{job['job_id']}/calls").json()
    # The page fits one request, and its rules settle type, pricing and licence: capabilities only.
    assert [(c["kind"], c["status"]) for c in calls] == [("decompose", 200)]
    assert sum(c["prompt_tokens"] for c in calls) == done["usage"]["prompt_tokens"]
    tool = llm_api.get(f"/api/tools/{done['tool_id']}").json()
    assert tool["extractor"] == "llm" and tool["usage"]["requests"] == 1 and tool["grounding_rate"] == 1.0
    source = llm_api.get(f"/api/tools/{tool['id']}/source").text
    for cap in tool["capabilities"]:
        assert cap["prompt_version"] and cap["evidence"]
        for evidence in cap["evidence"]:
            assert source[evidence["start"] : evidence["end"]] == evidence["quote"]


def test_auto_is_the_default_and_picks_the_configured_llm(
    llm_api: httpx.Client, llm_server: LLMServer, docs_server: str
) -> None:
    job = llm_api.post("/api/tools", json={"url": f"{docs_server}/docs/pliant.rst"}).json()
    done = wait_for_job(llm_api, job["job_id"])
    assert done["status"] == "done" and done["backend"] == "llm" and done["notice"] is None


def test_a_failing_endpoint_fails_the_job_with_what_happened(
    llm_api: httpx.Client, llm_server: LLMServer, docs_server: str
) -> None:
    llm_server.reset()
    llm_server.script(*[{"status": 503, "message": "overloaded"}] * 5)
    before = llm_api.get("/api/health").json()["tools"]
    job = llm_api.post("/api/tools", json={"url": f"{docs_server}/docs/emberq.md", "extractor": "llm"}).json()
    done = wait_for_job(llm_api, job["job_id"])
    assert done["status"] == "failed" and done["error_code"] == "llm_failed"
    assert "answered HTTP 503 after 5 requests for this decompose answer (4 retries" in done["error"]
    assert "overloaded" in done["error"]
    assert done["usage"]["requests"] == 5
    calls = llm_api.get(f"/api/jobs/{job['job_id']}/calls").json()
    assert [c["status"] for c in calls] == [503] * 5 and {c["kind"] for c in calls} == {"decompose"}
    assert llm_api.get("/api/health").json()["tools"] == before


def test_llm_without_an_endpoint_is_refused_at_submission(
    tmp_path_factory: pytest.TempPathFactory, docs_server: str
) -> None:
    settings = Settings(home=tmp_path_factory.mktemp("no-llm"), allow_private_urls=True)
    with RunningServer(settings, start_worker=False) as server, httpx.Client(base_url=server.url) as client:
        response = client.post("/api/tools", json={"url": f"{docs_server}/docs/emberq.md", "extractor": "llm"})
        assert response.status_code == 400 and response.json()["error"]["code"] == "llm_not_configured"
        job = client.post("/api/tools", json={"url": f"{docs_server}/docs/emberq.md"}).json()
        assert job["status"] == "queued"  # auto: accepted, will use the extractive backend


def test_cli_add_with_the_llm_backend_and_dry_run(llm_env: LLMServer) -> None:
    runner = CliRunner()
    plan = runner.invoke(app, ["add", str(PAGES / "tiny.md"), "--extractor", "llm", "--dry-run", "--json"])
    assert plan.exit_code == 0, plan.stderr
    assert json.loads(plan.stdout)["requests"] == 1 and llm_env.requests == []  # capabilities and facts at once
    result = runner.invoke(app, ["add", str(PAGES / "tiny.md"), "--extractor", "llm", "--json"])
    assert result.exit_code == 0, result.stderr
    tool = json.loads(result.stdout)
    assert tool["extractor"] == "llm" and len(tool["capabilities"]) == 3
    assert "LLM: 1 requests (0 retries, 0 re-asks, 0 cached)" in result.stderr


def test_dry_run_needs_no_endpoint_and_says_which_prices_it_assumed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run before choosing a provider: no endpoint, only a model name (or none: the default model and prices)."""
    runner = CliRunner()
    plan = runner.invoke(app, ["add", str(PAGES / "tiny.md"), "--extractor", "llm", "--dry-run"])
    assert plan.exit_code == 0, plan.stderr
    assert "backend llm (gpt-4o-mini): 1 requests" in plan.stdout
    assert "prices assumed: gpt-4o-mini: $0.15 per 1M prompt tokens, $0.6 per 1M completion tokens" in plan.stdout
    assert "(the default price table)" in plan.stdout and "estimate only" in plan.stderr

    monkeypatch.setenv("CAPMATCH_LLM_MODEL", "my-local-model")
    plan = runner.invoke(app, ["add", str(PAGES / "tiny.md"), "--extractor", "llm", "--dry-run", "--json"])
    assert plan.exit_code == 0, plan.stderr
    data = json.loads(plan.stdout)
    assert data["model"] == "my-local-model" and data["requests"] == 1 and data["cost_usd"] is None
    assert data["prompt_tokens"] > 0 and "no price for my-local-model" in data["prices"]

    monkeypatch.setenv("CAPMATCH_LLM_PRICES", '{"my-local-model": [0, 0]}')
    data = json.loads(
        runner.invoke(app, ["add", str(PAGES / "tiny.md"), "--extractor", "llm", "--dry-run", "--json"]).stdout
    )
    assert data["cost_usd"] == 0 and "(CAPMATCH_LLM_PRICES)" in data["prices"]
    # Nothing was stored, and a real run without an endpoint is still refused before any work.
    result = runner.invoke(app, ["add", str(PAGES / "tiny.md"), "--extractor", "llm"])
    assert result.exit_code != 0 and "OPENAI_API_KEY" in result.stderr
