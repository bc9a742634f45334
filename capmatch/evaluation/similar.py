"""`capmatch eval similar`: capmatch against BM25 and whole-text embedding, on the same documents.

A temporary catalog (never the user's) is built from a labelled JSONL in the ingest format. Each tool
whose category has another member is a query; relevant = same category. The baselines rank the
same tools from the records' documents as given (what a user would do instead): BM25 (bm25s) over
the text, and one MiniLM vector per document.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capmatch.embeddings.model import get_embedder
from capmatch.errors import CapmatchError
from capmatch.evaluation.metrics import Scores
from capmatch.pipeline.ingest import load_document
from capmatch.pipeline.records import read_records
from capmatch.runtime import Runtime
from capmatch.settings import Settings

Progress = Callable[[str, int, int], None]


@dataclass
class Item:
    tool_id: str
    name: str
    category: str
    document: str


def evaluate(
    dataset: Path,
    k: int = 10,
    extractor: str = "extractive",
    settings: Settings | None = None,
    progress: Progress | None = None,
    home: Path | None = None,
    per_category: int | None = None,
) -> dict[str, object]:
    """Scores of capmatch and both baselines on ``dataset``. With ``home``, the catalog built there is
    kept and reused by the next run on the same dataset (same file, size and extractor)."""
    progress = progress or (lambda stage, done, total: None)
    with _catalog_home(home) as where:
        core, items, failures = build(dataset, where, extractor, settings, progress, per_category)
        return {
            "capmatch": _capmatch(core, items, k, progress),
            "bm25": _bm25(items, k),
            "embedding": _embedding(items, k, core.settings.embedding_model),
            "dataset": str(dataset),
            "tools": len(items),
            "failed": failures,
        }


@contextmanager
def _catalog_home(home: Path | None) -> Iterator[Path]:
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        yield home
        return
    with tempfile.TemporaryDirectory(prefix="capmatch-eval-") as temporary:
        yield Path(temporary)


def extractor_version(extractor: str, settings: Settings) -> str:
    """The version a catalog built by ``extractor`` records (``tools.extractor_version``)."""
    if extractor == "extractive":
        from capmatch.extractor.decompose.extractive import ExtractiveDecomposer

        return ExtractiveDecomposer.version
    from capmatch.extractor.decompose.llm import prompt_version

    return f"{prompt_version()}|{settings.llm_model}|{settings.llm_mode}"


def build(
    dataset: Path,
    home: Path,
    extractor: str,
    settings: Settings | None,
    progress: Progress,
    per_category: int | None = None,
) -> tuple[Runtime, list[Item], list[dict[str, object]]]:
    """A catalog of ``dataset``'s records in ``home`` (reused when built there before from the same
    file) and one item per stored tool. ``per_category`` keeps the first N records of each category
    (a quicker run on a large set)."""
    config = (settings or Settings()).model_copy(update={"home": home, "extractor": extractor})
    core = Runtime(config)
    # A labelled set is the operator's own data on their own machine, not a submission: its records
    # may name files anywhere.
    records = [r for r in read_records(dataset, extractor, allow_outside=True) if r.source is not None]
    if per_category is not None:
        seen: Counter[str] = Counter()
        kept_records = []
        for r in records:
            assert r.source is not None
            seen[r.source.category or ""] += 1
            if seen[r.source.category or ""] <= per_category:
                kept_records.append(r)
        records = kept_records
    # The file's content, not its modification time (a copied or touched file is the same set), and the
    # extractor's version: a catalog built by an older extractor would measure the old capabilities.
    stamp = {
        "dataset": str(dataset.resolve()),
        "sha256": hashlib.sha256(dataset.read_bytes()).hexdigest(),
        "extractor": extractor,
        "extractor_version": extractor_version(extractor, config),
        "per_category": per_category,
    }
    marker = home / "eval-items.json"
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved["stamp"] == stamp:
            documents = {r.line: load_document(r.source, core.settings).text for r in records if r.source}
            kept = [Item(i["tool_id"], i["name"], i["category"], documents[i["line"]]) for i in saved["items"]]
            return core, kept, saved["failed"]
        other = saved["stamp"]
        if "sha256" not in other:
            raise CapmatchError(f"{home} holds a catalog kept by an older capmatch; use a new folder")
        if other.get("dataset") == stamp["dataset"] and other["sha256"] == stamp["sha256"]:
            raise CapmatchError(
                f"{home} holds a catalog built by another extractor version ({other.get('extractor')} "
                f"{other.get('extractor_version', 'unknown')}; now {extractor} {stamp['extractor_version']}); "
                "use a new folder"
            )
        raise CapmatchError(f"{home} holds a catalog of another dataset ({other['dataset']}); use a new folder")
    items: list[Item] = []
    lines: list[int] = []
    failures: list[dict[str, object]] = []
    for done, record in enumerate(records, start=1):
        assert record.source is not None
        try:
            document = load_document(record.source, core.settings).text
            result = core.ingest(record.source)
            items.append(Item(result.tool.id, record.name, record.source.category or "", document))
            lines.append(record.line)
        except CapmatchError as exc:
            failures.append({"line": record.line, "name": record.name, "error": exc.message})
        progress("ingesting", done, len(records))
    if not items:
        raise CapmatchError(f"no record of {dataset} could be ingested: {failures[:3]}")
    # Duplicate content is stored once: keep one item per tool so no method ranks a tool twice.
    first: dict[str, int] = {}
    for position, item in enumerate(items):
        first.setdefault(item.tool_id, position)
    positions = sorted(first.values())
    saved_items = [{**items[p].__dict__, "line": lines[p]} for p in positions]
    for entry in saved_items:
        del entry["document"]
    marker.write_text(json.dumps({"stamp": stamp, "items": saved_items, "failed": failures}))
    return core, [items[p] for p in positions], failures


def _queries(items: list[Item]) -> list[tuple[int, int]]:
    """(item index, relevant available) for every item whose category has another member."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.category] = counts.get(item.category, 0) + 1
    return [(i, counts[item.category] - 1) for i, item in enumerate(items) if counts[item.category] > 1]


