"""`capmatch eval fusion`: choose the similar-tool fusion weights by leave-one-set-out cross-validation.

For every labelled set the candidates of each query and their four raw signals are collected once
(the same code as ``capmatch similar``); then every weight combination on a grid is scored on every
set, offline. A fold holds one set out, picks the weights that do best on the others and reports
them on the held-out set. "Best" compares the margins over the training sets by which capmatch beats
the stronger of its two baselines (BM25 and whole-text embedding), on P@5 and nDCG@10, each in units
of its set's standard error, worst set first (leximin, ``choose``): weights must win everywhere, not
on average. Sets that share labelled tools (the awesome-python one-liners and the PyPI descriptions
of the same tools) are held out together. The weights finally fixed in ``capmatch.matching.fusion``
are the ones chosen on all sets together.
"""

from __future__ import annotations

import itertools
import math
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capmatch.evaluation.similar import Item, Progress, _bm25, _embedding, _queries, build
from capmatch.matching.fusion import SIGNALS, standardise
from capmatch.matching.similar import candidates
from capmatch.runtime import Runtime

GRID = (0.0, 0.125, 0.25, 0.5, 0.75, 1.0)
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)  # candidate floors for a matched capability pair
NORMALISATIONS = ("z", "scaled")
METRICS = ("P@5", "nDCG@10")
SIGNALS_FILE = "fusion-signals.pkl"
OVERLAP = 0.2  # two sets sharing this share of the smaller one's tools form one fold


@dataclass
class Query:
    table: np.ndarray  # candidates × signals, raw
    relevant: np.ndarray  # bool per candidate
    best_pair: np.ndarray  # per candidate: its strongest capability pair with the query tool
    available: int


@dataclass
class SetData:
    name: str
    queries: list[Query]
    baselines: dict[str, dict[str, float | int]]
    # "name<TAB>category" per tool, the name lower-cased: sets sharing labelled tools are held out together
    tools: frozenset[str] = frozenset()


def collect(name: str, core: Runtime, items: list[Item], k: int, progress: Progress) -> SetData:
    category = {item.tool_id: item.category for item in items}
    index = core.index()
    queries = []
    todo = _queries(items)
    for done, (i, available) in enumerate(todo, start=1):
        found = candidates(core.catalog, index, items[i].tool_id, width=max(k * 4, 30))
        if found is None:
            queries.append(Query(np.zeros((0, len(SIGNALS))), np.zeros(0, bool), np.zeros(0), available))
            continue
        relevant = np.array([category.get(t) == items[i].category for t in found.ids])
        best = np.array([float(s.max()) if s.size else 0.0 for s in found.sims])
        queries.append(Query(found.table, relevant, best, available))
        progress(f"signals {name}", done, len(todo))
    baselines = {"bm25": _bm25(items, k), "embedding": _embedding(items, k, core.settings.embedding_model)}
    labelled = frozenset(f"{item.name.strip().lower()}\t{item.category}" for item in items)
    return SetData(name, queries, baselines, labelled)


def grid() -> np.ndarray:
    combos = [c for c in itertools.product(GRID, repeat=len(SIGNALS)) if any(c)]
    return np.array(combos, dtype=np.float64)


def pooled_spread(sets: Sequence[SetData]) -> np.ndarray:
    """Each signal's standard deviation over every candidate of every set: the fixed scale that puts
    the raw signals side by side in the "scaled" normalisation."""
    tables = [q.table for d in sets for q in d.queries if len(q.table)]
    spread = np.vstack(tables).std(axis=0)
    spread[spread == 0] = 1.0
    return spread


def score_grid(
    data: SetData, weights: np.ndarray, normalisation: str, threshold: float, spread: np.ndarray, k: int = 10
) -> dict[str, np.ndarray]:
    """P@5 and nDCG@10 of every weight row on one set (vectorised over the rows)."""
    p5 = np.zeros(len(weights))
    ndcg = np.zeros(len(weights))
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    for query in data.queries:
        ideal = discount[: min(k, query.available)].sum()
        if len(query.table) == 0:
            continue
        signals = standardise(query.table) if normalisation == "z" else query.table / spread
        order = np.argsort(-(signals @ weights.T), axis=0, kind="stable")  # candidates × rows
        kept = (query.best_pair >= threshold)[order]
        position = np.cumsum(kept, axis=0)
        shown = kept & (position <= k)
        relevant = query.relevant[order] & shown
        p5 += (relevant & (position <= 5)).sum(axis=0) / min(5, query.available)
        gains = np.where(relevant, discount[np.clip(position - 1, 0, k - 1)], 0.0)
        ndcg += gains.sum(axis=0) / ideal
    n = max(len(data.queries), 1)
    return {"P@5": p5 / n, "nDCG@10": ndcg / n}


def margins(data: SetData, result: dict[str, np.ndarray]) -> np.ndarray:
    """Per weight row: the smallest margin over the better baseline, across METRICS."""
    best = {m: max(float(b[m]) for b in data.baselines.values()) for m in METRICS}
    return np.min([result[m] - best[m] for m in METRICS], axis=0)


Setting = tuple[str, float]  # (normalisation, pair threshold)


def standard_error(data: SetData) -> float:
    """The yardstick a margin on ``data`` is measured in: the largest binomial standard error of a P@5
    on its queries, 0.5 / sqrt(5 × queries) (five results per query, taken as independent). A margin
    of 0.01 is noise on the 15 demo queries and not on 800 awesome-go ones. (The standard error at
    the baseline's own P@5 would be 0 on demo, where the embedding's P@5 is 1.0.)"""
    return 0.5 / math.sqrt(5 * max(len(data.queries), 1))


