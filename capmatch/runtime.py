"""One process's parts, assembled from settings: the catalog, the job queue, the live vector index,
the write path, the ingestor and (lazily) the embedding model. The app, the CLI, the worker role and
the evaluation commands build one ``Runtime``; everything below it takes explicit dependencies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING

from capmatch.embeddings.index import SearchableIndex
from capmatch.embeddings.live import IndexOptions, IndexStatus, LiveIndex
from capmatch.embeddings.model import Embedder, get_embedder
from capmatch.llm.meter import UsageMeter
from capmatch.matching import compare as comparing
from capmatch.matching.fusion import PAIR_FLOOR
from capmatch.matching.graph import MatchGraph, match_graph
from capmatch.matching.rank import Rank, rank
from capmatch.matching.search import SearchHit, search_text
from capmatch.matching.similar import ToolHit, similar_tools
from capmatch.models import Tool
from capmatch.settings import Settings
from capmatch.storage.backends import index_poll_seconds, open_storage
from capmatch.storage.base import ToolFilter

if TYPE_CHECKING:
    # The write path (extraction, cleaning, contrast lines) is imported on first use: read-only
    # commands such as `capmatch show` start about a second sooner without it.
    from capmatch.pipeline.ingest import BackendInfo, DryRun, Ingestor, IngestResult, Source
    from capmatch.pipeline.writer import CatalogWriter, Progress


class Runtime:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        storage = open_storage(settings)
        self.catalog = storage.catalog
        self.jobs = storage.jobs
        self.rates = storage.rates
        self._embedder = embedder
        options = IndexOptions(
            folder=settings.index_dir,
            model=settings.embedding_model,
            kind=settings.index_type,
            ivf_threshold=settings.ivf_threshold,
            nprobe=settings.ivf_nprobe,
            poll_seconds=index_poll_seconds(settings),
            snapshot_changes=settings.index_snapshot_changes,
            inline_snapshots=settings.index_snapshots == "inline",
        )
        self.live_index = LiveIndex(self.catalog, options, lambda: self.embedder.dimension)
        self._query_gate = threading.BoundedSemaphore(settings.query_concurrency)

    @cached_property
    def writer(self) -> CatalogWriter:
        from capmatch.pipeline.writer import CatalogWriter

        return CatalogWriter(self.catalog, self.live_index, PAIR_FLOOR)

    @cached_property
    def ingestor(self) -> Ingestor:
        from capmatch.pipeline.ingest import Ingestor

        return Ingestor(self.settings, self.catalog, self.live_index, self.writer, lambda: self.embedder)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.settings.embedding_model)
        return self._embedder

    def index(self) -> SearchableIndex:
        return self.live_index.reader()

    @contextmanager
    def querying(self) -> Iterator[None]:
        """Hold while computing a read query in a server. Queries are CPU-bound Python between
        short C calls (SQLite, FAISS, torch); many at once on a small machine convoy on the GIL and
        SQLite's busy waits. Measured on 2 cores, 8 threads searching: 183 searches/s all at once,
        363/s one at a time (docs/benchmarks.md)."""
        with self._query_gate:
            yield

    # ---- writes ------------------------------------------------------------------------------
    def ingest(
        self,
        source: Source,
        progress: Progress | None = None,
        meter: UsageMeter | None = None,
        on_backend: Callable[[BackendInfo], None] | None = None,
    ) -> IngestResult:
        from capmatch.pipeline.writer import no_progress

        return self.ingestor.ingest(source, progress or no_progress, meter, on_backend)

    def dry_run(self, source: Source) -> DryRun:
        from capmatch.pipeline.ingest import dry_run

        return dry_run(self.ingestor, source)

    def record_calls(self, meter: UsageMeter, job_id: str | None = None) -> None:
        from capmatch.pipeline.ingest import record_calls

        record_calls(self.catalog, meter, job_id)

    def delete_tool(self, tool_id: str) -> None:
        self.writer.delete_tool(tool_id)

    def reindex(self) -> IndexStatus:
        return self.writer.reindex()

    def verify_index(self) -> IndexStatus:
        """At start-up: load the model and make sure the saved index agrees with it and the catalog."""
        return self.writer.verify_index(self.embedder.dimension)

    def export_catalog(self, out: IO[str]) -> int:
        return self.catalog.export(out)

    def import_catalog(self, path: Path) -> int:
        return self.writer.import_catalog(path, self.settings.home)

    # ---- queries -----------------------------------------------------------------------------
    def similar(
        self, tool_id: str, k: int = 10, flt: ToolFilter | None = None, count_matches: bool = True
    ) -> list[ToolHit]:
        return similar_tools(self.catalog, self.index(), tool_id, k, flt, count_matches, PAIR_FLOOR)

    def search(
        self,
        text: str,
        k: int = 10,
        flt: ToolFilter | None = None,
        count_matches: bool = True,
        mode: str | None = None,
    ) -> list[SearchHit]:
        mode = mode or self.settings.search_mode
        return search_text(self.catalog, self.index(), self.embedder, text, k, flt, count_matches, mode)

    def compare(self, a: str, b: str) -> comparing.Comparison:
        return comparing.compare(self.catalog, self.index(), a, b, self.settings.match_threshold)

    def graph(self, current_counts: bool = False) -> MatchGraph:
        return match_graph(self.catalog, current_counts)

    def rank(self, tool: Tool) -> Rank:
        return rank(tool, match_graph(self.catalog))
