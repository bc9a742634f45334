"""CatalogStore: reads and writes tools, capabilities, evidence, contrast and match rows in SQLite.

Writes happen inside ``transaction(store.conn)`` opened by the caller, so a tool and everything that
hangs off it land together or not at all. Every write bumps the catalog *generation*, which the
vector index records when it is saved: a mismatch on load means the index is stale.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from capmatch.errors import NotFound
from capmatch.models import (
    Alternative,
    Capability,
    Evidence,
    Inference,
    LLMUsage,
    Price,
    Pricing,
    Tool,
    ToolType,
    utcnow,
)
from capmatch.storage.base import LLMCacheEntry, NewCapability, ToolFilter
from capmatch.storage.counters import MatchCounts
from capmatch.storage.identities import IdentityMirror
from capmatch.storage.leader import file_leader
from capmatch.storage.sqlite import connect, migrate, transaction
from capmatch.storage.transfer import read_import, write_export
from capmatch.storage.vector_log import ADD, CAPABILITY, DELETE, IDENTITY, VectorLog

T = TypeVar("T")


def _dump(model: object | None) -> str | None:
    if model is None:
        return None
    return model.model_dump_json()  # type: ignore[attr-defined]


IN_CHUNK = 900  # SQLite limits the number of bound parameters of one statement


class SqliteCatalog:
    """The ``Catalog`` (see capmatch.storage.base) on one SQLite file."""

    NAME_ORDER = "name COLLATE NOCASE"  # tools listed by name, case-insensitively (the tools_name index)
    CONCAT = "group_concat"  # the string aggregate (PostgreSQL: string_agg)

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._derived: dict[str, tuple[str, object]] = {}
        self._counts = MatchCounts(self._write_counts)
        self.vector_log = VectorLog(lambda: self.conn)
        self._identities = IdentityMirror(self.vector_log, self._load_identities, lambda: self.conn.in_transaction)
        migrate(self.conn)

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection. Only code in capmatch.storage touches it."""
        # One connection per thread: WAL lets readers run while the single writer commits.
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[None]:
        """The catalog's one write lock and transaction: everything inside commits together or not at
        all. Taken before any in-process lock, so readers of this process never wait behind a writer
        of another."""
        with transaction(self.conn):
            yield

    def leader(self, role: str) -> AbstractContextManager[None]:
        return file_leader(self.path.parent, role)

    def _select_in(self, sql: str, ids: Iterable[object], *params: object) -> list[sqlite3.Row]:
        """Rows of ``sql`` whose ``{ids}`` placeholder is filled with ``ids`` (chunked); ``params``
        bind the placeholders after it."""
        values = list(ids)
        rows: list[sqlite3.Row] = []
        for start in range(0, len(values), IN_CHUNK):
            chunk = values[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows += self.conn.execute(sql.format(ids=marks), [*chunk, *params]).fetchall()
        return rows

    def cached(self, key: str, compute: Callable[[], T]) -> T:
        """Data derived from the catalog (identity matrix, match graph, page layouts), kept until the
        catalog's generation changes."""
        generation = self.generation()
        hit = self._derived.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]  # type: ignore[return-value]
        value = compute()
        self._derived[key] = (generation, value)
        return value

    # ---- backup --------------------------------------------------------------------------------
    def export(self, out: IO[str]) -> int:
        """Write the whole catalog to ``out`` (see capmatch.storage.transfer); returns the tool count."""
        self._counts.flush()  # the export carries every count so far
        return write_export(self.conn, self.meta("embedding_model"), out)

    def import_file(self, path: Path, embedding_model: str, dimension: int) -> int:
        """Insert an export's rows (vectors checked against ``dimension``); call inside ``write()`` on an
        empty catalog."""
        return read_import(self.conn, path, embedding_model, dimension)

    # ---- the LLM answer cache --------------------------------------------------------------------
    def llm_cache_get(self, key: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT payload FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def llm_cache_put(self, entry: LLMCacheEntry) -> None:
        self.conn.execute(
            """INSERT INTO llm_cache (key, kind, model, prompt_version, payload, prompt_tokens,
                   completion_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (key) DO UPDATE SET payload = excluded.payload,
                   prompt_tokens = excluded.prompt_tokens, completion_tokens = excluded.completion_tokens,
                   created_at = excluded.created_at""",
            (
                entry.key,
                entry.kind,
                entry.model,
                entry.prompt_version,
                json.dumps(entry.payload),
                entry.prompt_tokens,
                entry.completion_tokens,
                utcnow().isoformat(),
            ),
        )

    # ---- generation -------------------------------------------------------------------------
    def generation(self) -> str:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return str(row[0])

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def bump_generation(self) -> str:
        # A fresh random token, not a counter: a write that rolls back can never leave behind an index
        # saved under a generation that a later, different write commits again.
        token = uuid.uuid4().hex
        self.conn.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (token,))
        return token

    # ---- tools --------------------------------------------------------------------------------
    def tool_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM tools").fetchone()[0])

    def capability_count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM capabilities").fetchone()[0])

    def tool_exists(self, tool_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM tools WHERE id = ?", (tool_id,)).fetchone() is not None

    def find_by_hash(self, content_hash: str) -> str | None:
        row = self.conn.execute("SELECT id FROM tools WHERE content_hash = ?", (content_hash,)).fetchone()
        return row[0] if row else None

    def find_by_url(self, url: str) -> str | None:
        row = self.conn.execute("SELECT id FROM tools WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def find_by_name(self, text: str) -> str | None:
        """A tool id for what a person typed: an id, an exact name, else the one name containing it."""
        text = text.strip()
        if not text:
            return None
        row = self.conn.execute(
            "SELECT id FROM tools WHERE id = ? OR name = ? COLLATE NOCASE ORDER BY id = ? DESC LIMIT 1",
            (text, text, text),
        ).fetchone()
        if row is not None:
            return str(row[0])
        like = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self.conn.execute("SELECT id FROM tools WHERE name LIKE ? ESCAPE '\\' LIMIT 2", (like,)).fetchall()
        # Part of a name counts only when it names one tool: "e" must not pick an arbitrary one.
        return str(rows[0][0]) if len(rows) == 1 else None

    def names_page(self, limit: int) -> list[tuple[str, str]]:
        """(name, id) of the first ``limit`` tools by name, for pickers."""
        rows = self.conn.execute(f"SELECT name, id FROM tools ORDER BY {self.NAME_ORDER} LIMIT ?", (limit,))
        return [(str(r[0]), str(r[1])) for r in rows]

    def extraction_of(self, tool_id: str) -> tuple[str, str, str]:
        row = self.conn.execute(
            "SELECT content_hash, extractor, extractor_version FROM tools WHERE id = ?", (tool_id,)
        ).fetchone()
        return (row[0], row[1], row[2])

    def list_tools(
        self, flt: ToolFilter | None = None, limit: int = 100, offset: int = 0, recent_first: bool = False
    ) -> list[Tool]:
        where, params = _filter_clause(flt or ToolFilter())
        order = "created_at DESC" if recent_first else self.NAME_ORDER
        rows = self.conn.execute(
            f"SELECT * FROM tools {where} ORDER BY {order} LIMIT ? OFFSET ?", (*params, limit, offset)
        ).fetchall()
        return [self._tool_from_row(row) for row in rows]

    def all_tool_names(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT name FROM tools")}

    def tool_names(self, ids: Iterable[str]) -> dict[str, str]:
        return {r[0]: r[1] for r in self._select_in("SELECT id, name FROM tools WHERE id IN ({ids})", ids)}

    def tool_filters(self, ids: Iterable[str]) -> dict[str, tuple[str, str, str | None]]:
        rows = self._select_in("SELECT id, type, pricing, category FROM tools WHERE id IN ({ids})", ids)
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def get_tool(self, tool_id: str, with_capabilities: bool = True) -> Tool:
        row = self.conn.execute("SELECT * FROM tools WHERE id = ?", (tool_id,)).fetchone()
        if row is None:
            raise NotFound(f"no tool with id '{tool_id}'. List tools with GET /api/tools or `capmatch tools`.")
        tool = self._tool_from_row(row)
        if with_capabilities:
            tool.capabilities = self.capabilities_of(tool_id)
        return tool

    def source_text(self, tool_id: str) -> str:
        row = self.conn.execute("SELECT text FROM sources WHERE tool_id = ?", (tool_id,)).fetchone()
        if row is None:
            raise NotFound(f"no tool with id '{tool_id}'")
        return str(row[0])

    def capability_counts(self, ids: list[str]) -> dict[str, int]:
        rows = self._select_in(
            "SELECT tool_id, COUNT(*) FROM capabilities WHERE tool_id IN ({ids}) GROUP BY tool_id", ids
        )
        return {r[0]: r[1] for r in rows}

    def _tool_from_row(self, row: sqlite3.Row) -> Tool:
        return Tool(
            id=row["id"],
            name=row["name"],
            url=row["url"],
            type=ToolType(row["type"]),
            type_basis=Inference.model_validate_json(row["type_basis"]) if row["type_basis"] else None,
            pricing=Pricing(row["pricing"]),
            pricing_basis=Inference.model_validate_json(row["pricing_basis"]) if row["pricing_basis"] else None,
            starting_price=Price.model_validate_json(row["starting_price"]) if row["starting_price"] else None,
            license=row["license"],
            summary=row["summary"],
            category=row["category"],
            metadata=json.loads(row["metadata"]),
            content_hash=row["content_hash"],
            source_format=row["source_format"],
            fetched_at=datetime.fromisoformat(row["fetched_at"]),
            extractor=row["extractor"],
            extractor_version=row["extractor_version"],
            times_matched=row["times_matched"] + self._counts.pending(row["id"]),
            usage=LLMUsage.model_validate_json(row["usage"]) if row["usage"] else None,
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )

    # ---- capabilities -------------------------------------------------------------------------
    def capabilities_of(self, tool_id: str) -> list[Capability]:
        rows = self.conn.execute(
            "SELECT * FROM capabilities WHERE tool_id = ? ORDER BY position", (tool_id,)
        ).fetchall()
        return self._capabilities_from_rows(rows)

    def capabilities_by_id(self, ids: Iterable[int]) -> dict[int, Capability]:
        rows = self._select_in("SELECT * FROM capabilities WHERE id IN ({ids})", [int(i) for i in ids])
        return {c.id: c for c in self._capabilities_from_rows(rows) if c.id is not None}

    def _capabilities_from_rows(self, rows: list[sqlite3.Row]) -> list[Capability]:
        ids = [r["id"] for r in rows]
        evidence: dict[int, list[Evidence]] = {i: [] for i in ids}
        alternatives: dict[int, list[Alternative]] = {i: [] for i in ids}
        if ids:
            for e in self._select_in(
                "SELECT * FROM evidence WHERE capability_id IN ({ids}) ORDER BY capability_id, position", ids
            ):
                evidence[e["capability_id"]].append(Evidence(quote=e["quote"], start=e["start"], end=e["end"]))
            for a in self._select_in(
                """SELECT a.capability_id, a.similarity, c.id AS alt_id, c.name AS alt_name,
                          t.id AS tool_id, t.name AS tool_name
                   FROM alternatives a
                   JOIN capabilities c ON c.id = a.alt_capability_id
                   JOIN tools t ON t.id = c.tool_id
                   WHERE a.capability_id IN ({ids}) ORDER BY a.capability_id, a.rank""",
                ids,
            ):
                alternatives[a["capability_id"]].append(
                    Alternative(
                        tool_id=a["tool_id"],
                        tool_name=a["tool_name"],
                        capability_id=a["alt_id"],
                        capability_name=a["alt_name"],
                        similarity=round(a["similarity"], 4),
                    )
                )
        return [
            Capability(
                id=r["id"],
                name=r["name"],
                description=r["description"],
                unique=r["unique_text"],
                vs_alternatives=r["vs_alternatives"],
                alternatives=alternatives[r["id"]],
                evidence=evidence[r["id"]],
                grounded=bool(r["grounded"]),
                prompt_version=r["prompt_version"],
                contrast_by=r["contrast_by"],
                contrast_basis=json.loads(r["contrast_basis"]),
            )
            for r in rows
        ]

    def capability_names(self, capability_ids: Iterable[int]) -> dict[int, str]:
        rows = self._select_in(
            "SELECT id, name FROM capabilities WHERE id IN ({ids})", [int(i) for i in capability_ids]
        )
        return {r[0]: r[1] for r in rows}

    def capability_descriptions(self, capability_ids: Iterable[int]) -> dict[int, str]:
        ids = [int(i) for i in capability_ids]
        rows = self._select_in("SELECT id, description FROM capabilities WHERE id IN ({ids})", ids)
        return {r[0]: r[1] for r in rows}

    def capability_tools(self, capability_ids: Iterable[int]) -> dict[int, str]:
        ids = [int(i) for i in capability_ids]
        return {r[0]: r[1] for r in self._select_in("SELECT id, tool_id FROM capabilities WHERE id IN ({ids})", ids)}

    def all_capability_tools(self) -> tuple[np.ndarray, list[str]]:
        """Every capability's id and its tool's id (what ``capability_tools`` answers, for all of them)."""
        rows = self.conn.execute("SELECT id, tool_id FROM capabilities").fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), [r[1] for r in rows]

    def vectors_of(self, tool_id: str) -> tuple[np.ndarray, np.ndarray]:
        rows = self.conn.execute(
            "SELECT id, embedding FROM capabilities WHERE tool_id = ? ORDER BY position", (tool_id,)
        ).fetchall()
        return _stack(rows)

    def iter_vectors(self, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last = -1
        while True:
            rows = self.conn.execute(
                "SELECT id, embedding FROM capabilities WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            ids, vectors = _stack(rows)
            last = int(ids[-1])
            yield ids, vectors

    def identities(self) -> tuple[list[str], np.ndarray]:
        """Every tool's identity vector (in tool id order), kept current from the change log."""
        return self._identities.current()

    def _load_identities(self) -> tuple[list[str], np.ndarray]:
        """Every tool's identity vector; a tool stored before identities existed gets the normalised
        mean of its capability vectors instead."""
        ids, rows = [], []
        for tool_id, blob in self.conn.execute("SELECT id, identity FROM tools ORDER BY id"):
            if blob is None:
                _, vectors = self.vectors_of(tool_id)
                if len(vectors) == 0:
                    continue
                mean = vectors.mean(axis=0)
                vector = (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)
            else:
                vector = np.frombuffer(blob, dtype=np.float32)
            ids.append(tool_id)
            rows.append(vector)
        return ids, (np.vstack(rows) if rows else np.empty((0, 0), dtype=np.float32))

    def documents(self) -> tuple[list[str], np.ndarray]:
        """Every tool's document vector; a tool stored before they existed gets its identity vector."""
        ids, rows = [], []
        for tool_id, blob in self.conn.execute("SELECT id, coalesce(document, identity) FROM tools ORDER BY id"):
            if blob is not None:
                ids.append(tool_id)
                rows.append(np.frombuffer(blob, dtype=np.float32))
        return ids, (np.vstack(rows) if rows else np.empty((0, 0), dtype=np.float32))

    def _lexical_sql(self) -> str:
        """Each tool's words for lexical matching: name, summary, capability names and descriptions."""
        return f"""SELECT t.id, t.name || ' ' || t.summary || ' ' ||
                      coalesce((SELECT {self.CONCAT}(c.name || ' ' || c.description, ' ')
                                FROM capabilities c WHERE c.tool_id = t.id), '')
                   FROM tools t"""

    def lexical_texts(self, ids: Iterable[str]) -> dict[str, str]:
        """The words ``_lexical_sql`` gives, for ``ids``."""
        rows = self._select_in(self._lexical_sql() + " WHERE t.id IN ({ids})", [str(i) for i in ids])
        return {r[0]: r[1] for r in rows}

    def all_lexical_texts(self) -> tuple[list[str], list[str]]:
        """(ids, texts) of every tool, as ``lexical_texts`` words them, in id order."""
        rows = self.conn.execute(self._lexical_sql() + " ORDER BY t.id").fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def first_vector_dimension(self) -> int | None:
        row = self.conn.execute("SELECT embedding FROM capabilities LIMIT 1").fetchone()
        return len(row[0]) // 4 if row else None

    # ---- writes (call inside a transaction) -----------------------------------------------------
    def insert_tool(
        self,
        tool: Tool,
        source_text: str,
        capabilities: list[NewCapability],
        identity: np.ndarray | None = None,
        document: np.ndarray | None = None,
    ) -> list[int]:
        now = utcnow().isoformat()
        self.conn.execute(
            """INSERT INTO tools (id, name, url, type, type_basis, pricing, pricing_basis, starting_price,
                   license, summary, category, metadata, content_hash, source_format, fetched_at, extractor,
                   extractor_version, times_matched, created_at, updated_at, usage)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                tool.id,
                tool.name,
                tool.url,
                tool.type.value,
                _dump(tool.type_basis),
                tool.pricing.value,
                _dump(tool.pricing_basis),
                _dump(tool.starting_price),
                tool.license,
                tool.summary,
                tool.category,
                json.dumps(tool.metadata, sort_keys=True),
                tool.content_hash,
                tool.source_format,
                tool.fetched_at.isoformat(),
                tool.extractor,
                tool.extractor_version,
                tool.times_matched,
                tool.created_at.isoformat(),
                now,
                _dump(tool.usage),
            ),
        )
        self.conn.execute("INSERT INTO sources (tool_id, text) VALUES (?, ?)", (tool.id, source_text))
        self._counts.discard(tool.id)  # a tool stored again carries its count (read with the pending part)
        if identity is not None:
            self.conn.execute(
                "UPDATE tools SET identity = ? WHERE id = ?",
                (np.ascontiguousarray(identity, dtype=np.float32).tobytes(), tool.id),
            )
        if document is not None:
            self.conn.execute(
                "UPDATE tools SET document = ? WHERE id = ?",
                (np.ascontiguousarray(document, dtype=np.float32).tobytes(), tool.id),
            )
        ids = []
        for position, new in enumerate(capabilities):
            cap = new.capability
            vector = np.ascontiguousarray(new.vector, dtype=np.float32)
            cursor = self.conn.execute(
                """INSERT INTO capabilities (tool_id, position, name, description, unique_text,
                       vs_alternatives, grounded, embedding, prompt_version, contrast_by, contrast_names)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    tool.id,
                    position,
                    cap.name,
                    cap.description,
                    cap.unique,
                    cap.vs_alternatives,
                    int(cap.grounded),
                    vector.tobytes(),
                    cap.prompt_version,
                    cap.contrast_by,
                    json.dumps(list(new.contrast_names)),
                ),
            )
            cap_id = int(cursor.fetchone()[0])  # RETURNING, not lastrowid: the same SQL on PostgreSQL
            ids.append(cap_id)
            self.conn.executemany(
                'INSERT INTO evidence (capability_id, position, quote, start, "end") VALUES (?, ?, ?, ?, ?)',
                [(cap_id, i, e.quote, e.start, e.end) for i, e in enumerate(cap.evidence)],
            )
        # The same transaction: a reader's delta holds exactly the committed vectors.
        if capabilities:
            self.vector_log.append(CAPABILITY, ids, ADD, np.vstack([c.vector for c in capabilities]))
        if identity is None and capabilities:
            # What a full read gives a tool without an identity (see _load_identities).
            mean = np.vstack([c.vector for c in capabilities]).mean(axis=0)
            identity = (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)
        if identity is not None:
            self.vector_log.append(IDENTITY, [tool.id], ADD, identity)
        self.bump_generation()
        return ids

    def delete_tool(self, tool_id: str) -> list[int]:
        """Delete a tool and everything hanging off it; returns the capability ids removed."""
        ids = [r[0] for r in self.conn.execute("SELECT id FROM capabilities WHERE tool_id = ?", (tool_id,))]
        deleted = self.conn.execute("DELETE FROM tools WHERE id = ?", (tool_id,)).rowcount
        self._counts.discard(tool_id)
        if not deleted:
            raise NotFound(f"no tool with id '{tool_id}'")
        self.vector_log.append(CAPABILITY, ids, DELETE)
        self.vector_log.append(IDENTITY, [tool_id], DELETE)
        self.bump_generation()
        return ids

    def tools_naming(self, tool_id: str) -> set[str]:
        """Tools whose contrast lines or match edges mention ``tool_id``."""
        rows = self.conn.execute(
            """SELECT DISTINCT c.tool_id FROM alternatives a
               JOIN capabilities c ON c.id = a.capability_id
               JOIN capabilities alt ON alt.id = a.alt_capability_id
               WHERE alt.tool_id = ? AND c.tool_id != ?
               UNION SELECT tool_b FROM matches WHERE tool_a = ?
               UNION SELECT tool_a FROM matches WHERE tool_b = ?""",
            (tool_id, tool_id, tool_id, tool_id),
        )
        return {r[0] for r in rows}

    def llm_contrast(self, capability_ids: Iterable[int]) -> dict[int, list[str]]:
        """Capabilities whose lines the LLM wrote, with the catalog tools those lines name."""
        ids = [int(i) for i in capability_ids]
        sql = "SELECT id, contrast_names FROM capabilities WHERE id IN ({ids}) AND contrast_by != 'rules'"
        return {r[0]: json.loads(r[1]) for r in self._select_in(sql, ids)}

    def set_contrast(
        self,
        capability_id: int,
        unique: str | None,
        vs_alternatives: str | None,
        alternatives: list[tuple[int, float]],
        basis: dict[str, Any] | None = None,
    ) -> None:
        """Store the alternatives; lines given as None are left as they are (LLM-written, still valid).

        ``basis``: the quotes each claim of the lines rests on (matching.contrast)."""
        if unique is not None and vs_alternatives is not None:
            self.conn.execute(
                """UPDATE capabilities SET unique_text = ?, vs_alternatives = ?, contrast_by = 'rules',
                       contrast_names = '[]', contrast_basis = ? WHERE id = ?""",
                (unique, vs_alternatives, json.dumps(basis or {}), capability_id),
            )
        self.conn.execute("DELETE FROM alternatives WHERE capability_id = ?", (capability_id,))
        self.conn.executemany(
            "INSERT INTO alternatives (capability_id, alt_capability_id, rank, similarity) VALUES (?, ?, ?, ?)",
            [(capability_id, alt, rank, float(sim)) for rank, (alt, sim) in enumerate(alternatives)],
        )

    def set_matches(self, tool_id: str, matches: list[tuple[str, float, int]]) -> None:
        self.conn.execute("DELETE FROM matches WHERE tool_a = ? OR tool_b = ?", (tool_id, tool_id))
        self.conn.executemany(
            """INSERT INTO matches (tool_a, tool_b, score, pairs) VALUES (?, ?, ?, ?)
               ON CONFLICT (tool_a, tool_b) DO UPDATE SET score = excluded.score, pairs = excluded.pairs""",
            [(min(tool_id, o), max(tool_id, o), float(s), p) for o, s, p in matches if o != tool_id],
        )

    def add_matches(self, tool_id: str, matches: list[tuple[str, float, int]]) -> None:
        """Add or refresh edges of ``tool_id`` without dropping edges other tools made to it."""
        self.conn.executemany(
            """INSERT INTO matches (tool_a, tool_b, score, pairs) VALUES (?, ?, ?, ?)
               ON CONFLICT (tool_a, tool_b) DO UPDATE SET score = excluded.score, pairs = excluded.pairs""",
            [(min(tool_id, o), max(tool_id, o), float(s), p) for o, s, p in matches if o != tool_id],
        )

    def match_edges(self) -> list[tuple[str, str, float, int]]:
        rows = self.conn.execute("SELECT tool_a, tool_b, score, pairs FROM matches")
        return [(str(a), str(b), float(s), int(p)) for a, b, s, p in rows]

    def graph_nodes(self) -> list[Mapping[str, Any]]:
        rows = self.conn.execute(
            """SELECT t.id, t.name, t.type, t.pricing, t.category, t.times_matched,
                      (SELECT COUNT(*) FROM capabilities c WHERE c.tool_id = t.id) AS capabilities
               FROM tools t ORDER BY t.id"""
        ).fetchall()
        pending = self._counts.snapshot()
        if not pending:
            return rows
        return [{**dict(r), "times_matched": r["times_matched"] + pending.get(r["id"], 0)} for r in rows]

    def times_matched(self) -> dict[str, int]:
        counts = {str(i): int(n) for i, n in self.conn.execute("SELECT id, times_matched FROM tools").fetchall()}
        for tool_id, pending in self._counts.snapshot().items():
            if tool_id in counts:
                counts[tool_id] += pending
        return counts

    def count_tools(self, flt: ToolFilter | None = None) -> int:
        where, params = _filter_clause(flt or ToolFilter())
        return int(self.conn.execute(f"SELECT COUNT(*) FROM tools {where}", params).fetchone()[0])

    def record_llm_calls(self, job_id: str | None, content_hash: str | None, model: str, calls: list[Any]) -> None:
        now = utcnow().isoformat()
        self.conn.executemany(
            """INSERT INTO llm_calls (job_id, content_hash, kind, model, status, prompt_tokens, completion_tokens,
                   duration_ms, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    job_id,
                    content_hash,
                    c.task,
                    model,
                    c.status,
                    c.prompt_tokens,
                    c.completion_tokens,
                    c.duration_ms,
                    c.error,
                    now,
                )
                for c in calls
            ],
        )

    def llm_calls(self, job_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            """SELECT kind, model, status, prompt_tokens, completion_tokens, duration_ms, error, created_at
               FROM llm_calls WHERE job_id = ? ORDER BY id""",
            (job_id,),
        )
        return [dict(r) for r in rows]

    def increment_times_matched(self, tool_ids: Iterable[str]) -> None:
        """Count a read's hits; written in batches (see capmatch.storage.counters), never per read."""
        self._counts.add(tool_ids)

    def flush_counters(self) -> None:
        self._counts.flush()

    def _write_counts(self, batch: dict[str, int]) -> None:
        # times_matched is a counter, not catalog content: it does not bump the generation. Sorted:
        # two processes flushing at once lock the rows in one order.
        if not self.path.exists():
            return  # the catalog was deleted (e.g. a finished test's folder): opening would recreate it
        with transaction(self.conn):
            self.conn.executemany(
                "UPDATE tools SET times_matched = times_matched + ? WHERE id = ?",
                [(n, i) for i, n in sorted(batch.items())],
            )


def _filter_clause(flt: ToolFilter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    for column, value in (("type", flt.type), ("pricing", flt.pricing), ("category", flt.category)):
        if value is not None:
            clauses.append(f"lower({column}) = lower(?)")
            params.append(value)
    return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def _stack(rows: list[sqlite3.Row]) -> tuple[np.ndarray, np.ndarray]:
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=np.float32)
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    vectors = np.vstack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
    return ids, vectors
