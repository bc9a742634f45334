"""Render a comparison as Markdown (Jinja2 template in matching/templates)."""

from __future__ import annotations

import html

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from capmatch.matching.compare import Comparison


def _cell(value: object) -> str:
    # Vendor text is untrusted: keep it from breaking the table.
    return " ".join(str(value).split()).replace("|", "\\|")


def _oneline(value: object) -> str:
    return " ".join(str(value).split())


def _no_html(value: object) -> object:
    # Markdown renderers pass raw HTML through: a tool name with <script> must arrive as text.
    return value if isinstance(value, Markup) else html.escape(str(value), quote=False)


_ENV = Environment(
    loader=PackageLoader("capmatch.matching", "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # Markdown output; the HTML pages escape separately
    keep_trailing_newline=True,
    trim_blocks=False,
    finalize=_no_html,
)
_ENV.filters["cell"] = _cell
_ENV.filters["oneline"] = _oneline


def comparison_markdown(comparison: Comparison) -> str:
    return _ENV.get_template("comparison.md.j2").render(c=comparison)
