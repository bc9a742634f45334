"""Versioned prompt templates for LLM backends.

Each ``*.j2`` file starts with a header line ``{# version: N #}``; the version is stored with every
result the prompt produced, so changing a prompt invalidates caches and can be evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from jinja2 import Environment, StrictUndefined, Template

_HEADER = re.compile(r"^\{#\s*version:\s*(?P<version>[\w.-]+)\s*#\}\s*\n")
_ENV = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    source: str

    def render(self, **values: object) -> str:
        return _template(self.source).render(**values)


@cache
def _template(source: str) -> Template:
    """A prompt compiled once (compiling took longer than rendering, on every request)."""
    return _ENV.from_string(source)


@cache
def load(name: str) -> Prompt:
    text = (resources.files("capmatch.prompts") / f"{name}.j2").read_text(encoding="utf-8")
    match = _HEADER.match(text)
    if match is None:
        raise ValueError(f"prompt {name!r} has no '{{# version: N #}}' header on its first line")
    return Prompt(name=name, version=match.group("version"), source=text[match.end() :])


def available() -> list[str]:
    return sorted(
        p.name.removesuffix(".j2") for p in resources.files("capmatch.prompts").iterdir() if p.name.endswith(".j2")
    )
