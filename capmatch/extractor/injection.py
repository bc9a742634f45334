"""Text in a vendor page that speaks to an AI model instead of a reader ("ignore previous
instructions…") is never evidence: a quote inside it does not ground a capability."""

from __future__ import annotations

import re
from functools import lru_cache

from capmatch.extractor.segment import segment

# A heuristic, not a guarantee: it catches the common phrasings of text aimed at a model. The
# other defences (delimited vendor text, the system prompt, quotes checked against the page) do
# not depend on it.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|"
    r"preceding|your|everything|anything|all)\b"
    r"|\byou\s+are\s+now\s+(?:in\s+)?\w+"
    r"|\b(?:system|developer)\s+(?:prompt|message)\b"
    r"|\b(?:as|you\s+are)\s+an?\s+(?:ai|language\s+model|llm|assistant|chatbot)\b"
    r"|\b(?:note|message|instructions?)\s+(?:for|to)\s+(?:any\s+|the\s+)?(?:ai|llms?|language\s+models?|"
    r"assistants?|chatbots?|agents?|bots?)\b"
    r"|\b(?:ai|llm)\s+(?:assistants?|models?|agents?|systems?)\s+(?:reading|summari[sz]ing|processing|"
    r"crawling|indexing)\b"
    r"|\bnew\s+instructions\b"
    r"|\boutput\s+(?:a|the)\s+capabilit\w+\s+named\b"
    r"|\bwhen\s+(?:you\s+)?summari[sz]e\s+this\b",
    re.IGNORECASE,
)


def addresses_a_model(text: str) -> bool:
    return _INSTRUCTION.search(text) is not None


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """Blocks (paragraphs, bullets) of ``text`` that address a model, as (start, end) offsets."""
    return list(_instruction_spans(text))


@lru_cache(maxsize=8)
def _instruction_spans(text: str) -> tuple[tuple[int, int], ...]:
    # Remembered: the LLM answer's validation asks for the same page once per capability.
    return tuple((b.start, b.end) for b in segment(text) if b.kind != "heading" and addresses_a_model(b.text))


def inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    start, end = span
    return any(start < b_end and end > b_start for b_start, b_end in spans)
