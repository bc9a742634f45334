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
                tool = Tool(
                    id=f"synthetic-{number}",
                    name=f"Synthetic {number}",
                    url=f"https://example.invalid/{number}",
                    type=ToolType.LIBRARY,
                    pricing=Pricing.FREE,
                    summary=text,
                    content_hash=f"synthetic-{number}",
                    source_format="text",
                    fetched_at=now,
                    extractor="synthetic",
                    extractor_version="1",
                )
                caps = [
                    NewCapability(
                        Capability(
                            name=f"{words[j % 3]} capability {j}",
                            description=text,
                            evidence=[Evidence(quote=text, start=0, end=len(text))],
                            grounded=True,
                        ),
                        vectors[n * capabilities_per_tool + j],
                    )
                    for j in range(capabilities_per_tool)
                ]
                store.insert_tool(tool, text, caps, identities[n])
    core.reindex()
