"""Every tool's identity and document vectors, as matrices with their ids, cached per catalog generation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from capmatch.storage.base import Catalog


@dataclass
class Identities:
    ids: list[str]
    row: dict[str, int]
    matrix: np.ndarray


def documents(catalog: Catalog) -> Identities:
    """All tools' document vectors, cached until the catalog changes."""

    def load() -> Identities:
        ids, matrix = catalog.documents()
        return Identities(ids, {t: i for i, t in enumerate(ids)}, matrix)

    return catalog.cached("documents", load)


def identities(catalog: Catalog) -> Identities:
    """All tools' identity vectors, cached until the catalog changes."""

    def load() -> Identities:
        ids, matrix = catalog.identities()
        return Identities(ids, {t: i for i, t in enumerate(ids)}, matrix)

    return catalog.cached("identities", load)
