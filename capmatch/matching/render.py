"""Render a comparison as Markdown (Jinja2 template in matching/templates)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, StrictUndefined

from capmatch.matching.compare import Comparison


def _cell(value: object) -> str:
    # Vendor text is untrusted: keep it from breaking the table.
    return " ".join(str(value).split()).replace("|", "\\|")


def _oneline(value: object) -> str:
    return " ".join(str(value).split())


_ENV = Environment(
    loader=PackageLoader("capmatch.matching", "templates"),
    undefined=StrictUndefined,
    autoescape=False,  # Markdown output; the HTML pages escape separately
    keep_trailing_newline=True,
    trim_blocks=False,
)
_ENV.filters["cell"] = _cell
_ENV.filters["oneline"] = _oneline


def comparison_markdown(comparison: Comparison) -> str:
    return _ENV.get_template("comparison.md.j2").render(c=comparison)
