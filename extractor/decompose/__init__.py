"""Decomposer backends, chosen by name from a small registry."""

from __future__ import annotations

from collections.abc import Callable

from capmatch.errors import InvalidInput
from embeddings.model import Embedder
from extractor.decompose.base import CapabilityDraft, Decomposer, SourceDocument
from extractor.decompose.extractive import ExtractiveDecomposer

__all__ = ["BACKENDS", "CapabilityDraft", "Decomposer", "SourceDocument", "get_decomposer"]

BACKENDS: dict[str, Callable[[Embedder], Decomposer]] = {
    "extractive": ExtractiveDecomposer,
}


def get_decomposer(name: str, embedder: Embedder) -> Decomposer:
    try:
        factory = BACKENDS[name]
    except KeyError:
        known = ", ".join(sorted(BACKENDS))
        raise InvalidInput(f"unknown extractor {name!r}: choose one of {known}") from None
    return factory(embedder)
