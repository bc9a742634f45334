"""`capmatch eval similar`: capmatch against BM25 and whole-text embedding, on the same documents.

A temporary catalog (never the user's) is built from a labelled JSONL in the ingest format. Each tool
whose category has another member is a query; relevant = same category. The baselines rank the
same tools from the records' documents as given (what a user would do instead): BM25 (bm25s) over
the text, and one MiniLM vector per document.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
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
) -> dict[str, object]:
    progress = progress or (lambda stage, done, total: None)
    base = settings or Settings()
    with tempfile.TemporaryDirectory(prefix="capmatch-eval-") as home:
        config = base.model_copy(update={"home": Path(home), "extractor": extractor})
        core = Runtime(config)
        # A labelled set is the operator's own data on their own machine, not a submission: its
        # records may name files anywhere.
        records = [r for r in read_records(dataset, extractor, allow_outside=True) if r.source is not None]
        items: list[Item] = []
        failures: list[dict[str, object]] = []
        for done, record in enumerate(records, start=1):
            assert record.source is not None
            try:
                document = load_document(record.source, core.settings).text
                result = core.ingest(record.source)
                items.append(Item(result.tool.id, record.name, record.source.category or "", document))
            except CapmatchError as exc:
                failures.append({"line": record.line, "name": record.name, "error": exc.message})
            progress("ingesting", done, len(records))
        if not items:
            raise CapmatchError(f"no record of {dataset} could be ingested: {failures[:3]}")
        # Duplicate content is stored once: keep one item per tool so no method ranks a tool twice.
        unique = list({item.tool_id: item for item in items}.values())
        report = {
            "capmatch": _capmatch(core, unique, k, progress),
            "bm25": _bm25(unique, k),
            "embedding": _embedding(unique, k, config.embedding_model),
            "dataset": str(dataset),
            "tools": len(unique),
            "failed": failures,
        }
        return report


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
