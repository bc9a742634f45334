"""The README's offline example ("Try it offline"), run as written: its `python3 -m http.server` and
`curl` commands, with the ports moved to free ones, against a server holding the demo catalog. The
page it submits is one the demo catalog lacks, and the tool it creates is the one the README shows."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.runtime import Runtime
from capmatch.settings import Settings

from .conftest import FIXTURES, ROOT, RunningServer, demo_records, free_port, ingest_demo, wait_for_job


def example_commands() -> list[str]:
    """The shell commands of the first sh block under "### Try it offline", continuation lines
    joined, comments dropped."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Try it offline", 1)[1]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        if line.startswith("#"):
            continue
        commands.append(re.sub(r"\s+#.*$", "", line).strip())
    return [c for c in commands if c]


def the(commands: list[str], start: str) -> str:
    found = [c for c in commands if c.startswith(start)]
    assert len(found) == 1, (start, commands)
    return found[0]


@pytest.fixture(scope="module")
def commands() -> list[str]:
    return example_commands()


@pytest.fixture(scope="module")
def page_server(commands: list[str]) -> Iterator[int]:
    """The README's http.server command, on a free port, as its own process."""
    port = free_port()
    argv = shlex.split(the(commands, "python3 -m http.server").rstrip("&").strip())
    argv = [sys.executable if a == "python3" else str(port) if a == "8001" else a for a in argv]
    process = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    """`CAPMATCH_ALLOW_PRIVATE_URLS=1 make run`: the demo catalog, local URLs allowed."""
    settings = Settings(home=tmp_path_factory.mktemp("readme-example"), allow_private_urls=True)
    ingest_demo(Runtime(settings, embedder=embedder))
    with RunningServer(settings) as server:
        yield server.url


def curl(command: str, site: str, page_port: int) -> dict[str, object]:
    """Run one of the README's curl commands against the test's servers."""
    command = command.replace("localhost:8000", site).replace("127.0.0.1:8001", f"127.0.0.1:{page_port}")
    out = subprocess.run(shlex.split(command), capture_output=True, text=True, check=True, timeout=60).stdout
    return json.loads(out)  # type: ignore[no-any-return]


def test_the_example_page_is_not_in_the_demo_catalog(commands: list[str]) -> None:
    served = the(commands, "python3 -m http.server").split("-d ", 1)[1].split()[0]
    assert (ROOT / served / "tickwork.md").is_file()
    assert "tickwork" not in json.dumps(demo_records()).lower()
    assert not (FIXTURES / "docs" / "tickwork.md").exists()


def test_the_readme_example_creates_the_tool_it_shows(commands: list[str], page_server: int, demo_site: str) -> None:
    submit = the(commands, "curl -s -X POST")
    job = curl(submit, demo_site, page_server)
    assert job["status"] == "queued" and job["existing"] is False and job["outcome"] is None
    with httpx.Client(base_url=demo_site, timeout=30) as client:
        done = wait_for_job(client, str(job["job_id"]), timeout=180)
        assert done["status"] == "done" and done["tool_id"] == "tickwork", done
        assert done["outcome"] == "created" and done["existing"] is False

        # What the README says the tool page shows.
        tool = curl(the(commands, "curl -s localhost:8000/api/tools/tickwork"), demo_site, page_server)
        assert (tool["name"], tool["type"], tool["pricing"], tool["license"]) == ("Tickwork", "Library", "Free", "MIT")
        names = [c["name"] for c in tool["capabilities"]]  # type: ignore[attr-defined]
        assert {"Cron and interval schedules", "Missed-run policy"} <= set(names), names
        similar = client.get("/api/tools/tickwork/similar", params={"k": 3}).json()["results"]
        assert {h["tool_id"] for h in similar[:2]} <= {"emberq", "pgtide", "relaywork"}, similar

        # Submitted again: nothing changes, and the job says so.
        again = wait_for_job(client, str(curl(submit, demo_site, page_server)["job_id"]))
        assert (again["status"], again["outcome"], again["existing"], again["tool_id"]) == (
            "done",
            "unchanged",
            True,
            "tickwork",
        )
        assert "Unchanged: this content is already in the catalog as" in client.get(f"/jobs/{again['job_id']}").text
