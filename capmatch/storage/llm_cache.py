"""LLM answers cached in the catalog database, keyed by everything that shapes the answer:
the task, the model, the instructor mode, the prompt version and the exact messages sent."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from capmatch.models import utcnow
from capmatch.storage.catalog import CatalogStore


def cache_key(kind: str, model: str, mode: str, prompt_version: str, messages: list[dict[str, Any]]) -> str:
    material = json.dumps([kind, model, mode, prompt_version, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class LLMCache:
    def __init__(self, store: CatalogStore) -> None:
        self.store = store

    def get(self, key: str) -> dict[str, Any] | None:
        row = self.store.conn.execute("SELECT payload FROM llm_cache WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(
        self,
        key: str,
        kind: str,
        model: str,
        prompt_version: str,
        payload: dict[str, Any],
        prompt_tokens: int,
        completion_tokens: int,
    ) -> None:
        self.store.conn.execute(
            """INSERT OR REPLACE INTO llm_cache (key, kind, model, prompt_version, payload, prompt_tokens,
                   completion_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                key,
                kind,
                model,
                prompt_version,
                json.dumps(payload),
                prompt_tokens,
                completion_tokens,
                utcnow().isoformat(),
            ),
        )
