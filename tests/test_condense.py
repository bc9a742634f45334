"""What the LLM is sent: capability-bearing text only, and counted tokens that split long pages."""

from __future__ import annotations

from capmatch.extractor.chunking import chunk_document
from capmatch.extractor.condense import condense, facts_excerpt, terms_blocks
from capmatch.extractor.segment import segment
from capmatch.llm.tokens import count_tokens

PAGE = (
    """# Sieve

Sieve is a Python library for filtering log lines. It is free and open source.

## Features

- Filters log lines by regular expression.

## Installation

Run the installer and pick a folder for the binaries.

```
"""
    + "\n".join(f"line {i}" for i in range(40))
    + """
```

## License

Sieve is released under the MIT License.

## Pricing

The hosted edition costs $9 per month.
"""
)


def test_condense_leaves_out_non_capability_sections_and_long_code() -> None:
    text = condense(PAGE, segment(PAGE))
    assert "Filters log lines by regular expression." in text and "# Sieve" in text
    assert "installer" not in text and "MIT License" not in text and "$9 per month" not in text
    assert count_tokens(text) < count_tokens(PAGE) / 2


def test_condense_leaves_out_pointers_and_shell_commands_wherever_they_stand() -> None:
    page = (
        "# Sieve\n\nSieve filters log lines by regular expression.\n\n"
        "Documentation: https://sieve.example.org\n\n"
        "- Source: https://github.com/example/sieve\n\n"
        "$ pip install sieve\n\n"
        "See the [filter guide](https://sieve.example.org/guide) for the rules it accepts.\n"
    )
    text = condense(page, segment(page))
    assert "filters log lines" in text
    assert "https://sieve.example.org\n" not in text and "github.com" not in text and "pip install" not in text
    # A sentence with a link in it is prose, not a pointer.
    assert "See the [filter guide](https://sieve.example.org/guide) for the rules it accepts." in text


def test_facts_excerpt_keeps_the_opening_and_the_price_and_licence_lines() -> None:
    excerpt = facts_excerpt(PAGE, segment(PAGE))
    assert "Sieve is a Python library" in excerpt
    assert "MIT License" in excerpt and "$9 per month" in excerpt
    assert "line 30" not in excerpt


def test_long_pages_are_chunked_by_section_within_the_budget() -> None:
    page = "\n\n".join(f"## Part {i}\n\n" + f"Sentence number {i} says something useful. " * 30 for i in range(8))
    chunks = chunk_document(page, segment(page), 300)
    assert len(chunks) > 2 and all(count_tokens(c) <= 300 for c in chunks)
    assert "".join(chunks) == page  # nothing lost, nothing added
    assert all(c.lstrip().startswith("## Part") for c in chunks)


def test_terms_blocks_are_the_price_and_licence_lines_with_their_headings() -> None:
    page = PAGE + "\n## Licence\n\nApache 2.0\n\n## Sponsors\n\nThanks to our sponsors.\n"
    terms = terms_blocks(page, segment(page))
    assert "Sieve is released under the MIT License." in terms and "The hosted edition costs $9 per month." in terms
    assert "Licence" in terms and "Apache 2.0" in terms  # a licence section whose body names no licence word
    assert not any("sponsors" in t or "installer" in t or t.startswith("line ") for t in terms)
