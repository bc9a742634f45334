"""Splitting a long cleaned page at its section headings into parts that fit a token budget."""

from __future__ import annotations

from capmatch.extractor.segment import Block
from capmatch.llm.tokens import count_tokens


def chunk_document(text: str, blocks: list[Block], budget: int) -> list[str]:
    """Split the cleaned text at section headings into chunks of at most ``budget`` tokens.

    Sections are packed whole while they fit; a section larger than the budget is split between
    its blocks; a single block larger than the budget is split by characters as a last resort.
    """
    if count_tokens(text) <= budget:
        return [text]
    # A heading block starts at its text; the section starts at the beginning of the heading's line.
    starts = [0] + [text.rfind("\n", 0, b.start) + 1 for b in blocks if b.kind == "heading" and b.start > 0]
    starts = sorted(set(starts))
    sections = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    pieces: list[str] = []
    for section in sections:
        if count_tokens(section) <= budget:
            pieces.append(section)
        else:
            pieces.extend(_split_large(section, budget))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and count_tokens(current + piece) > budget:
            chunks.append(current)
            current = ""
        current += piece
    if current.strip():
        chunks.append(current)
    return [c for c in chunks if c.strip()]


def _split_large(section: str, budget: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for paragraph in section.split("\n\n"):
        paragraph += "\n\n"
        if count_tokens(paragraph) > budget:
            if current:
                parts.append(current)
                current = ""
            step = max(200, budget * 3)  # about 3 characters per token in dense text
            parts.extend(paragraph[i : i + step] for i in range(0, len(paragraph), step))
            continue
        if current and count_tokens(current + paragraph) > budget:
            parts.append(current)
            current = ""
        current += paragraph
    if current:
        parts.append(current)
    return parts
