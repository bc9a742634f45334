"""`capmatch eval admit`: train the candidate admission model on the gold set, cross-validated by page.

Every candidate the extractive rules propose on a gold page is labelled: a capability when it
contains most words of one of the page's gold quotes (the overlap ``capmatch eval extract`` uses for
evidence), otherwise not. Folds split by page, so a page is never scored by a model that saw it.
For each fold and each admission threshold, the held-out pages are decomposed with the fold's model
and scored exactly as ``capmatch eval extract`` scores them; the threshold with the best F1 of
precision and recall over all held-out pages is kept, and the final model is fitted on every page.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from capmatch.embeddings.model import Embedder
from capmatch.errors import CapmatchError
from capmatch.evaluation.extract import (
    EVIDENCE_OVERLAP,
    GoldPage,
    Progress,
    decompose_page,
    load_gold,
    overlap,
    score_page,
    summarise,
)
from capmatch.extractor.classify import tool_name
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose.admit import AdmitModel
from capmatch.extractor.decompose.extractive import ExtractiveDecomposer, _candidates, candidate_features
from capmatch.extractor.fetch import read_path
from capmatch.extractor.segment import segment
from capmatch.settings import Settings

THRESHOLDS = (0.2, 0.3, 0.4, 0.5)
FOLDS = 5
REGULARISATION = 1.0  # sklearn's C; features are unit vectors and standardised scalars


def labelled(page: GoldPage, embedder: Embedder, settings: Settings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vectors, structural features, labels) of every candidate the rules propose on ``page``."""
    raw = read_path(page.page, settings)
    doc = clean(raw.text, raw.format)
    blocks = segment(doc.text)
    name = tool_name(doc.title, raw.url)
    found = _candidates(blocks, name, relaxed=False)
    seen = {c.spans[0].start for c in found}
    found += [c for c in _candidates(blocks, name, relaxed=True) if c.spans[0].start not in seen]
    if not found:
        return np.zeros((0, 384)), np.zeros((0, 3)), np.zeros(0, dtype=bool)
    quotes = [q for g in page.capabilities for q in g.quotes]
    labels = np.array([any(overlap(q, c.text) >= EVIDENCE_OVERLAP for q in quotes) for c in found])
    vectors = embedder.embed_batch([c.embed_text() for c in found])
    features = np.array([candidate_features(c, len(blocks)) for c in found])
    return vectors, features, labels


def fit_model(vectors: np.ndarray, features: np.ndarray, labels: np.ndarray, threshold: float, note: str) -> AdmitModel:
    from sklearn.linear_model import LogisticRegression

    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    scale[scale == 0] = 1.0
    x = np.hstack([vectors, (features - mean) / scale])
    model = LogisticRegression(C=REGULARISATION, class_weight="balanced", max_iter=2000).fit(x, labels)
    return AdmitModel(model.coef_[0].astype(np.float64), float(model.intercept_[0]), mean, scale, threshold, note)


def train(
    gold_files: Sequence[Path], embedder: Embedder, settings: Settings, progress: Progress | None = None
) -> tuple[AdmitModel, dict[str, Any]]:
    progress = progress or (lambda stage, done, total: None)
    pages = [p for f in gold_files for p in load_gold(f, settings.shared_data)]
    data = []
    for done, page in enumerate(pages, start=1):
        data.append(labelled(page, embedder, settings))
        progress("labelling", done, len(pages))
    folds = np.arange(len(pages)) % FOLDS  # pages interleaved: each fold mixes files and categories
    results: dict[float, list[Any]] = {t: [] for t in THRESHOLDS}
    for fold in range(FOLDS):
        train_rows = [i for i in range(len(pages)) if folds[i] != fold and len(data[i][2])]
        vectors = np.vstack([data[i][0] for i in train_rows])
        features = np.vstack([data[i][1] for i in train_rows])
        labels = np.concatenate([data[i][2] for i in train_rows])
        for threshold in THRESHOLDS:
            model = fit_model(vectors, features, labels, threshold, f"fold {fold}")
            decomposer = ExtractiveDecomposer(embedder, model)
            for i in np.flatnonzero(folds == fold):
                results[threshold].append(_score(pages[int(i)], decomposer, embedder, settings))
        progress("folds", fold + 1, FOLDS)
    baseline = ExtractiveDecomposer(embedder, None)
    without = summarise([_score(p, baseline, embedder, settings) for p in pages], gold_files[0], baseline)
    report: dict[str, Any] = {"pages": len(pages), "folds": FOLDS, "without_model": _headline(without)}
    by_threshold = {t: _headline(summarise(r, gold_files[0], baseline)) for t, r in results.items()}
    report["cross_validated"] = {str(t): v for t, v in by_threshold.items()}
    best = max(THRESHOLDS, key=lambda t: (by_threshold[t]["f1"], t))
    report["chosen_threshold"] = best
    report["candidates"] = int(sum(len(d[2]) for d in data))
    report["positives"] = int(sum(int(d[2].sum()) for d in data))
    final = fit_model(
        np.vstack([d[0] for d in data if len(d[2])]),
        np.vstack([d[1] for d in data if len(d[2])]),
        np.concatenate([d[2] for d in data]),
        best,
        f"{report['candidates']} candidates of {len(pages)} pages in {', '.join(f.name for f in gold_files)}",
    )
    return final, report


def _score(page: GoldPage, decomposer: ExtractiveDecomposer, embedder: Embedder, settings: Settings) -> Any:
    started = time.perf_counter()
    try:
        produced = decompose_page(page, decomposer, settings)
    except CapmatchError:
        produced = []
    return score_page(page, produced, embedder, time.perf_counter() - started)


def _headline(summary: dict[str, Any]) -> dict[str, Any]:
    keys = ("precision", "recall", "core_recall", "traps_taken", "name_quality", "duplicates", "produced")
    out = {k: summary[k] for k in keys}
    p, r = summary["precision"], summary["recall"]
    out["f1"] = round(2 * p * r / (p + r), 4) if p + r else 0.0
    return out
