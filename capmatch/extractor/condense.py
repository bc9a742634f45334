"""What an LLM needs to read from a cleaned page, and no more.

Sections that never describe capabilities (installation, licence, contributing, sponsors, …; the
same rules the extractive decomposer uses) are left out, and long code blocks are cut to their first
lines. Quotes are still checked against the full stored text.
"""

from __future__ import annotations

import re

from capmatch.extractor.sections import classify_section
from capmatch.extractor.segment import Block

CODE_LINES = 12
_PRICING = re.compile(
    r"[$€£]\s?\d|\bfree\b|\bpaid\b|\bpricing\b|\bplans?\b|\bper (?:month|year|seat|user|token)|licen[cs]e|"
    r"\bopen[- ]source\b|\bsubscription\b|\btier\b",
    re.IGNORECASE,
)


def condense(text: str, blocks: list[Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        if block.kind != "heading" and classify_section(block) == "skip":
            continue
        if block.kind == "heading" and classify_section(_as_body(block)) == "skip":
            continue
        piece = text[block.start : block.end]
        if block.kind == "code":
            lines = piece.split("\n")
            if len(lines) > CODE_LINES + 2:
                piece = "\n".join(
                    [*lines[: CODE_LINES + 1], f"… ({len(lines) - CODE_LINES - 2} more lines)", lines[-1]]
                )
        prefix = "#" * block.level + " " if block.kind == "heading" else "- " if block.kind == "bullet" else ""
        parts.append(prefix + piece)
    return "\n\n".join(parts) + "\n"


def facts_excerpt(text: str, blocks: list[Block], limit: int = 2500) -> str:
    """The opening of the page plus every block that talks about price or licence, for classification."""
    picked: list[str] = []
    size = 0
    for block in blocks:
        if block.kind == "code":
            continue
        piece = text[block.start : block.end]
        opening = size < limit // 2
        if (opening or _PRICING.search(piece)) and size + len(piece) <= limit:
            picked.append(piece)
            size += len(piece)
    return "\n\n".join(picked) + "\n"


def _as_body(heading: Block) -> Block:
    return Block("paragraph", heading.start, heading.end, "", section=(*heading.section, heading.text))
