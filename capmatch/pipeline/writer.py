"""The write path: every change to the catalog is one transaction in which the rows, the vector
index, the contrast lines and the match edges change together, or not at all.

The catalog's write lock is taken first, then the live index's (see capmatch.embeddings.live): the
vector changes are rows of the same transaction, so a crash at any point leaves the old catalog
with its change log, or the new one with its. Index snapshots are folded after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from capmatch.embeddings.live import IndexStatus, LiveIndex
from capmatch.errors import InvalidInput
from capmatch.matching.contrast import refresh_after_change, tools_near
from capmatch.models import STEP_STARTS, Stage, Tool
from capmatch.storage.base import Catalog, NewCapability

Progress = Callable[[Stage, float], None]


def no_progress(stage: Stage, fraction: float) -> None:
    return None


@dataclass(frozen=True)
class StoreResult:
    tool: Tool
    created: bool
    replaced: str | None


def _is_replaceable_url(url: str) -> bool:
    # "text:<name>" stands for an inline document: two records of that kind are two tools.
    return not url.startswith("text:")


class CatalogWriter:
    def __init__(self, catalog: Catalog, index: LiveIndex, match_threshold: float) -> None:
        self.catalog = catalog
        self.index = index
        self.match_threshold = match_threshold

    def store_tool(
        self,
        tool: Tool,
        source_text: str,
        capabilities: list[NewCapability],
        identity: np.ndarray | None = None,
        document: np.ndarray | None = None,
        progress: Progress = no_progress,
        guard: Callable[[], None] | None = None,
    ) -> StoreResult:
        """Store ``tool`` (its id is a slug to start from), replacing an earlier version if any.

        Which tool to replace and which id to use are decided inside the write lock, so two
        processes ingesting the same page at once store it once. ``guard`` runs inside the
        transaction before the commit (a worker checks it still holds its job's lease).
        """
        catalog = self.catalog
        with catalog.write(), self.index.updating() as index:
            self.index.check_model()
            if catalog.meta("embedding_model") is None:
                catalog.set_meta("embedding_model", self.index.options.model)
            same = catalog.find_by_hash(tool.content_hash)
            if same is not None and catalog.extraction_of(same)[1:] == (tool.extractor, tool.extractor_version):
                return StoreResult(catalog.get_tool(same), created=False, replaced=None)
            replace = same or self._earlier_version(tool)
            progress(Stage.INDEXING, STEP_STARTS["indexing"])
            affected: set[str] = set()
            if replace is not None:
                previous = catalog.get_tool(replace, with_capabilities=False)
                # A new version of the same tool keeps its identity and its history.
                tool = tool.model_copy(
                    update={"id": replace, "times_matched": previous.times_matched, "created_at": previous.created_at}
                )
                affected |= catalog.tools_naming(replace)
                index.remove(np.asarray(catalog.delete_tool(replace), dtype=np.int64))
            else:
                tool = tool.model_copy(update={"id": self._free_id(tool.id)})
            ids = catalog.insert_tool(tool, source_text, capabilities, identity, document)
            index.add(np.asarray(ids, dtype=np.int64), np.vstack([c.vector for c in capabilities]))
            progress(Stage.CONTRASTING, STEP_STARTS["updating"])
            refresh_after_change(catalog, index, tool.id, affected - {tool.id}, self.match_threshold)
            progress(Stage.STORING, STEP_STARTS["storing"])
            if guard is not None:
                guard()
        self.index.after_write()
        return StoreResult(catalog.get_tool(tool.id), created=True, replaced=replace)

    def _earlier_version(self, tool: Tool) -> str | None:
        """The stored tool this one is a new version of: the same URL; for a local file
        ("local:<file name>"; two folders may each have a README.md) also the same name."""
        if not _is_replaceable_url(tool.url):
            return None
        found = self.catalog.find_by_url(tool.url)
        if found is None or not tool.url.startswith("local:"):
            return found
        same_name = self.catalog.get_tool(found, with_capabilities=False).name.lower() == tool.name.lower()
        return found if same_name else None

    def _free_id(self, base: str) -> str:
        candidate, n = base, 2
        while self.catalog.tool_exists(candidate):
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def delete_tool(self, tool_id: str) -> None:
        catalog = self.catalog
        with catalog.write(), self.index.updating() as index:
            # Unique lines name the comparable tools near a capability, alternatives or not.
            affected = catalog.tools_naming(tool_id) | tools_near(catalog, index, tool_id)
            index.remove(np.asarray(catalog.delete_tool(tool_id), dtype=np.int64))
            refresh_after_change(catalog, index, None, affected - {tool_id}, self.match_threshold)
        self.index.after_write()

    def reindex(self) -> IndexStatus:
        with self.catalog.write():
            return self.index.rebuild()

    def verify_index(self, dimension: int) -> IndexStatus:
        with self.catalog.write():
            return self.index.verify(dimension)

    def import_catalog(self, path: Path, home: Path) -> int:
        """Load an export into this catalog, which must be empty: everything lands or nothing does,
        and the vector index is rebuilt from the imported vectors before the commit."""
        catalog = self.catalog
        model = self.index.options.model
        with catalog.write():
            present = catalog.tool_count()
            if present:
                raise InvalidInput(
                    f"the catalog in {home} already has {present} tools: import into an empty one "
                    "(set CAPMATCH_HOME to a new folder); exports are restored, not merged"
                )
            tools = catalog.import_file(path, model, self.index.dimension())
            if catalog.meta("embedding_model") is None:
                catalog.set_meta("embedding_model", model)
            catalog.bump_generation()
            self.index.rebuild()
        return tools
