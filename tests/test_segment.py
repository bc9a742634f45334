"""Segmentation: every block and sentence carries exact offsets into the text."""

from __future__ import annotations

from capmatch.extractor.segment import segment, sentences

TEXT = """# Tool

Tool is a library. It supports e.g. retries and v2.1 features! Done.

## Features

- Fast parsing
  across lines.
- Second item
Lazy continuation line.

| a | b |
|---|---|
| 1 | 2 |

```
code here
```
"""


def test_blocks_have_exact_offsets_and_sections() -> None:
    blocks = segment(TEXT)
    for block in blocks:
        assert TEXT[block.start : block.end] == block.text
    kinds = [b.kind for b in blocks]
    assert kinds == ["heading", "paragraph", "heading", "bullet", "bullet", "table_row", "table_row", "code"]
    bullets = [b for b in blocks if b.kind == "bullet"]
    assert bullets[0].text == "Fast parsing\n  across lines."
    assert bullets[1].text == "Second item\nLazy continuation line."
    assert bullets[0].section == ("Tool", "Features")


def test_sentences_keep_offsets_and_skip_abbreviations_and_versions() -> None:
    paragraph = next(b for b in segment(TEXT) if b.kind == "paragraph")
    spans = sentences(paragraph.span)
    assert [s.text for s in spans] == [
        "Tool is a library.",
        "It supports e.g. retries and v2.1 features!",
        "Done.",
    ]
    for span in spans:
        assert TEXT[span.start : span.end] == span.text
