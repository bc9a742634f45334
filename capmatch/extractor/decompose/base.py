"""The decomposer interface: every backend (extractive, LLM) turns a cleaned document into drafts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from capmatch.extractor.classify import ToolFacts
from capmatch.extractor.segment import Block


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


@dataclass(frozen=True)
class Neighbour:
    """A capability of another catalog tool, close to one of the tool's own."""

    tool: str
    capability: str
    description: str
    similarity: float
    quotes: tuple[str, ...] = ()  # its evidence, so contrast lines can be grounded in both pages


@dataclass(frozen=True)
class ContrastLines:
    unique: str
    vs_alternatives: str
    names: tuple[str, ...]  # catalog tools the lines name


class Decomposer(Protocol):
    name: str
    version: str
    model: str | None  # the LLM that runs, if any
    prompt_version: str | None

    def decompose(self, doc: SourceDocument) -> list[CapabilityDraft]: ...

    def classify(self, doc: SourceDocument) -> ToolFacts: ...

    def contrast(
        self, tool_name: str, capabilities: list[CapabilityDraft], neighbours: list[list[Neighbour]]
    ) -> list[ContrastLines] | None:
        """Unique / vs alternatives lines written by the backend, or None to leave them to the rules."""
        ...
