"""Decomposer backends, chosen by name from a small registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from capmatch.embeddings.model import Embedder
from capmatch.errors import InvalidInput
from capmatch.extractor.decompose.base import CapabilityDraft, ContrastLines, Decomposer, Neighbour, SourceDocument
from capmatch.extractor.decompose.extractive import ExtractiveDecomposer
from capmatch.settings import Settings
from capmatch.storage.catalog import CatalogStore

if TYPE_CHECKING:
    from capmatch.core import CapMatch

__all__ = [
    "BACKENDS",
    "CHOICES",
    "CapabilityDraft",
    "ContrastLines",
    "Decomposer",
    "Neighbour",
    "SourceDocument",
    "get_decomposer",
    "resolve_backend",
]


def _llm(embedder: Embedder, settings: Settings, store: CatalogStore) -> Decomposer:
    from capmatch.extractor.decompose.llm import LLMDecomposer  # imports openai + instructor only when used

    return LLMDecomposer(embedder, settings, store)


BACKENDS: dict[str, Callable[[Embedder, Settings, CatalogStore], Decomposer]] = {
    "extractive": lambda embedder, settings, store: ExtractiveDecomposer(embedder),
    "llm": _llm,
}
CHOICES = ("auto", *BACKENDS)


def resolve_backend(requested: str | None, settings: Settings) -> tuple[str, str | None]:
    """The backend to run for ``requested`` (auto|llm|extractive), and a notice when auto falls back."""
    name = (requested or settings.extractor).strip().lower()
    if name == "auto":
        if settings.llm_configured:
            return "llm", None
        return "extractive", (
            "no LLM configured (set OPENAI_API_KEY and/or OPENAI_BASE_URL): used the offline extractive decomposer"
        )
    if name not in BACKENDS:
        raise InvalidInput(f"unknown extractor {name!r}: choose one of {', '.join(CHOICES)}")
    return name, None


def get_decomposer(name: str, core: CapMatch) -> Decomposer:
    backend, _ = resolve_backend(name, core.settings)
    return BACKENDS[backend](core.embedder, core.settings, core.store)
