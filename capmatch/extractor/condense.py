"""What an LLM needs to read from a cleaned page, and no more.

Every token sent is paid for, and a page's tokens are most of a tool's prompt, so:
- sections that never describe capabilities (installation, licence, contributing, sponsors, …; the
  same rules the extractive decomposer uses) are left out;
- so are blocks that only point elsewhere (a link list, "Docs: https://…", a badge row) or are a
  shell command ("$ pip install …"): they name no capability, wherever they stand;
- code blocks are cut to their first lines.
Quotes are still checked against the full stored text.
"""

from __future__ import annotations

import re

from capmatch.extractor.sections import classify_section
from capmatch.extractor.segment import Block

CODE_LINES = 6  # the call and its first arguments: enough to show the API's shape
# A block with at most this many words once its links are taken out only points elsewhere.
POINTER_WORDS = 3
_PRICING = re.compile(
    r"[$€£]\s?\d|\bfree\b|\bpaid\b|\bpricing\b|\bplans?\b|\bper (?:month|year|seat|user|token)|licen[cs]e|"
    r"\bopen[- ]source\b|\bsubscription\b|\btier\b",
    re.IGNORECASE,
)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|<?https?://\S+|\bwww\.\S+")
_WORD = re.compile(r"[^\W_]{2,}")
_COMMAND = re.compile(
    r"^\s*(?:\$|>>>|\bpip3? install\b|\buv (?:add|pip)\b|\bconda install\b|\bpoetry add\b|\bnpm (?:i|install)\b)"
)


def condense(text: str, blocks: list[Block]) -> str:
    parts: list[str] = []
    for block in blocks:
        if block.kind != "heading" and classify_section(block) == "skip":
            continue
        if block.kind == "heading" and classify_section(_as_body(block)) == "skip":
            continue
        piece = text[block.start : block.end]
        if block.kind in ("paragraph", "bullet", "table_row") and (pointer(piece) or command(piece)):
            continue
        if block.kind == "code":
            piece = _cut_code(piece, CODE_LINES)
        prefix = "#" * block.level + " " if block.kind == "heading" else "- " if block.kind == "bullet" else ""
        parts.append(prefix + piece)
    return "\n\n".join(parts) + "\n"


def pointer(piece: str) -> bool:
    """Links, images and badges with at most a label: "Docs: https://…", "[![build](…)](…)"."""
    if not _LINK.search(piece):
        return False
    # Link texts count as words only when they are prose, not a badge's alt text or a bare URL.
    rest = _LINK.sub(lambda m: "" if m.group(0).startswith("!") else (m.group(1) or ""), piece)
    return len(_WORD.findall(rest)) <= POINTER_WORDS


def command(piece: str) -> bool:
    """A shell or REPL line set as prose: "$ pip install -U marshmallow"."""
    return bool(_COMMAND.match(piece))


def _cut_code(piece: str, keep: int) -> str:
    lines = piece.split("\n")
    if len(lines) <= keep + 2:  # fence lines included: a short block is sent whole
        return piece
    return "\n".join([*lines[: keep + 1], f"… ({len(lines) - keep - 2} more lines)", lines[-1]])


def facts_excerpt(text: str, blocks: list[Block], limit: int = 2500) -> str:
    """The opening of the page plus every block that talks about price or licence, for classification."""
    picked: list[str] = []
    size = 0
    for block in blocks:
        if block.kind == "code":
            continue
        piece = text[block.start : block.end]
        states_terms = bool(_PRICING.search(piece))
        opening = size < limit // 2 and not pointer(piece) and not command(piece)
        if (opening or states_terms) and size + len(piece) <= limit:
            picked.append(piece)
            size += len(piece)
    return "\n\n".join(picked) + "\n"


def terms_blocks(text: str, blocks: list[Block]) -> list[str]:
    """The blocks that talk about price or licence, or stand under a heading that does ("License" /
    "Apache 2.0"), with that heading: what condensing may have left out and a one-request answer
    still needs for the facts. The page's opening is not added back, unlike in facts_excerpt: the
    condensed page has it, unless a section rule left it out on purpose."""
    picked: list[str] = []
    for block in blocks:
        piece = text[block.start : block.end]
        if block.kind == "code":
            continue
        if block.kind == "heading":
            if _PRICING.search(piece):
                picked.append(piece)
            continue
        under_terms = bool(block.section) and bool(_PRICING.search(block.section[-1]))
        if under_terms or _PRICING.search(piece):
            picked.append(piece)
    return picked


def _as_body(heading: Block) -> Block:
    return Block("paragraph", heading.start, heading.end, "", section=(*heading.section, heading.text))
