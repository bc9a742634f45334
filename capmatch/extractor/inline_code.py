"""Markdown code spans (`retries=5`) in vendor text.

Cleaned pages keep a code span's backticks, and a span the vendor wrapped over two source lines
keeps the line break inside it. Descriptions store the span on one line (the backticks stay: the
API returns Markdown-ish text); pages show it as <code>. Evidence quotes are never rewritten here:
their offsets point into the stored snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# A run of backticks, the shortest text up to the same run, no blank line inside (as CommonMark).
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.DOTALL)


def spans(text: str) -> Iterator[tuple[str, bool]]:
    """The text in order as (piece, is_code); a code piece without its backticks, whitespace collapsed."""
    pos = 0
    for match in CODE_SPAN.finditer(text):
        code = " ".join(match.group(2).split())
        if not code:
            continue
        if match.start() > pos:
            yield text[pos : match.start()], False
        yield code, True
        pos = match.end()
    if pos < len(text):
        yield text[pos:], False


def collapse_code_spans(text: str) -> str:
    """The text with each code span on one line: "`max_\\n  retries`" becomes "`max_ retries`"."""
    return "".join(f"`{piece}`" if code else piece for piece, code in spans(text))
