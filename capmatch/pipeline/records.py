"""The ingest format: one JSON object per line.

    {"name": "...", "text" | "file" | "description" | "url": ..., "category": ..., "type": ...,
     "pricing": ..., <any other key>: kept as metadata}

A record's document is its ``text``, else the contents of ``file`` (relative to the JSONL's folder),
else its ``description``, else the page fetched from ``url``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from capmatch.errors import InvalidInput
from capmatch.models import parse_pricing, parse_type
from capmatch.pipeline.ingest import Source

RESERVED = {"name", "text", "file", "description", "url", "category", "type", "pricing", "metadata"}


@dataclass(frozen=True)
class Record:
    line: int
    name: str
    source: Source | None
    error: str | None = None


def read_records(path: Path, extractor: str | None = None, allow_outside: bool = False) -> Iterator[Record]:
    lines = _jsonl_lines(path)
    folder = path.parent
    for number, line in lines:
        name = ""
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise InvalidInput("a record must be a JSON object")
            name = str(data.get("name") or "")
            yield Record(number, name, to_source(data, folder, extractor, allow_outside))
        except (json.JSONDecodeError, InvalidInput) as exc:
            message = exc.message if isinstance(exc, InvalidInput) else f"invalid JSON: {exc}"
            yield Record(number, name, None, message)


def _jsonl_lines(path: Path) -> list[tuple[int, str]]:
    """The file's non-blank lines, numbered; one clear error when the file is not JSONL at all."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): capmatch ingest reads "
            f"JSON Lines in UTF-8; to add one page, use `capmatch add {path}`"
        ) from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    if not lines:
        raise InvalidInput(f"{path} has no records: give one JSON object per line (see `capmatch ingest --help`)")
    if not lines[0][1].lstrip().startswith("{"):
        raise InvalidInput(
            f"{path} is not JSONL (one JSON object per line, starting with '{{'): did you mean `capmatch add {path}`?"
        )
    return lines


def to_source(
    data: dict[str, object], folder: Path, extractor: str | None = None, allow_outside: bool = False
) -> Source:
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("the record has no 'name'")
    given = data.get("metadata")
    metadata: dict[str, object] = dict(given) if isinstance(given, dict) else {}
    metadata.update({k: v for k, v in data.items() if k not in RESERVED})
    url = data.get("url") if isinstance(data.get("url"), str) else None
    common = {
        "name": name.strip(),
        "category": str(data["category"]) if data.get("category") is not None else None,
        "type": parse_type(str(data["type"])) if data.get("type") else None,
        "pricing": parse_pricing(str(data["pricing"])) if data.get("pricing") else None,
        "metadata": metadata,
        "extractor": extractor,
    }
    if isinstance(data.get("text"), str) and str(data["text"]).strip():
        return Source(text=str(data["text"]), text_format="markdown", canonical_url=url, **common)  # type: ignore[arg-type]
    if isinstance(data.get("file"), str):
        path = (folder / str(data["file"])).resolve()
        if not allow_outside and not path.is_relative_to(folder.resolve()):
            # A JSONL from elsewhere must not publish the server's other files as a tool's source.
            raise InvalidInput(
                f"file {data['file']!r} is outside the JSONL's folder: only files next to it are read "
                "(pass --allow-outside to read it anyway)"
            )
        if not path.is_file():
            raise InvalidInput(f"file {data['file']!r} not found next to the JSONL ({path})")
        return Source(path=path, canonical_url=url, **common)  # type: ignore[arg-type]
    if isinstance(data.get("description"), str) and str(data["description"]).strip():
        return Source(text=str(data["description"]), canonical_url=url, **common)  # type: ignore[arg-type]
    if url:
        return Source(url=url, **common)  # type: ignore[arg-type]
    raise InvalidInput("the record has no document: give 'text', 'file', 'description' or 'url'")
