"""Turn HTML, Markdown, reStructuredText or plain text into one Markdown-ish text.

Every format goes through HTML and trafilatura, so headings, lists and tables come out the same
way whatever the source; trafilatura also drops navigation and footers on web pages. The result is
the stored source snapshot that evidence quotes point into.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import trafilatura
from docutils.core import publish_parts
from lxml import html as lxml_html
from markdown_it import MarkdownIt
from markdown_it.token import Token

from capmatch.errors import EmptyDocument, PageTooComplex

_MARKDOWN = MarkdownIt("commonmark").enable("table").enable("strikethrough")
_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1|(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![\w*])")
# Size budgets: trafilatura takes ~0.3 ms per element and docutils more per line, so a page of
# 100,000 list items (4.9 MB, under the byte cap) would hold a worker for minutes. Real
# documentation pages stay far below these.
MAX_ELEMENTS = 40_000
MAX_LINES = 40_000
_OPEN_TAG = re.compile(r"<[A-Za-z]")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")


@dataclass(frozen=True)
class CleanDocument:
    text: str
    title: str | None
    format: str


def clean(raw: str, fmt: str) -> CleanDocument:
    raw = _ZERO_WIDTH.sub("", raw)
    if fmt == "text":
        text = _normalise(raw)
        title = next((line.strip() for line in text.splitlines() if line.strip()), None)
    else:
        lines = raw.count("\n")
        if fmt in ("markdown", "rst") and lines > MAX_LINES:
            raise PageTooComplex(
                f"the page has {lines} lines; at most {MAX_LINES} are read (split it, or submit a part)"
            )
        page = _to_html(raw, fmt)
        elements = sum(1 for _ in _OPEN_TAG.finditer(page))
        if elements > MAX_ELEMENTS:
            raise PageTooComplex(
                f"the page has {elements} HTML elements; at most {MAX_ELEMENTS} are read (split it, or submit a part)"
            )
        title = _title_of(page, raw, fmt)
        extracted = trafilatura.extract(
            _prepare(page, fmt),
            output_format="markdown",
            include_tables=True,
            include_formatting=True,
            include_links=False,
            include_images=False,
            include_comments=False,
            favor_recall=True,
            deduplicate=False,
        )
        text = _normalise(extracted or "")
    if len(re.findall(r"\w+", text)) < 2:
        raise EmptyDocument("the page has no readable text after cleaning (empty page, or only scripts/images)")
    return CleanDocument(text=text, title=title, format=fmt)


@lru_cache(maxsize=4)
def _markdown_tokens(raw: str) -> list[Token]:
    """A Markdown page parsed once for both its HTML and its title (neither changes the tokens)."""
    return _MARKDOWN.parse(raw)


def _to_html(raw: str, fmt: str) -> str:
    if fmt == "html":
        return raw
    if fmt == "markdown":
        body = _MARKDOWN.renderer.render(_markdown_tokens(raw), _MARKDOWN.options, {})
        return f"<html><body><main>{body}</main></body></html>"
    if fmt == "rst":
        try:
            parts = publish_parts(
                raw,
                writer="html5",
                settings_overrides={
                    # Never let a document read local files or inject raw HTML.
                    "file_insertion_enabled": False,
                    "raw_enabled": False,
                    "report_level": 5,
                    "halt_level": 5,
                    "output_encoding": "unicode",
                    # Keep the first section a section: promoting it to a document title loses it.
                    "doctitle_xform": False,
                },
            )
            return str(parts["whole"])
        except Exception:  # docutils raises many types on broken markup; fall back to plain text
            return f"<html><body><pre>{_escape(raw)}</pre></body></html>"
    raise ValueError(f"unknown document format {fmt!r}")


def _prepare(page: str, fmt: str) -> str:
    """Reshape markup that trafilatura renders badly or drops.

    - docutils wraps indented text in <blockquote>; inside list items trafilatura then loses it.
    - README links: see below.
    - <dt>Term</dt><dd>Text</dd> becomes a "- Term: Text" bullet; trafilatura would split the pair.
    """
    lowered = page.lower()
    if fmt == "html" and "<dt" not in lowered:
        return page
    try:
        tree = lxml_html.fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        return page
    if fmt == "rst":
        for quote in tree.xpath("//blockquote"):
            quote.drop_tag()
    if fmt != "html":
        # A README has no navigation to strip, but trafilatura drops link-dense list items as if it did.
        for link in tree.xpath("//a"):
            link.drop_tag()
    for dl in tree.xpath("//dl"):
        items = []
        for dt in dl.xpath("./dt"):
            dd = dt.getnext()
            term = " ".join(dt.text_content().split())
            body = " ".join(dd.text_content().split()) if dd is not None and dd.tag == "dd" else ""
            if term:
                items.append(f"{term}: {body}" if body else term)
        if not items:
            continue
        ul = lxml_html.Element("ul")
        for item in items:
            li = lxml_html.Element("li")
            li.text = item
            ul.append(li)
        dl.getparent().replace(dl, ul)
    return lxml_html.tostring(tree, encoding="unicode")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BADGE_ALT = re.compile(
    r"\b(?:build|status|coverage|version|pypi|license|downloads?|ci|docs|tests?|chat|discord|stars?|"
    r"python|badge|codecov|actions|release|conda|gitter|slack|twitter|follow|sponsor)\b",
    re.IGNORECASE,
)


def _title_of(page: str, raw: str, fmt: str) -> str | None:
    """The page's own name for itself.

    Web pages: <title> up to its separator when short (an <h1> is often a slogan), else <h1>.
    READMEs: the first H1, then a leading logo's alt text.
    """
    candidates: list[str] = []
    if fmt == "markdown":
        tokens = _markdown_tokens(raw)  # tokens, not a regex: "# comment" lines in code are not headings
        for i, token in enumerate(tokens[:-1]):
            if token.type == "heading_open" and token.tag == "h1":
                candidates.append(_inline_text(tokens[i + 1].content))
                break
            # READMEs often open with a centred HTML <h1>; a later "# Changelog" appended to the same
            # long description is not the page's name.
            html_h1 = (
                re.search(r"<h1\b[^>]*>(.*?)</h1>", token.content, re.I | re.S) if token.type == "html_block" else None
            )
            if html_h1 is not None and re.sub(r"<[^>]+>", "", html_h1[1]).strip():
                candidates.append(" ".join(re.sub(r"<[^>]+>", " ", html_h1[1]).split()))
                break
    try:
        tree = lxml_html.fromstring(page)
    except (ValueError, lxml_html.etree.ParserError):
        tree = None
    if tree is not None:
        title = " ".join(" ".join(n.text_content().split()) for n in tree.xpath("//title")[:1])
        h1 = " ".join(" ".join(n.text_content().split()) for n in tree.xpath("//h1")[:1])
        if fmt == "html":
            head = re.split(r"\s+[|·•—–]\s+|\s+-\s+|:\s+", title, maxsplit=1)[0] if title else ""
            candidates += [head if len(head.split()) <= 5 else "", h1, title]
        else:
            candidates.append(h1)
            # READMEs often open with a logo whose alt text is the project name.
            first = tree.xpath("(//img | //h2 | //h3 | //p[normalize-space()])[1]")
            if first and first[0].tag == "img":
                candidates.append(" ".join((first[0].get("alt") or "").split()))
            candidates.append(title)
            # docutils renders an untitled document's first section as <h2>: a title if nothing precedes it.
            first_block = tree.xpath("(//h2 | //p[normalize-space()] | //dl | //table | //ul | //ol | //pre)[1]")
            if fmt == "rst" and first_block and first_block[0].tag == "h2":
                candidates.append(" ".join(first_block[0].text_content().split()))
    for candidate in candidates:
        candidate = re.sub(r"\s+logo$", "", candidate or "", flags=re.IGNORECASE).strip()
        # docutils titles an untitled document "<string>"; rst images without alt use their URL.
        if (
            candidate
            and candidate != "<string>"
            and not (len(candidate.split()) <= 3 and _BADGE_ALT.search(candidate))
            and not re.search(r"://|\.(?:png|svg|jpe?g|gif)$", candidate)
            and not re.fullmatch(r"(?:introduction|overview|readme|about|home|contents?)", candidate, re.I)
        ):
            return candidate
    return None


def _inline_text(markdown: str) -> str:
    html = _MARKDOWN.renderInline(markdown)
    if not html.strip():
        return markdown.strip()
    return " ".join(lxml_html.fromstring(f"<span>{html}</span>").text_content().split())


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    # trafilatura sometimes opens a code fence at the end of a prose line; give it a line of its own.
    text = re.sub(r"(?<=\S)[ \t]*```", "\n```", text)
    lines, in_code = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_code = not in_code
            lines.append(line.rstrip())
            continue
        if not in_code:
            line = _EMPHASIS.sub(lambda m: m.group(2) or m.group(3) or "", line)
            line = _ESCAPE.sub(r"\1", line)
            if line.strip().startswith("|") and _table_row_is_empty(line):
                continue
        lines.append(line.rstrip())
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return _drop_orphan_table_rules(text).strip() + "\n"


def _table_row_is_empty(line: str) -> bool:
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    filled = [c for c in cells if c and not set(c) <= set("-: ")]
    return len(filled) <= 1 and not all(set(c) <= set("-: ") and c for c in cells)


def _drop_orphan_table_rules(text: str) -> str:
    """Remove |---| rules left behind when every row of a badge table was empty."""
    out = []
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("|") and set(stripped) <= set("|-: "):
            neighbours = [lines[j].strip() for j in (i - 1, i + 1) if 0 <= j < len(lines)]
            if not any(n.startswith("|") and not set(n) <= set("|-: ") for n in neighbours):
                continue
        out.append(line)
    return "\n".join(out)
