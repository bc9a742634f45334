"""The LLM path on replayed answers: hand-written answers to capmatch's real prompts for vendor-docs
pages (fixtures/replay), served by a loopback OpenAI-compatible server to the real openai SDK and
instructor, through the API, the job queue and the worker.

The answers carry the imperfections real models show (stitched, paraphrased and re-punctuated quotes,
claims the page does not make, competitors named from general knowledge, a truncated answer). What is
asserted is what capmatch guarantees about them, not their quality.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.evaluation.extract import evaluate
from capmatch.evaluation.replay import GroundingTally, page_requests, replayed, stale_fixtures
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose.llm import LLMDecomposer
from capmatch.extractor.decompose.llm_schema import too_short
from capmatch.extractor.fetch import EXTENSIONS
from capmatch.extractor.verify import locate
from capmatch.llm.replay import ReplayBook, ReplayServer, answering_key
from capmatch.runtime import Runtime
from capmatch.settings import Settings
from tests.conftest import FIXTURES, SHARED_DATA, RunningServer, require_shared, wait_for_job

REPLAY = FIXTURES / "replay"
VENDOR_DOCS = SHARED_DATA / "vendor-docs"
GOLD = FIXTURES / "gold" / "vendor-docs.jsonl"
# In this order each page after the first has neighbours in the catalog, so contrast is asked too
# (CAPMATCH_LLM_CONTRAST=true: the model-written lines are opt-in).
# voluptuous is long: two decompose parts and a classify request.
PAGES = ["http-clients/requests.md", "http-clients/httpx.md", "python-web-frameworks/starlette.md",
         "python-web-frameworks/flask.md", "data-validation/voluptuous.md"]  # fmt: skip


def fixture_for(page: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPLAY / f"{Path(page).stem}.json").read_text(encoding="utf-8"))
    return data


def quotes_not_in(page: str) -> set[str]:
    """Every quote an answer for ``page`` gives that is not in the page: invented, stitched, paraphrased."""
    path = VENDOR_DOCS / page
    source = clean(path.read_text(encoding="utf-8"), EXTENSIONS[path.suffix]).text  # quotes are checked against it
    quotes = {
        quote
        for request in fixture_for(page)["requests"]
        for attempt in request["attempts"]
        for cap in (attempt.get("answer") or {}).get("capabilities", [])
        for quote in cap.get("evidence", [])
    }
    return {q for q in quotes if locate(q, source) is None}


@pytest.fixture(scope="module")
def vendor_pages() -> Iterator[str]:
    """The vendor-docs pages over HTTP on loopback (text/markdown), as a vendor's site would serve them."""
    require_shared(VENDOR_DOCS)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(VENDOR_DOCS)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def replay_server() -> Iterator[ReplayServer]:
    with ReplayServer(ReplayBook.load(REPLAY)) as server:
        yield server


def test_every_fixture_answers_the_prompts_its_page_sends(core: Runtime) -> None:
    require_shared(VENDOR_DOCS)
    decomposer = LLMDecomposer(core.embedder, core.settings, core.catalog, estimate_only=True)
    assert stale_fixtures(REPLAY, decomposer) == []


def test_replayed_pages_end_done_grounded_and_metered_by_the_server(
    tmp_path: Path, replay_server: ReplayServer, vendor_pages: str
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        allow_private_urls=True,
        openai_base_url=replay_server.url,
        openai_api_key="replay",
        llm_model="replay",
        llm_backoff_base=0.0,
        llm_prices={"replay": (0.0, 0.0)},
        llm_contrast=True,  # opt-in: the replayed contrast answers are served too
    )
    with RunningServer(settings) as api, httpx.Client(base_url=api.url, timeout=30) as client:
        for page in PAGES:
            served_before = len(replay_server.served)
            submitted = client.post("/api/tools", json={"url": f"{vendor_pages}/{page}", "extractor": "llm"}).json()
            job = wait_for_job(client, submitted["job_id"])
            served = replay_server.served[served_before:]
            assert job["status"] == "done", (page, job)
            assert job["backend"] == "llm" and job["model"] == "replay"
            # The usage a job reports is the server's own token counts, re-asks included.
            usage = job["usage"]
            assert usage["requests"] == len(served) and usage["estimated"] is False
            assert usage["prompt_tokens"] == sum(s.prompt_tokens for s in served)
            assert usage["completion_tokens"] == sum(s.completion_tokens for s in served)
            assert usage["reasks"] == sum(1 for s in served if s.attempt > 0)
            assert usage["prompt_cached_tokens"] == sum(s.cached_tokens for s in served)

            tool = client.get(f"/api/tools/{job['tool_id']}").json()
            source = client.get(f"/api/tools/{job['tool_id']}/source").text
            invented = quotes_not_in(page)
            for cap in tool["capabilities"]:
                assert cap["evidence"] or not cap["grounded"], cap
                for evidence in cap["evidence"]:
                    assert evidence["quote"] not in invented, (page, evidence)
                    assert source[evidence["start"] : evidence["end"]] == evidence["quote"]
        assert replay_server.unknown == []
        # Re-asks resend the whole earlier prompt: a provider's prefix cache serves it, and it is reported.
        assert any(s.cached_tokens for s in replay_server.served if s.attempt > 0)
        assert quotes_not_in(PAGES[0]) and quotes_not_in(PAGES[1])  # so the check above is not vacuous

        httpx_tool = client.get("/api/tools/httpx").json()
        by_name = {c["name"]: c for c in httpx_tool["capabilities"]}
        # A paraphrase the model kept through every re-ask: stored, flagged, without its quote.
        assert by_name["HTTP/1.1 and HTTP/2 support"]["grounded"] is False
        assert by_name["HTTP/1.1 and HTTP/2 support"]["evidence"] == []
        # A stitched quote the model split when re-asked: grounded on the page's own words.
        requests_tool = client.get("/api/tools/requests").json()
        pooling = next(c for c in requests_tool["capabilities"] if c["name"] == "Keep-alive and connection pooling")
        assert pooling["grounded"] is True
        # A competitor from general knowledge is shown as outside the catalog, never as a catalog tool:
        # named without the flag first (re-asked), flagged the second time.
        starlette = client.get("/api/tools/starlette").json()
        lines = " ".join(c["vs_alternatives"] or "" for c in starlette["capabilities"])
        assert "vs FastAPI (outside the catalog)" in lines
        # The long page took every kind of request. Its rules leave only the pricing open, so the classify
        # request asks for that alone and the recorded answer is served cut to it: the licence the
        # model named there with an invented quote is neither asked nor stored.
        assert {s.key.split(":")[0] for s in replay_server.served} == {"extract", "decompose", "classify", "contrast"}
        classify = [s for s in replay_server.served if s.key.startswith("classify:")]
        pricing_fields = {"pricing", "pricing_quote", "starting_price", "price_unit", "price_quote"}
        assert classify and all(set(s.answer or {}) <= pricing_fields for s in classify)
        voluptuous = client.get(f"/api/tools/{job['tool_id']}").json()
        assert voluptuous["license"] != "BSD-3-Clause"


