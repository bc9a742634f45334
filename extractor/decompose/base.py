"""The decomposer interface: every backend (extractive, LLM) turns a cleaned document into drafts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from extractor.segment import Block


@dataclass(frozen=True)
class SourceDocument:
    text: str  # the cleaned snapshot evidence points into
    title: str | None
    name: str
    url: str
    format: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class CapabilityDraft:
    """A capability before verification: quotes are claims until extractor.verify locates them."""

    name: str
    description: str
    quotes: list[str]
    score: float = 0.0


class Decomposer(Protocol):
    name: str
    version: str

    def decompose(self, doc: SourceDocument) -> list[CapabilityDraft]: ...
