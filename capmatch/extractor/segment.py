"""Split cleaned text into blocks (headings, paragraphs, bullets, table rows, code) and sentences,
each with character offsets into the text so quotes can be traced back to the source."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

BlockKind = Literal["heading", "paragraph", "bullet", "table_row", "code"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^(\s*)([-*+•]|\d{1,3}[.)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Span:
    text: str
    start: int
    end: int


@dataclass
class Block:
    kind: BlockKind
    start: int
    end: int
    text: str
    level: int = 0  # heading level, or bullet indentation depth
    section: tuple[str, ...] = field(default_factory=tuple)  # heading path above the block
    index: int = 0

    @property
    def span(self) -> Span:
        return Span(self.text, self.start, self.end)


def segment(text: str) -> list[Block]:
    blocks: list[Block] = []
    headings: list[tuple[int, str]] = []
    lines = _lines_with_offsets(text)
    i = 0
    in_code_start: int | None = None
    paragraph: list[tuple[int, str]] = []

    def section() -> tuple[str, ...]:
        return tuple(h for _, h in headings)

    def flush_paragraph() -> None:
        if paragraph:
            start = paragraph[0][0]
            last_start, last_line = paragraph[-1]
            end = last_start + len(last_line.rstrip())
            start += len(paragraph[0][1]) - len(paragraph[0][1].lstrip())
            blocks.append(Block("paragraph", start, end, text[start:end], section=section()))
            paragraph.clear()

    while i < len(lines):
        offset, line = lines[i]
        if in_code_start is not None:
            if _FENCE.match(line):
                end = offset + len(line)
                blocks.append(Block("code", in_code_start, end, text[in_code_start:end], section=section()))
                in_code_start = None
            i += 1
            continue
        if _FENCE.match(line):
            flush_paragraph()
            in_code_start = offset
            i += 1
            continue
        stripped = line.strip()
        if not stripped:
            flush_paragraph()
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            flush_paragraph()
            level = len(heading.group(1))
            title = heading.group(2).strip()
            headings[:] = [h for h in headings if h[0] < level]
            start = offset + heading.start(2)
            blocks.append(Block("heading", start, start + len(title), title, level=level, section=section()))
            headings.append((level, title))
            i += 1
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush_paragraph()
            depth = len(bullet.group(1).expandtabs(4)) // 2
            start = offset + bullet.end()
            end = offset + len(line.rstrip())
            # Continuation lines, indented or "lazy" as CommonMark allows: anything up to a blank line,
            # a new bullet, heading, fence or table row.
            j = i + 1
            while j < len(lines):
                next_offset, next_line = lines[j]
                if (
                    not next_line.strip()
                    or _BULLET.match(next_line)
                    or _HEADING.match(next_line)
                    or _FENCE.match(next_line)
                    or next_line.lstrip().startswith("|")
                ):
                    break
                end = next_offset + len(next_line.rstrip())
                j += 1
            blocks.append(Block("bullet", start, end, text[start:end], level=depth, section=section()))
            i = j
            continue
        if stripped.startswith("|"):
            flush_paragraph()
            start = offset + line.index("|")
            end = offset + len(line.rstrip())
            if not set(stripped) <= set("|-: "):
                blocks.append(Block("table_row", start, end, text[start:end], section=section()))
            i += 1
            continue
        paragraph.append((offset, line))
        i += 1
    flush_paragraph()
    if in_code_start is not None:
        blocks.append(Block("code", in_code_start, len(text), text[in_code_start:], section=section()))
    for n, block in enumerate(blocks):
        block.index = n
    return blocks


def _lines_with_offsets(text: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for line in text.split("\n"):
        out.append((offset, line))
        offset += len(line) + 1
    return out


# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "etc",
    "vs",
    "approx",
    "incl",
    "cf",
    "fig",
    "no",
    "mr",
    "dr",
    "inc",
    "ltd",
    "al",
}
# A sentence ends at . ! ? before a capital, or at a line break that is not a soft wrap: the next line
# starts with a capital and the line before does not end mid-clause (comma, colon, a word that expects more).
# Lowercase starts count too ("… for Python. urllib3 brings …"): projects often name themselves in lowercase.
_SENTENCE_END = re.compile(
    r"(?<=[\w)\]\"'`])[.!?](?:[\"')\]]*)(?=\s+[\"'(\[]?[A-Za-z0-9`][\w`-])|[.!?]$"
    r"|(?<=[^\s,;:(\-/&])[ \t]*\n(?=\s*[A-Z0-9\"'`(])"
)


def sentences(span: Span) -> list[Span]:
    """Split a span into sentences, keeping offsets. Conservative: a wrong merge beats a wrong split."""
    out: list[Span] = []
    text, base = span.text, span.start
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        candidate = text[start:end]
        word = re.findall(r"([A-Za-z.]+)[.!?]?[\"')\]]*$", candidate.strip())
        if match.group(0) == "." and word and word[-1].lower().rstrip(".") in _ABBREVIATIONS:
            continue
        if match.group(0) == "." and re.search(r"\d\.$", candidate) and re.match(r"\s*\d", text[end:]):
            continue
        _append(out, text, base, start, end)
        start = end
    _append(out, text, base, start, len(text))
    return out


def _append(out: list[Span], text: str, base: int, start: int, end: int) -> None:
    raw = text[start:end]
    stripped = raw.strip()
    if not stripped:
        return
    lead = len(raw) - len(raw.lstrip())
    s = base + start + lead
    out.append(Span(stripped, s, s + len(stripped)))
