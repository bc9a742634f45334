"""The Jinja2 environment for the pages. Vendor text is untrusted: every template autoescapes."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from capmatch.extractor.inline_code import spans
from capmatch.models import Pricing, ToolType

HERE = Path(__file__).resolve().parent


def safe_url(url: str) -> str:
    """Only http(s) links are rendered: a stored URL is vendor-controlled, and `javascript:` in an
    href would run even though the text is escaped."""
    return url if urlsplit(url).scheme in ("http", "https") else ""


def text_fragment_url(url: str, quote_text: str) -> str:
    """A link that scrolls the vendor's page to the quote (URL text fragments; Chromium, Safari,
    Firefox ≥ 131). Long quotes use start,end so the link survives small wording differences."""
    url = safe_url(url)
    words = quote_text.split()
    if not words or not url:
        return url
    long = len(words) > 8
    fragment = f"{_fragment_part(words[:4])},{_fragment_part(words[-4:])}" if long else _fragment_part(words)
    return f"{url.split('#', 1)[0]}#:~:text={fragment}"


def _fragment_part(words: list[str]) -> str:
    # "-" and "," are syntax inside a text directive: a quote containing them must encode them.
    return quote(" ".join(words), safe="").replace("-", "%2D")


def inline_code(text: str | None) -> Markup:
    """Vendor text, escaped, with Markdown code spans shown as <code> (on one line) instead of raw backticks."""
    return Markup("").join(
        Markup("<code>{}</code>").format(piece) if code else escape(piece) for piece, code in spans(text or "")
    )


def score(value: float | None, digits: int = 0) -> str:
    return "no data" if value is None else f"{value:.{digits}f}"


def percent(value: float) -> str:
    return f"{value:.0%}"


def describe_inputs(inputs: dict[str, object]) -> str:
    """A sub-score's inputs as a person reads them: "stars 9,650 · type stated yes"."""
    parts = []
    for key, value in inputs.items():
        if isinstance(value, bool):
            shown = "yes" if value else "no"
        elif isinstance(value, float):
            shown = f"{value:,.0f}" if value.is_integer() else f"{value:.3g}"
        elif isinstance(value, int):
            shown = f"{value:,}"
        else:
            shown = str(value)
        parts.append(f"{key.replace('_', ' ')} {shown}")
    return " · ".join(parts)


def leader(row: object) -> str:
    """Which side of a feature-table row is ahead ("a", "b" or ""), for rows that are scores or counts."""
    if getattr(row, "feature", "") not in LEAD_ROWS:
        return ""
    a, b = (_leading_number(getattr(row, side)) for side in ("a", "b"))
    if a is None or b is None or a == b:
        return ""
    return "a" if a > b else "b"


LEAD_ROWS = {"Rank", "Adoption", "Quality", "Ecosystem", "Match Graph", "Grounded", "Times matched"}


def _leading_number(text: str) -> float | None:
    match = re.match(r"\s*(\d+(?:\.\d+)?)", text)
    return float(match.group(1)) if match else None


def css_token(value: str) -> str:
    """A value usable in a class name: types and pricing become style hooks."""
    return "".join(ch if ch.isalnum() else "-" for ch in value.lower())


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        fragment=text_fragment_url,
        safe_url=safe_url,
        inputs=describe_inputs,
        leader=leader,
        score=score,
        percent=percent,
        token=css_token,
        code=inline_code,
    )
    env.globals.update(TYPES=[t.value for t in ToolType], PRICING=[p.value for p in Pricing])
    return Jinja2Templates(env=env)


templates = make_templates()
