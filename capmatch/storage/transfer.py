"""Export and import the whole catalog as JSONL, losslessly: every stored column of tools, source
snapshots, capabilities (with their vectors), evidence, contrast alternatives and match edges, with
the same ids, so an import reads back exactly what was exported.

File layout: a header line, one line per tool (the tool row, its source snapshot, its capabilities
each with evidence and alternatives), then one line per match edge. Binary columns (vectors) are
``{"$b64": ...}``. Jobs, LLM call logs and the LLM answer cache are operational records, not
catalog content, and are not exported.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from capmatch.errors import InvalidInput

FORMAT = "capmatch-catalog"
VERSION = 1
TABLES = ("tools", "sources", "capabilities", "evidence", "alternatives", "matches")
# Vector columns: float32, unit length. Anything else would rank first (or null) in every query.
VECTOR_COLUMNS = {("capabilities", "embedding"), ("tools", "identity"), ("tools", "document")}
NORM_TOLERANCE = 1e-3
Columns = Callable[[Any, str], set[str]]  # (connection, table) -> the table's column names


def _encode(row: sqlite3.Row) -> dict[str, Any]:
    return {
        k: ({"$b64": base64.b64encode(v).decode("ascii")} if isinstance(v, bytes) else v) for k, v in dict(row).items()
    }


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$b64"}:
        return base64.b64decode(value["$b64"], validate=True)
    if isinstance(value, dict | list):
        raise ValueError("a column value must be a string, number, null or {'$b64': ...}")
    return value


def export_lines(conn: sqlite3.Connection, embedding_model: str | None) -> Iterator[str]:
    """The export, line by line, from one consistent snapshot (callers hold a read transaction)."""
    count = conn.execute("SELECT COUNT(*) FROM tools").fetchone()[0]
    header = {
        "format": FORMAT,
        "version": VERSION,
        "embedding_model": embedding_model,
        "tools": count,
        "exported_at": datetime.now(UTC).isoformat(),
    }
    yield json.dumps(header, ensure_ascii=False)
    for tool in conn.execute("SELECT * FROM tools ORDER BY id").fetchall():
        source = conn.execute("SELECT text FROM sources WHERE tool_id = ?", (tool["id"],)).fetchone()
        capabilities = []
        for cap in conn.execute("SELECT * FROM capabilities WHERE tool_id = ? ORDER BY id", (tool["id"],)):
            evidence = conn.execute("SELECT * FROM evidence WHERE capability_id = ? ORDER BY id", (cap["id"],))
            alternatives = conn.execute(
                "SELECT * FROM alternatives WHERE capability_id = ? ORDER BY rank, alt_capability_id", (cap["id"],)
            )
            capabilities.append(
                {
                    "row": _encode(cap),
                    "evidence": [_encode(e) for e in evidence],
                    "alternatives": [_encode(a) for a in alternatives],
                }
            )
        line = {"kind": "tool", "row": _encode(tool), "source": source[0] if source else None}
        line["capabilities"] = capabilities
        yield json.dumps(line, ensure_ascii=False)
    for edge in conn.execute("SELECT * FROM matches ORDER BY tool_a, tool_b"):
        yield json.dumps({"kind": "match", "row": _encode(edge)}, ensure_ascii=False)


def write_export(conn: sqlite3.Connection, embedding_model: str | None, out: IO[str]) -> int:
    conn.execute("BEGIN")  # a snapshot: writers in other processes cannot tear the export
    try:
        tools = int(conn.execute("SELECT COUNT(*) FROM tools").fetchone()[0])
        for line in export_lines(conn, embedding_model):
            out.write(line + "\n")
    finally:
        conn.execute("COMMIT")
    return tools


class _Inserter:
    """Row inserts restricted to each table's real columns: a file cannot name a column into SQL."""

    def __init__(self, conn: sqlite3.Connection, dimension: int | None, columns: Columns) -> None:
        self.conn = conn
        self.dimension = dimension
        self.columns = {t: columns(conn, t) for t in TABLES}

    def insert(self, table: str, row: Any) -> None:
        if not isinstance(row, dict) or not row:
            raise ValueError(f"a {table} row must be a JSON object")
        unknown = set(row) - self.columns[table]
        if unknown:
            raise ValueError(f"unknown {table} column(s) {sorted(unknown)}: the file is from a newer capmatch?")
        names = list(row)
        marks = ",".join("?" * len(names))
        quoted = ",".join(f'"{n}"' for n in names)
        values = [_decode(row[n]) for n in names]
        for name, value in zip(names, values, strict=True):
            if (table, name) in VECTOR_COLUMNS and value is not None:
                self._check_vector(table, name, value)
        self.conn.execute(f"INSERT INTO {table} ({quoted}) VALUES ({marks})", values)

    def _check_vector(self, table: str, column: str, blob: Any) -> None:
        what = f"{table}.{column}"
        if not isinstance(blob, bytes):
            raise ValueError(f"{what} must be a vector ({{'$b64': ...}}), not {type(blob).__name__}")
        if len(blob) % 4:
            raise ValueError(f"{what} is {len(blob)} bytes, not a whole number of float32 values")
        if self.dimension is None:
            self.dimension = len(blob) // 4  # no model to ask: every vector must agree with the first
        if len(blob) != 4 * self.dimension:
            raise ValueError(
                f"{what} has {len(blob) // 4} dimensions ({len(blob)} bytes); this catalog's vectors have "
                f"{self.dimension} ({4 * self.dimension} bytes)"
            )
        vector = np.frombuffer(blob, dtype=np.float32)
        if not np.isfinite(vector).all():
            raise ValueError(f"{what} contains NaN or infinite values")
        norm = float(np.linalg.norm(vector.astype(np.float64)))
        if abs(norm - 1.0) > NORM_TOLERANCE:
            raise ValueError(f"{what} has length {norm:.6g}, not 1 (vectors are stored normalised)")


