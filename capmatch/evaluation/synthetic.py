"""Large synthetic catalogs for benchmarks: tools with clustered capability vectors, written in bulk.

Only for measuring speed at sizes no fixture set reaches (10k-100k tools); the texts are
placeholders and the contrast lines are not computed.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from capmatch.evaluation.bench_search import clustered
from capmatch.models import Capability, Evidence, Pricing, Tool, ToolType
from capmatch.runtime import Runtime
from capmatch.storage.base import NewCapability

WORDS = [
    "queue",
    "vector",
    "search",
    "http",
    "client",
    "model",
    "dataset",
    "validation",
    "schema",
    "retry",
    "cache",
    "stream",
    "index",
]


def fill(core: Runtime, tools: int, capabilities_per_tool: int = 5, batch: int = 2000) -> None:
    """Add ``tools`` synthetic tools in batches, then rebuild the index once."""
    dim = core.embedder.dimension
    rng = np.random.default_rng(7)
    centres = rng.standard_normal((max(64, tools // 50), dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    now = datetime.now(UTC)
    store = core.catalog
    for start in range(0, tools, batch):
        count = min(batch, tools - start)
        vectors = clustered(count * capabilities_per_tool, centres, rng)
        identities = clustered(count, centres, rng)
        with store.write():  # one transaction per batch, on either backend
            for n in range(count):
                number = start + n
                words = [WORDS[(number + j) % len(WORDS)] for j in range(3)]
                text = f"Synthetic tool {number} does {' '.join(words)} work."
                names = [f"{words[j % 3]} capability {j}" for j in range(capabilities_per_tool)]
                first = n * capabilities_per_tool
                tool, caps = synthetic_tool("synthetic", number, text, names, vectors[first : first + len(names)], now)
                store.insert_tool(tool, text, caps, identities[n])
    core.reindex()


def synthetic_tool(
    prefix: str, number: int, text: str, names: list[str], vectors: np.ndarray, fetched_at: datetime
) -> tuple[Tool, list[NewCapability]]:
    """A stored-ready tool whose capabilities all quote ``text``, one per name and vector (benchmarks)."""
    tool = Tool(
        id=f"{prefix}-{number}",
        name=f"{prefix.capitalize()} {number}",
        url=f"https://example.invalid/{prefix}/{number}",
        type=ToolType.LIBRARY,
        pricing=Pricing.FREE,
        summary=text,
        content_hash=f"{prefix}-{number}",
        source_format="text",
        fetched_at=fetched_at,
        extractor="synthetic",
        extractor_version="1",
    )
    evidence = [Evidence(quote=text, start=0, end=len(text))]
    caps = [
        NewCapability(Capability(name=name, description=text, evidence=evidence, grounded=True), vector)
        for name, vector in zip(names, vectors, strict=True)
    ]
    return tool, caps
