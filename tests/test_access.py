"""Access control over real HTTP: with CAPMATCH_API_KEY set every write needs the bearer key (reads
stay public), the submit page asks for it too, and each client's submissions are rate-limited."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from capmatch.errors import RateLimited
from capmatch.http.access import SubmissionLimiter, exposure_warning, key_matches
from capmatch.settings import Settings

from .conftest import ROOT, RunningServer, free_port, wait_for_job

KEY = "k3y-with-enough-entropy-0123456789"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = Settings(
        home=tmp_path_factory.mktemp("guarded"), allow_private_urls=True, api_key=KEY, submit_rate_per_minute=4
    )
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_writes_need_the_key_and_reads_do_not(guarded: httpx.Client, docs_server: str) -> None:
    url = {"url": f"{docs_server}/docs/pliant.rst"}
    for headers in ({}, bearer("wrong"), {"Authorization": f"Basic {KEY}"}, bearer(KEY + "x")):
        refused = guarded.post("/api/tools", json=url, headers=headers)
        assert refused.status_code == 401, headers
        assert refused.json()["error"]["code"] == "unauthorized"
        assert "CAPMATCH_API_KEY" in refused.json()["error"]["message"]
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert guarded.get("/api/jobs").json() == [], "a refused submission queues nothing"

    accepted = guarded.post("/api/tools", json=url, headers=bearer(KEY))
    assert accepted.status_code == 202
    job = wait_for_job(guarded, accepted.json()["job_id"])
    assert job["status"] == "done"
    tool = str(job["tool_id"])

    for method, path in (("DELETE", f"/api/tools/{tool}"), ("POST", "/api/reindex")):
        assert guarded.request(method, path).status_code == 401, path
    assert guarded.get(f"/api/tools/{tool}").status_code == 200  # still there
    for path in ("/api/tools", f"/api/tools/{tool}", "/api/search?q=http", "/api/graph", "/api/health", "/"):
        assert guarded.get(path).status_code == 200, path
    assert guarded.post("/api/reindex", headers=bearer(KEY)).status_code == 200
    assert guarded.delete(f"/api/tools/{tool}", headers=bearer(KEY)).status_code == 204


def test_the_openapi_document_declares_the_bearer_scheme(guarded: httpx.Client) -> None:
    spec = guarded.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/tools"]["post"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in spec["paths"]["/api/tools"]["get"]


def test_the_submit_page_asks_for_the_key(guarded: httpx.Client, docs_server: str) -> None:
    assert 'name="api_key"' in guarded.get("/submit").text
    form = {"url": f"{docs_server}/docs/ferrox.md", "api_key": "nope"}
    refused = guarded.post("/submit", data=form, follow_redirects=False)
    assert refused.status_code == 401 and "wrong API key" in refused.text
    assert f'value="{docs_server}/docs/ferrox.md"' in refused.text  # what was typed is kept
    accepted = guarded.post("/submit", data={**form, "api_key": KEY}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/jobs/")


def test_submissions_are_rate_limited_per_client(tmp_path: Path, docs_server: str) -> None:
    settings = Settings(home=tmp_path / "limited", allow_private_urls=True, submit_rate_per_minute=3)
    with RunningServer(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        codes = [
            client.post("/api/tools", json={"url": f"{docs_server}/docs/{name}"}).status_code
            for name in ("pliant.rst", "ferrox.md", "emberq.md", "pgtide.html")
        ]
        assert codes == [202, 202, 202, 429]
        limited = client.post("/api/tools", json={"url": f"{docs_server}/docs/relaywork.md"})
        assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert len(client.get("/api/jobs").json()) == 3, "a limited submission queues nothing"
        token = client.get("/submit").text.split('name="form_token" value="', 1)[1].split('"', 1)[0]
        form = {"url": f"{docs_server}/docs/relaywork.md", "form_token": token}
        page = client.post("/submit", data=form, follow_redirects=False)
        assert page.status_code == 429 and "try again in" in page.text and page.headers["retry-after"]


def test_the_window_slides() -> None:
    limiter = SubmissionLimiter(per_minute=2, window=0.3)
    limiter.check("a")
    limiter.check("a")
    with pytest.raises(RateLimited):
        limiter.check("a")
    limiter.check("b")  # another client has its own allowance
    time.sleep(0.35)
    limiter.check("a")


def test_key_comparison() -> None:
    assert key_matches(KEY, KEY)
    assert not key_matches(None, KEY) and not key_matches("", KEY) and not key_matches(KEY[:-1], KEY)
    assert not key_matches("ключ", KEY)  # non-ASCII input is compared, not a crash


@pytest.mark.parametrize(
    ("host", "key", "warns"),
    [
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
        ("0.0.0.0", None, True),
        ("192.168.1.20", None, True),
        ("example.com", None, True),
        ("0.0.0.0", KEY, False),
    ],
)
def test_serve_warns_when_exposed_without_a_key(host: str, key: str | None, warns: bool) -> None:
    assert (exposure_warning(host, key) is not None) is warns


def test_serve_prints_the_warning(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPMATCH_")}
    env.update(CAPMATCH_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "capmatch.cli", "serve", "--host", "0.0.0.0", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        lines = []
        while time.monotonic() < deadline:
            line = process.stderr.readline() if process.stderr else ""
            lines.append(line)
            if "CAPMATCH_API_KEY" in line or not line:
                break
        assert any("without CAPMATCH_API_KEY" in line for line in lines), lines
    finally:
        process.kill()
        process.wait(10)
