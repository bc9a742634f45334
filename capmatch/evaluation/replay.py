"""Measuring the LLM path on replayed answers (capmatch/llm/replay.py): what grounding accepted, when.

These figures describe how capmatch treats the hand-written answers in fixtures/replay (their
deliberate imperfections included), not how well any model does the task.

For each page, each capability is counted once:
- ``first_time``: stored grounded, and already acceptable in the first answer (its quotes were in
  the page and long enough);
- ``after_reask``: stored grounded, but not acceptable in the first answer (a quote was stitched,
  paraphrased or too short, or the first answer was cut off) — it took a re-ask;
- ``kept_ungrounded``: stored with grounded=false after the last re-ask (its unsupported quotes are
  never stored as evidence);
- ``dropped``: in the first answer with an unsupported quote, and not stored at all (the model left
  it out when re-asked, or CAPMATCH_LLM_UNGROUNDED=drop).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from capmatch.evaluation.extract import GoldPage
from capmatch.extractor.classify import tool_name
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose.base import SourceDocument
from capmatch.extractor.decompose.llm import LLMDecomposer
from capmatch.extractor.decompose.llm_schema import too_short
from capmatch.extractor.fetch import EXTENSIONS, read_path
from capmatch.extractor.segment import segment
from capmatch.extractor.verify import locate
from capmatch.llm.replay import ReplayBook, ReplayServer, Served, answering_key, replay_key
from capmatch.models import Capability
from capmatch.settings import Settings

REPLAY_MODEL = "replay"
OUTCOMES = ("first_time", "after_reask", "kept_ungrounded", "dropped")


@contextmanager
def replayed(settings: Settings, folder: Path) -> Iterator[tuple[Settings, ReplayServer]]:
    """Settings that point the LLM backend at a replay server for ``folder``'s answers, while it runs."""
    with ReplayServer(ReplayBook.load(folder)) as server:
        yield (
            settings.model_copy(
                update={
                    "openai_base_url": server.url,
                    "openai_api_key": "replay",
                    "llm_model": REPLAY_MODEL,
                    "llm_backoff_base": 0.0,
                }
            ),
            server,
        )


def _key(name: str) -> str:
    return re.sub(r"\W+", " ", name.lower()).strip()


def acceptable(capability: dict[str, Any], source: str) -> bool:
    """What the validator accepts of one capability: every quote long enough and in the page."""
    quotes = [str(q) for q in capability.get("evidence") or []]
    return bool(quotes) and all(not too_short(q, source) and locate(q, source) is not None for q in quotes)


@dataclass
class GroundingTally:
    """Filled page by page (pass ``observe`` to evaluation.extract.evaluate)."""

    server: ReplayServer
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    per_tool: dict[str, dict[str, int]] = field(default_factory=dict)
    _seen: int = 0

    def observe(self, page: GoldPage, produced: list[Capability]) -> None:
        served = self.server.served[self._seen :]
        self._seen = len(self.server.served)
        first = _first_answer(served)
        source = _source(page)
        ok_first = {_key(c["name"]) for c in first if source is not None and acceptable(c, source)}
        stored = {_key(c.name) for c in produced}
        counts = dict.fromkeys(OUTCOMES, 0)
        for cap in produced:
            if not cap.grounded:
                counts["kept_ungrounded"] += 1
            elif _key(cap.name) in ok_first:
                counts["first_time"] += 1
            else:
                counts["after_reask"] += 1
        counts["dropped"] = sum(1 for c in first if _key(c["name"]) not in ok_first | stored)
        self.per_tool[page.tool] = counts
        for outcome, n in counts.items():
            self.counts[outcome] += n

    def report(self) -> dict[str, Any]:
        served = self.server.served
        return {
            "label": "replayed answers (fixtures/replay), not a model's skill",
            "grounding": dict(self.counts),
            "requests": len(served),
            "reasks": sum(1 for s in served if s.attempt > 0),
            "truncated_answers": sum(1 for s in served if s.truncated),
            "unknown_prompts": [key for key, _ in self.server.unknown],
            "per_tool": self.per_tool,
        }


def _first_answer(served: list[Served]) -> list[dict[str, Any]]:
    """The capabilities of the first answer to each of the page's decompose/extract prompts (one per
    part of a long page; none from an answer that was cut off)."""
    return [
        cap
        for item in served
        if item.attempt == 0 and item.key.split(":")[0] in ("extract", "decompose")
        for cap in (item.answer or {}).get("capabilities") or []
    ]


def page_requests(page: Path, decomposer: LLMDecomposer) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(replay key, task, messages) of the decompose/classify requests a local page takes, read and
    cleaned as `capmatch add` and `capmatch eval extract` read it. Sends nothing."""
    raw = read_path(page, decomposer.settings)
    doc = clean(raw.text, raw.format)
    name = tool_name(doc.title, raw.url)
    source = SourceDocument(doc.text, doc.title, name, raw.url, doc.format, segment(doc.text))
    return [(replay_key(messages), kind, messages) for kind, messages in decomposer.requests(source)]


def stale_fixtures(folder: Path, decomposer: LLMDecomposer) -> list[str]:
    """Fixtures whose decompose/classify keys no longer match what their page sends, each with why. A
    capabilities-only prompt answered from the extract fixture of the same vendor text (llm.replay.
    answering_key) counts as answered by that fixture."""
    stale = []
    for fixture in sorted(folder.glob("*.json")):
        data = json.loads(fixture.read_text(encoding="utf-8"))
        ref = str(data["page"])
        page = decomposer.settings.shared_data / ref.removeprefix("shared:") if ref.startswith("shared:") else Path(ref)
        have = {r["key"] for r in data["requests"] if r["task"] != "contrast"}
        wanted = {answering_key(messages, have) or key for key, _, messages in page_requests(page, decomposer)}
        if wanted != have:
            stale.append(f"{fixture.name}: the page sends {sorted(wanted)}, the fixture answers {sorted(have)}")
    return stale


def _source(page: GoldPage) -> str | None:
    """The cleaned page, as quotes are checked against it."""
    fmt = EXTENSIONS.get(page.page.suffix.lower())
    if fmt is None:
        return None
    return clean(page.page.read_text(encoding="utf-8", errors="replace"), fmt).text


def answered_tools(folder: Path, pages: list[GoldPage], shared_data: Path) -> list[str]:
    """The gold pages that ``folder``'s fixtures answer, by tool name."""
    refs = [json.loads(p.read_text(encoding="utf-8"))["page"] for p in sorted(folder.glob("*.json"))]
    wanted = {(shared_data / r.removeprefix("shared:")).resolve() for r in refs if r.startswith("shared:")}
    return [p.tool for p in pages if p.page.resolve() in wanted]
