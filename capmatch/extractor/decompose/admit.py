"""Which extracted candidates are capabilities: a logistic model learned from the hand-made gold set.

The extractive decomposer's rules (section roles, sentence polarity, noise patterns) propose
candidates; many that survive them are still not capabilities a reader would list (promotional
lines, example output, another product's features, tutorial steps). This model scores each
candidate from its MiniLM vector, which carries what the sentence is *about* and how it is phrased,
and three structural features (the rules' own score, position in the page, length). It is trained
by ``capmatch eval admit`` on fixtures/gold with cross-validation by page, which also chooses the
admission threshold; the weights ship in ``admit_model.json`` beside this file.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).with_name("admit_model.json")
FEATURES = ("rule_score", "position", "log_words")


def structural(score: float, order: float, blocks: int, words: int) -> list[float]:
    return [score, order / max(blocks, 1), math.log1p(words)]


@dataclass(frozen=True)
class AdmitModel:
    coef: np.ndarray  # vector dimensions, then FEATURES
    intercept: float
    mean: np.ndarray  # of the structural features, for scaling
    scale: np.ndarray
    threshold: float
    trained_on: str = ""

    def probability(self, vectors: np.ndarray, features: np.ndarray) -> np.ndarray:
        x = np.hstack([vectors, (features - self.mean) / self.scale])
        return 1.0 / (1.0 + np.exp(-(x @ self.coef + self.intercept)))

    def to_json(self) -> str:
        return json.dumps(
            {
                "coef": [round(float(c), 6) for c in self.coef],
                "intercept": float(self.intercept),
                "mean": self.mean.tolist(),
                "scale": self.scale.tolist(),
                "threshold": self.threshold,
                "features": list(FEATURES),
                "trained_on": self.trained_on,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AdmitModel:
        data = json.loads(text)
        return cls(
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            float(data["threshold"]),
            str(data.get("trained_on", "")),
        )


@cache
def shipped_model() -> AdmitModel | None:
    """The trained model shipped with the package; None before one was trained."""
    return AdmitModel.from_json(MODEL_FILE.read_text()) if MODEL_FILE.is_file() else None
