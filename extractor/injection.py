"""Text in a vendor page that speaks to an AI model instead of a reader ("ignore previous
instructions…") is never evidence: a quote inside it does not ground a capability."""

from __future__ import annotations

import re

from extractor.segment import segment

_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|"
    r"preceding|your)\s+(?:instructions|prompts?|rules|directions)\b"
    r"|\byou\s+are\s+now\s+(?:in\s+)?\w+"
    r"|\b(?:system|developer)\s+prompt\b"
    r"|\b(?:as|you\s+are)\s+an?\s+(?:ai|language\s+model|llm|assistant)\b"
    r"|\boutput\s+(?:a|the)\s+capabilit\w+\s+named\b",
    re.IGNORECASE,
)


def addresses_a_model(text: str) -> bool:
    return _INSTRUCTION.search(text) is not None


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """Blocks (paragraphs, bullets) of ``text`` that address a model, as (start, end) offsets."""
    return [(b.start, b.end) for b in segment(text) if b.kind != "heading" and addresses_a_model(b.text)]


def inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(start < b_end and end > b_start for b_start, b_end in spans)