def test_an_unknown_prompt_gets_a_clear_error(replay_server: ReplayServer) -> None:
    client = openai.OpenAI(base_url=replay_server.url, api_key="replay", max_retries=0)
    messages = [
        {"role": "system", "content": "You read documentation.\n\nTask: extract\n\nReport what it states."},
        {
            "role": "user",
            "content": 'Tool: "Nobody"\n\n<document-0123456789>\nA page no fixture answers.\n</document-0123456789>',
        },
    ]
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="replay", messages=messages)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "replay: no fixture answers this extract prompt (key extract:" in message
    assert "vendor text begins 'A page no fixture answers.'" in message
    assert "Add one to fixtures/replay with scripts/replay_prompts.py" in message


def test_a_capabilities_only_prompt_borrows_only_the_same_texts_extract_answer(
    core: Runtime, replay_server: ReplayServer
) -> None:
    """httpx's rules settle its facts, so it is sent the decompose task over the text an extract
    request would carry; the replay answers it with that extract answer's capabilities, and never a
    different text."""
    require_shared(VENDOR_DOCS)
    decomposer = LLMDecomposer(core.embedder, core.settings, core.catalog, estimate_only=True)
    (key, kind, messages), *rest = page_requests(VENDOR_DOCS / "http-clients/httpx.md", decomposer)
    assert kind == "decompose" and rest == []
    extract_key = next(r["key"] for r in fixture_for("http-clients/httpx.md")["requests"] if r["task"] == "extract")
    assert answering_key(messages, replay_server.book.answers) == extract_key != key
    status, payload = replay_server.answer({"messages": messages})
    assert status == 200 and replay_server.served[-1].answered_by == extract_key
    answer = json.loads(payload["choices"][0]["message"]["content"].removeprefix("```json\n").removesuffix("\n```"))
    recorded = fixture_for("http-clients/httpx.md")["requests"][0]["attempts"][0]["answer"]
    assert set(recorded) > {"capabilities"} and answer == {"capabilities": recorded["capabilities"]}
    assert "BSD licensed" in messages[1]["content"]
    changed = [messages[0], {**messages[1], "content": messages[1]["content"].replace("BSD licensed", "MIT licensed")}]
    assert answering_key(changed, replay_server.book.answers) is None
    assert replay_server.answer({"messages": changed})[0] == 404


def test_eval_extract_on_replayed_answers_counts_grounding(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    require_shared(VENDOR_DOCS)
    base = Settings(home=tmp_path / "eval", shared_data=SHARED_DATA)
    with replayed(base, REPLAY) as (settings, server):
        core = Runtime(settings, embedder=embedder)
        decomposer = LLMDecomposer(embedder, settings, core.catalog)
        tally = GroundingTally(server)
        result = evaluate(GOLD, decomposer, embedder, settings, tools=["requests", "xgrammar"], observe=tally.observe)
    report = tally.report()
    # xgrammar's first answer was cut off: every capability it kept came after the re-ask.
    assert report["per_tool"]["xgrammar"]["first_time"] == 0
    assert report["per_tool"]["xgrammar"]["after_reask"] == 11
    assert report["truncated_answers"] == 1
    # requests: the stitched quote was split when re-asked; its two-word list items are whole lines.
    assert report["per_tool"]["requests"] == {"first_time": 13, "after_reask": 1, "kept_ungrounded": 0, "dropped": 0}
    assert result["pages"] == 2 and result["failed_pages"] == 0
    assert result["usage"]["requests"] == report["requests"] == 4


def test_a_two_word_quote_is_evidence_only_as_a_whole_line() -> None:
    source = "## Features\n\n- Streaming Downloads\n- Connection Timeouts.\n\nWe love streaming downloads of cats."
    assert not too_short("Streaming Downloads", source)
    assert not too_short("connection timeouts", source)  # case and end punctuation aside
    assert too_short("love streaming", source)  # two words from inside a sentence
    assert too_short("Streaming", source)  # one word is never enough
    assert not too_short("We love streaming downloads", source)