def sqlite_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def read_import(
    conn: sqlite3.Connection,
    path: Path,
    embedding_model: str,
    dimension: int | None = None,
    columns: Columns = sqlite_columns,
    db_errors: tuple[type[Exception], ...] = (sqlite3.Error,),
) -> int:
    """Insert the file's rows; the caller holds the write transaction and rolls back on error.
    Vectors must have `dimension` float32 values (when given), be finite and have unit length.
    ``columns`` and ``db_errors`` are the database's own: its table columns and its error classes.
    Returns the number of tools."""
    inserter = _Inserter(conn, dimension, columns)
    bad_rows: tuple[type[Exception], ...] = (ValueError, KeyError, TypeError, *db_errors)
    tools = 0
    header_seen = False
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not header_seen:
                    _check_header(record, embedding_model)
                    header_seen = True
                    continue
                kind = record.get("kind") if isinstance(record, dict) else None
                if kind == "tool":
                    inserter.insert("tools", record["row"])
                    if record.get("source") is not None:
                        inserter.insert("sources", {"tool_id": record["row"]["id"], "text": record["source"]})
                    for cap in record.get("capabilities", []):
                        inserter.insert("capabilities", cap["row"])
                        for evidence in cap.get("evidence", []):
                            inserter.insert("evidence", evidence)
                    tools += 1
                elif kind == "match":
                    inserter.insert("matches", record["row"])
                else:
                    raise ValueError(f"unknown record kind {kind!r}")
            except InvalidInput:
                raise
            except bad_rows as exc:
                raise InvalidInput(f"{path}:{number}: {exc}; nothing was imported") from exc
    if not header_seen:
        raise InvalidInput(f"{path} is empty: not a capmatch export")
    # Alternatives point at capabilities of other tools: insert them once every capability exists.
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("kind") != "tool":
                continue
            try:
                for cap in record.get("capabilities", []):
                    for alternative in cap.get("alternatives", []):
                        inserter.insert("alternatives", alternative)
            except bad_rows as exc:
                raise InvalidInput(f"{path}:{number}: {exc}; nothing was imported") from exc
    return tools


def _check_header(header: Any, embedding_model: str) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InvalidInput("the first line is not a capmatch export header: make the file with `capmatch export`")
    if header.get("version") != VERSION:
        raise InvalidInput(f"export format version {header.get('version')!r}; this capmatch reads version {VERSION}")
    exported_with = header.get("embedding_model")
    if exported_with is not None and exported_with != embedding_model:
        raise InvalidInput(
            f"the export was embedded with {exported_with!r} and this catalog uses {embedding_model!r}: "
            f"set CAPMATCH_EMBEDDING_MODEL={exported_with} to import it"
        )