def choose(sets: Sequence[SetData], results: dict[Setting, dict[str, dict[str, np.ndarray]]]) -> tuple[Setting, int]:
    """The setting and weight row whose margins over ``sets`` are best in leximin order: each set's
    margin over its better baseline (the smaller of P@5 and nDCG@10) in units of that set's standard
    error, the worst set's as large as possible, then the second worst's, and so on (ties: larger
    mean P@5). The worst margin alone ties whenever one set is at its ceiling (demo: the embedding's
    P@5 is already 1.0), and the mean P@5 that broke those ties followed the set whose scores move
    most with the weights (vendor-docs), not the sets the weights were about to lose."""
    best: tuple[tuple[float, ...], float, Setting, int] | None = None
    for setting, by_set in results.items():
        relative = np.array([margins(d, by_set[d.name]) / standard_error(d) for d in sets])
        ordered = np.round(np.sort(relative, axis=0), 3)  # per row, worst set first
        mean_p5 = np.mean([by_set[d.name]["P@5"] for d in sets], axis=0)
        row = int(np.lexsort([-mean_p5, *(-ordered[::-1])])[0])
        candidate = (tuple(float(x) for x in ordered[:, row]), float(mean_p5[row]), setting, row)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    assert best is not None
    return best[2], best[3]


def set_name(dataset: Path, per_category: int | None) -> str:
    name = dataset.stem if dataset.stem != "index" else dataset.parent.name
    return name if per_category is None else f"{name}-per{per_category}"


def fit(
    datasets: Sequence[Path],
    home_root: Path,
    k: int = 10,
    progress: Progress | None = None,
    per_category: int | None = None,
) -> dict[str, object]:
    progress = progress or (lambda stage, done, total: None)
    sets = []
    for dataset in datasets:
        name = set_name(dataset, per_category)
        core, items, _ = build(dataset, home_root / name, "extractive", None, progress, per_category)
        sets.append(collect(name, core, items, k, progress))
    with open(home_root / SIGNALS_FILE, "wb") as f:  # for re-scoring offline: report(load(...))
        pickle.dump(sets, f)
    return report(sets, k)


def load(home_root: Path) -> list[SetData]:
    """The signals the last ``fit`` over ``home_root`` collected."""
    with open(home_root / SIGNALS_FILE, "rb") as f:
        return pickle.load(f)


def report(sets: Sequence[SetData], k: int = 10) -> dict[str, object]:
    """Score the grid on every set, choose per fold and on all sets (offline, from collected signals)."""
    weights = grid()
    spread = pooled_spread(sets)
    results = {
        (norm, threshold): {d.name: score_grid(d, weights, norm, threshold, spread, k) for d in sets}
        for norm in NORMALISATIONS
        for threshold in THRESHOLDS
    }

    def scores(setting: Setting, row: int, d: SetData) -> dict[str, float]:
        return {m: round(float(results[setting][d.name][m][row]), 4) for m in METRICS}

    def baselines(d: SetData) -> dict[str, dict[str, float | int]]:
        return {b: {m: v[m] for m in METRICS} for b, v in d.baselines.items()}

    folds = []
    for held in sets:
        group = fold_of(held, sets)
        if len(group) == len(sets):  # every set shares tools with this one: nothing else to train on
            group = [held]
        training = [d for d in sets if d not in group]
        setting, row = choose(training, results)
        folds.append(
            {
                "held_out": held.name,
                "held_out_with": [d.name for d in group if d is not held],
                "shares_tools_with": [d.name for d in training if overlap(held, d) >= OVERLAP],
                "normalisation": setting[0],
                "pair_threshold": setting[1],
                "weights": _named(weights[row]),
                "held_out_scores": scores(setting, row, held),
                "baselines": baselines(held),
            }
        )
    setting, row = choose(sets, results)
    return {
        "grid": list(GRID),
        "signals": list(SIGNALS),
        "spread": [round(float(x), 6) for x in spread],
        "folds": folds,
        "chosen": {"normalisation": setting[0], "pair_threshold": setting[1], "weights": _named(weights[row])},
        "chosen_scores": {
            d.name: {
                **scores(setting, row, d),
                "baselines": {b: {m: v[m] for m in METRICS} for b, v in d.baselines.items()},
            }
            for d in sets
        },
    }


def overlap(a: SetData, b: SetData) -> float:
    """The share of the smaller set's tools that the other set also has, under the same category label
    (the same tool under another set's labels, as in vendor-docs and awesome-python, is not a leak of
    the held-out labels)."""
    return len(a.tools & b.tools) / max(1, min(len(a.tools), len(b.tools)))


def fold_of(held: SetData, sets: Sequence[SetData]) -> list[SetData]:
    """``held`` and every set linked to it by shared labelled tools (``OVERLAP``, transitively): they
    are held out together, so no fold trains on the tools and labels it is scored on (awesome-python's
    one-liners and their PyPI descriptions are the same tools in the same categories)."""
    group = [held]
    for d in group:
        group.extend(e for e in sets if e not in group and overlap(d, e) >= OVERLAP)
    return [d for d in sets if d in group]


def _named(row: np.ndarray) -> dict[str, float]:
    return dict(zip(SIGNALS, (float(x) for x in row), strict=True))
