"""`capmatch eval search`: free-text search on queries built from labelled sets.

Each category with at least two tools is a query, worded as its name ("Task Management & To-do
Lists"); relevant = the tools of that category. capmatch's three search modes (hybrid, vector,
lexical) run on the same catalog as two baselines computed from the records' documents as given:
BM25 over the text and one MiniLM vector per document.

The same run calibrates the search floor: over every hit of every query, the best capability
similarity is a score for "this hit is relevant"; the floor reported is the one that maximises F1 of
that score, pooled over the sets.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from capmatch.embeddings.model import get_embedder
from capmatch.evaluation.fusion import GRID, METRICS, Query, SetData, choose, pooled_spread, score_grid, set_name
from capmatch.evaluation.metrics import Scores
from capmatch.evaluation.similar import Item, Progress, build
from capmatch.matching.search import SEARCH_MODES, SIGNALS, search_candidates
from capmatch.runtime import Runtime

FLOORS = tuple(round(x, 2) for x in np.arange(0.15, 0.56, 0.05))


def category_queries(items: list[Item]) -> list[tuple[str, str, int]]:
    """(query text, category, relevant available) for each category with two tools or more."""
    counts = Counter(item.category for item in items)
    return [(_words(c), c, n) for c, n in sorted(counts.items()) if n >= 2 and _words(c)]


def _words(category: str) -> str:
    # "python-web-frameworks" and "Data Ingestion / ETL" both read as words.
    return re.sub(r"[-_/]+", " ", category).strip()


def evaluate_set(
    name: str, core: Runtime, items: list[Item], k: int, evidence: list[tuple[float, bool]], progress: Progress
) -> dict[str, dict[str, float | int]]:
    category = {item.tool_id: item.category for item in items}
    queries = category_queries(items)
    report: dict[str, dict[str, float | int]] = {}
    for mode in SEARCH_MODES:
        scores = Scores()
        for done, (text, cat, available) in enumerate(queries, start=1):
            hits = core.search(text, k=k, count_matches=False, mode=mode)
            scores.add([category.get(h.tool_id) == cat for h in hits], available)
            if mode == "vector":
                for hit in hits:
                    best = max((m.similarity for m in hit.matched), default=_best_any(core, text, hit.tool_id))
                    evidence.append((best, category.get(hit.tool_id) == cat))
            progress(f"{name} {mode}", done, len(queries))
        report[mode] = scores.result()
    report.update(_baselines(items, queries, k, core.settings.embedding_model))
    return report


def _best_any(core: Runtime, text: str, tool_id: str) -> float:
    """The best capability similarity of a hit none of whose capabilities passed the floor."""
    _, vectors = core.catalog.vectors_of(tool_id)
    if len(vectors) == 0:
        return 0.0
    return float((vectors @ core.embedder.embed_batch([text])[0]).max())


def _baselines(items: list[Item], queries: list[tuple[str, str, int]], k: int, model: str) -> dict[str, dict]:
    import bm25s

    documents = [item.document for item in items]
    embedder = get_embedder(model)
    vectors = embedder.embed_batch(documents)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(documents, stopwords="en", show_progress=False), show_progress=False)
    bm25, embedding = Scores(), Scores()
    for text, cat, available in queries:
        query = bm25s.tokenize([text], stopwords="en", show_progress=False, return_ids=False)[0]
        lexical = np.asarray(retriever.get_scores(query)) if query else np.zeros(len(items))
        order = [int(i) for i in np.argsort(-lexical, kind="stable")[:k] if lexical[i] > 0]
        bm25.add([items[i].category == cat for i in order], available)
        sims = vectors @ embedder.embed_batch([text])[0]
        embedding.add([items[int(i)].category == cat for i in np.argsort(-sims, kind="stable")[:k]], available)
    return {"bm25": bm25.result(), "embedding": embedding.result()}


def calibrate_floor(evidence: list[tuple[float, bool]]) -> dict[str, object]:
    """F1 of "best capability similarity ≥ floor" as a predictor of a relevant hit, per floor."""
    sims = np.array([s for s, _ in evidence])
    relevant = np.array([r for _, r in evidence])
    rows = []
    for floor in (float(f) for f in FLOORS):
        above = sims >= floor
        tp = float((above & relevant).sum())
        precision = tp / float(above.sum()) if above.any() else 0.0
        recall = tp / float(relevant.sum()) if relevant.any() else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"floor": floor, "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)})
    best = max(rows, key=lambda r: (r["f1"], r["floor"]))
    return {"hits": len(evidence), "relevant_share": round(float(relevant.mean()), 4), "floors": rows, "chosen": best}


def collect(name: str, core: Runtime, items: list[Item], k: int) -> SetData:
    """Every query's candidates with their raw signals (the code ``capmatch search`` runs)."""
    category = {item.tool_id: item.category for item in items}
    queries = []
    index = core.index()
    for text, cat, available in category_queries(items):
        found = search_candidates(core.catalog, index, core.embedder, text)
        relevant = np.array([category.get(t) == cat for t in found.ids], dtype=bool)
        queries.append(Query(found.table, relevant, np.ones(len(found.ids)), available))
    return SetData(name, queries, {})


def fit(sets: list[SetData], k: int) -> dict[str, object]:
    """Weights for ``hybrid`` by leave-one-set-out, as ``capmatch eval fusion`` does for similar tools."""
    weights = np.array([c for c in itertools.product(GRID, repeat=len(SIGNALS)) if any(c)], dtype=np.float64)
    spread = pooled_spread(sets)
    results = {("scaled", 0.0): {d.name: score_grid(d, weights, "scaled", 0.0, spread, k) for d in sets}}

    def named(row: int) -> dict[str, float]:
        return dict(zip(SIGNALS, (float(x) for x in weights[row]), strict=True))

    def scores(row: int, d: SetData) -> dict[str, float]:
        return {m: round(float(results[("scaled", 0.0)][d.name][m][row]), 4) for m in METRICS}

    folds = []
    for held in sets:
        _, row = choose([d for d in sets if d is not held], results)
        folds.append({"held_out": held.name, "weights": named(row), "held_out_scores": scores(row, held)})
    _, row = choose(sets, results)
    return {
        "signals": list(SIGNALS),
        "spread": [round(float(x), 6) for x in spread],
        "folds": folds,
        "chosen": named(row),
        "chosen_scores": {d.name: scores(row, d) for d in sets},
    }


def evaluate(
    datasets: Sequence[Path],
    home_root: Path | None,
    k: int = 10,
    progress: Progress | None = None,
    per_category: int | None = None,
    fit_weights: bool = False,
) -> dict[str, object]:
    import tempfile

    progress = progress or (lambda stage, done, total: None)
    evidence: list[tuple[float, bool]] = []
    sets: dict[str, object] = {}
    collected: list[SetData] = []
    with tempfile.TemporaryDirectory(prefix="capmatch-eval-") as scratch:
        root = home_root or Path(scratch)
        for dataset in datasets:
            name = set_name(dataset, per_category)
            core, items, _ = build(dataset, root / name, "extractive", None, progress, per_category)
            sets[name] = evaluate_set(name, core, items, k, evidence, progress)
            if fit_weights:
                data = collect(name, core, items, k)
                data.baselines = {b: sets[name][b] for b in ("bm25", "embedding")}  # type: ignore[index]
                collected.append(data)
    report: dict[str, object] = {"sets": sets, "floor": calibrate_floor(evidence)}
    if fit_weights:
        report["fit"] = fit(collected, k)
    return report
