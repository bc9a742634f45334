"""`capmatch eval contrast`: dump every capability's Unique / vs alternatives lines for a labelled
catalog (so a hand-graded sample can be reproduced), and calibrate the similarity above which another
tool's capability counts as a comparable alternative.

Calibration uses the labels the data sets already carry: for every capability and every other tool,
the most similar capability of that tool is a candidate alternative; it is *comparable* when both
tools are in the same category. The threshold reported is the one that maximises F1 over those
candidates, the one that maximises F0.5 (what matching.contrast uses: precision counts twice), and
the lowest one reaching the requested precision.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from capmatch.errors import CapmatchError
from capmatch.matching.contrast import compatible
from capmatch.pipeline.records import read_records
from capmatch.runtime import Runtime
from capmatch.settings import Settings

Progress = Callable[[str, int, int], None]


@contextmanager
def labelled_catalog(
    dataset: Path, extractor: str = "extractive", settings: Settings | None = None, progress: Progress | None = None
) -> Iterator[tuple[Runtime, dict[str, str]]]:
    """A temporary catalog of the data set's records, with each stored tool's category."""
    progress = progress or (lambda stage, done, total: None)
    base = settings or Settings()
    with tempfile.TemporaryDirectory(prefix="capmatch-contrast-") as home:
        core = Runtime(base.model_copy(update={"home": Path(home), "extractor": extractor}))
        records = [r for r in read_records(dataset, extractor, allow_outside=True) if r.source is not None]
        categories: dict[str, str] = {}
        for done, record in enumerate(records, start=1):
            assert record.source is not None
            try:
                result = core.ingest(record.source)
            except CapmatchError:
                continue  # eval similar reports failures; here a missing tool only shrinks the sample
            categories[result.tool.id] = record.source.category or ""
            progress("ingesting", done, len(records))
        if not categories:
            raise CapmatchError(f"no record of {dataset} could be ingested")
        yield core, categories


def dump_lines(core: Runtime, categories: dict[str, str]) -> list[dict[str, Any]]:
    """One row per capability: its tool, its lines, the alternatives they name and the quotes."""
    rows: list[dict[str, Any]] = []
    for tool_id in sorted(categories):
        tool = core.catalog.get_tool(tool_id)
        for cap in tool.capabilities:
            rows.append(
                {
                    "tool": tool.id,
                    "tool_name": tool.name,
                    "category": categories[tool_id],
                    "type": str(tool.type),
                    "capability": cap.name,
                    "unique": cap.unique,
                    "vs_alternatives": cap.vs_alternatives,
                    "alternatives": [
                        {"tool": a.tool_id, "capability": a.capability_name, "similarity": a.similarity}
                        for a in cap.alternatives
                    ],
                    "quotes": [e.quote for e in cap.evidence],
                }
            )
    return rows


def candidate_pairs(core: Runtime, categories: dict[str, str]) -> list[tuple[float, bool]]:
    """(similarity, same category) of each capability's closest capability in every other tool of a
    compatible type: the candidates the threshold decides on (matching.contrast filters types first)."""
    vectors = {t: core.catalog.vectors_of(t)[1] for t in categories}
    types = {t: f[0] for t, f in core.catalog.tool_filters(categories).items()}
    pairs: list[tuple[float, bool]] = []
    for a, va in vectors.items():
        for b, vb in vectors.items():
            if a == b or len(va) == 0 or len(vb) == 0 or not compatible(types[a], types[b]):
                continue
            best = (va @ vb.T).max(axis=1)
            same = categories[a] == categories[b]
            pairs.extend((float(s), same) for s in best)
    return pairs


def identity_pairs(core: Runtime, categories: dict[str, str]) -> list[tuple[float, bool]]:
    """(identity similarity, same category) of every pair of tools: what IDENTITY_MIN decides on."""
    ids, matrix = core.catalog.identities()
    rows = [i for i, t in enumerate(ids) if t in categories]
    sims = matrix[rows] @ matrix[rows].T
    pairs = []
    for x, i in enumerate(rows):
        for y in range(x + 1, len(rows)):
            pairs.append((float(sims[x, y]), categories[ids[i]] == categories[ids[rows[y]]]))
    return pairs


def calibrate(pairs: list[tuple[float, bool]], min_precision: float = 0.8) -> dict[str, Any]:
    """Thresholds on similarity: best F1, and the lowest reaching ``min_precision``."""
    if not pairs:
        raise CapmatchError("no capability pairs to calibrate on")
    scores = np.array([s for s, _ in pairs])
    labels = np.array([y for _, y in pairs])
    positives = int(labels.sum())
    table = []
    for threshold in np.round(np.arange(0.20, 0.86, 0.01), 2):
        chosen = scores >= threshold
        tp = int((chosen & labels).sum())
        predicted = int(chosen.sum())
        precision = tp / predicted if predicted else 1.0
        recall = tp / positives if positives else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        # F0.5 weighs precision twice: an unrelated "alternative" argues nonsense, a missed one loses a line.
        f05 = 1.25 * precision * recall / (0.25 * precision + recall) if precision + recall else 0.0
        table.append(
            {
                "threshold": float(threshold),
                "precision": precision,
                "recall": recall,
                "f1": f1,
                "f0.5": f05,
                "kept": predicted,
            }
        )
    best = max(table, key=lambda r: r["f1"])
    chosen = max(table, key=lambda r: r["f0.5"])
    precise = next((r for r in table if r["precision"] >= min_precision), None)
    return {
        "pairs": len(pairs),
        "positives": positives,
        "best_f1": best,
        "best_f0.5": chosen,
        "min_precision": min_precision,
        "at_min_precision": precise,
        "table": table,
    }
