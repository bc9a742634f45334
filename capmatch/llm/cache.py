"""LLM answers cached in the catalog, keyed by everything that shapes the answer: the task, the
model, the instructor mode, the prompt version and the exact messages sent."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from capmatch.storage.base import LLMCacheEntry, LLMCacheStore


def cache_key(kind: str, model: str, mode: str, prompt_version: str, messages: list[dict[str, Any]]) -> str:
    material = json.dumps([kind, model, mode, prompt_version, messages], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class LLMCache:
    def __init__(self, store: LLMCacheStore) -> None:
        self.store = store

    def get(self, key: str) -> dict[str, Any] | None:
        return self.store.llm_cache_get(key)

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
        self.store.llm_cache_put(
            LLMCacheEntry(key, kind, model, prompt_version, payload, prompt_tokens, completion_tokens)
        )
