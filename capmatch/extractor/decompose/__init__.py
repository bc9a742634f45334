"""Decomposer backends, chosen by name from a small registry."""

from __future__ import annotations

from collections.abc import Callable

from capmatch.embeddings.model import Embedder
from capmatch.errors import InvalidInput
from capmatch.extractor.decompose.admit import shipped_model
from capmatch.extractor.decompose.base import CapabilityDraft, ContrastLines, Decomposer, Neighbour, SourceDocument
from capmatch.extractor.decompose.extractive import ExtractiveDecomposer
from capmatch.settings import Settings
from capmatch.storage.base import LLMCacheStore

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


def _llm(embedder: Embedder, settings: Settings, store: LLMCacheStore) -> Decomposer:
    from capmatch.extractor.decompose.llm import LLMDecomposer  # imports openai + instructor only when used

    return LLMDecomposer(embedder, settings, store)


def _extractive(embedder: Embedder, settings: Settings, store: LLMCacheStore) -> Decomposer:
    return ExtractiveDecomposer(embedder, shipped_model())


BACKENDS: dict[str, Callable[[Embedder, Settings, LLMCacheStore], Decomposer]] = {
    "extractive": _extractive,
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


def get_decomposer(backend: str, embedder: Embedder, settings: Settings, cache: LLMCacheStore) -> Decomposer:
    """The decomposer for a backend name that ``resolve_backend`` returned (resolved once per job)."""
    return BACKENDS[backend](embedder, settings, cache)