def _capmatch(core: Runtime, items: list[Item], k: int, progress: Progress) -> dict[str, float | int]:
    category = {item.tool_id: item.category for item in items}
    scores = Scores()
    queries = _queries(items)
    for done, (i, available) in enumerate(queries, start=1):
        hits = core.similar(items[i].tool_id, k=k, count_matches=False)
        scores.add([category.get(h.tool_id) == items[i].category for h in hits], available)
        progress("querying", done, len(queries))
    return scores.result()


def _rank_matrix(similarity: np.ndarray, items: list[Item], k: int) -> dict[str, float | int]:
    scores = Scores()
    for i, available in _queries(items):
        row = similarity[i].copy()
        row[i] = -np.inf  # never itself
        top = np.argsort(-row, kind="stable")[:k]
        scores.add([items[j].category == items[i].category for j in top], available)
    return scores.result()


def _bm25(items: list[Item], k: int) -> dict[str, float | int]:
    import bm25s

    tokens = bm25s.tokenize([item.document for item in items], stopwords="en", show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    n = len(items)
    similarity = np.zeros((n, n), dtype=np.float32)
    for i, item in enumerate(items):
        query = bm25s.tokenize([item.document], stopwords="en", show_progress=False)
        docs, values = retriever.retrieve(query, k=min(n, k + 1), show_progress=False)
        similarity[i, docs[0]] = values[0]
    return _rank_matrix(similarity, items, k)


def _embedding(items: list[Item], k: int, model: str) -> dict[str, float | int]:
    vectors = get_embedder(model).embed_batch([item.document for item in items])
    return _rank_matrix(vectors @ vectors.T, items, k)
