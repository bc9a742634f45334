"""LLM decomposer: an OpenAI-compatible model, through instructor, reads the cleaned page.

- Long pages are split by sections within a token budget; capabilities found in several chunks
  are merged by embedding similarity.
- Every quote is checked against the source snapshot; an unsupported quote makes instructor re-ask
  with the error. After the re-asks the last answer is read leniently and its unsupported
  capabilities are kept with grounded=false, or dropped (CAPMATCH_LLM_UNGROUNDED).
- Answers are cached by task, model, mode, prompt version and the exact messages: the same content
  gives the cached result with no request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from capmatch import prompts
from capmatch.embeddings.model import Embedder
from capmatch.errors import LLMOutputInvalid, NoCapabilities
from capmatch.extractor.chunking import chunk_document
from capmatch.extractor.classify import ToolFacts, rule_facts, states_license, states_price, states_pricing, states_type
from capmatch.extractor.condense import condense, facts_excerpt
from capmatch.extractor.decompose.base import CapabilityDraft, ContrastLines, Neighbour, SourceDocument
from capmatch.extractor.decompose.llm_schema import SCHEMA_VERSION, ClassifiedTool, Contrast, Decomposition, too_short
from capmatch.extractor.decompose.merge import merge_drafts
from capmatch.extractor.injection import inside, instruction_spans
from capmatch.extractor.segment import segment
from capmatch.extractor.verify import locate
from capmatch.llm import meter as metering
from capmatch.llm.cache import LLMCache, cache_key
from capmatch.llm.client import InvalidAnswer, get_client
from capmatch.llm.tokens import count_tokens
from capmatch.models import Inference, Price
from capmatch.settings import Settings
from capmatch.storage.base import LLMCacheStore

T = TypeVar("T", bound=BaseModel)
NO_ALTERNATIVE = "No close alternative in the catalog."
SCHEMA_OVERHEAD = 350  # the response model's JSON schema, sent as a tool definition or instructions


@dataclass(frozen=True)
class Estimate:
    chunks: int
    requests: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


def prompt_version() -> str:
    return "+".join(f"{name}@{prompts.load(name).version}" for name in ("system", "decompose", "classify", "contrast"))


class LLMDecomposer:
    name = "llm"

    def __init__(self, embedder: Embedder, settings: Settings, store: LLMCacheStore) -> None:
        self.embedder = embedder
        self.settings = settings
        self.model: str | None = settings.llm_model
        self.client = get_client(settings)
        self.cache = LLMCache(store)
        self.prompt_version: str | None = prompt_version()
        self.version = f"{self.prompt_version}|{settings.llm_model}|{settings.llm_mode}"

    # ---- capabilities -----------------------------------------------------------------------
    def _chunks(self, doc: SourceDocument) -> list[str]:
        """The page's capability-bearing text (see llm.condense), split within the token budget."""
        condensed = condense(doc.text, doc.blocks or segment(doc.text))
        return chunk_document(condensed, segment(condensed), self.settings.llm_chunk_tokens)

    def decompose(self, doc: SourceDocument) -> list[CapabilityDraft]:
        chunks = self._chunks(doc)
        drafts: list[CapabilityDraft] = []
        for part, chunk in enumerate(chunks, start=1):
            answer, _ = self._ask(
                "decompose",
                Decomposition,
                {"source": doc.text, "allow_empty": len(chunks) > 1},
                tool_name=doc.name,
                document=chunk,
                part=part,
                parts=len(chunks),
            )
            drafts += [CapabilityDraft(c.name, c.description, list(c.evidence)) for c in answer.capabilities]
        merged = self._screen(merge_drafts(drafts, self.embedder), doc.text)
        if not merged:
            raise NoCapabilities(
                "the model found no capability it could support with quotes from the page "
                f"({len(chunks)} part(s) read); check the page, or try --extractor extractive"
            )
        return merged

    def _screen(self, drafts: list[CapabilityDraft], source: str) -> list[CapabilityDraft]:
        """What survives of answers read leniently after the re-asks.

        Quotes too short to support a claim are not evidence. A capability resting only on text that
        addresses a model (an injection) is dropped whatever the policy; one with quotes not in the
        page is kept as not grounded, or dropped with CAPMATCH_LLM_UNGROUNDED=drop.
        """
        spans = instruction_spans(source)
        kept = []
        for draft in drafts:
            quotes = [q for q in draft.quotes if not too_short(q)]
            found = {q: locate(q, source) for q in quotes}
            injected = [q for q, at in found.items() if at is not None and inside(at, spans)]
            usable = [q for q in quotes if q not in injected]
            if injected and not usable:
                continue
            grounded = bool(usable) and all(found[q] is not None for q in usable)
            if not grounded and self.settings.llm_ungrounded == "drop":
                continue
            kept.append(CapabilityDraft(draft.name, draft.description, usable, draft.score))
        return kept

    # ---- type, pricing, licence ----------------------------------------------------------------
    def classify(self, doc: SourceDocument) -> ToolFacts:
        blocks = doc.blocks or segment(doc.text)
        rules = rule_facts(doc.text, blocks, doc.name)
        excerpt = facts_excerpt(doc.text, blocks)
        answer, _ = self._ask("classify", ClassifiedTool, {"source": doc.text}, tool_name=doc.name, document=excerpt)

        def grounded(quote: str | None) -> bool:
            return bool(quote) and locate(quote or "", doc.text) is not None

        # A value is used only when its quote is in the page *and* states that value; else the rules decide.
        rule = f"llm: {self.model}"
        tool_type = rules.type
        if answer.type != "Unknown" and grounded(answer.type_quote) and states_type(answer.type, answer.type_quote):
            tool_type = Inference(value=answer.type, rule=rule, quote=answer.type_quote)
        pricing = rules.pricing
        if (
            answer.pricing != "Unknown"
            and grounded(answer.pricing_quote)
            and states_pricing(answer.pricing, answer.pricing_quote)
        ):
            pricing = Inference(value=answer.pricing, rule=rule, quote=answer.pricing_quote)
        price = rules.price
        if (
            answer.starting_price
            and answer.price_unit
            and grounded(answer.price_quote)
            and states_price(answer.starting_price, answer.currency, answer.price_quote)
        ):
            price = Price(
                amount=answer.starting_price,
                currency=(answer.currency or "USD").upper(),
                unit=answer.price_unit,
                quote=answer.price_quote or "",
            )
        license_name = rules.license
        if answer.license and grounded(answer.license_quote) and states_license(answer.license, answer.license_quote):
            license_name = answer.license
        # The summary stays a source sentence: a generated one could not be checked against the page.
        return ToolFacts(tool_type, pricing, price, license_name, rules.summary)

    # ---- Unique / vs alternatives ----------------------------------------------------------------
    def contrast(
        self, tool_name: str, capabilities: list[CapabilityDraft], neighbours: list[list[Neighbour]]
    ) -> list[ContrastLines] | None:
        if not self.settings.llm_contrast or not any(neighbours):
            return None  # nothing to contrast with: the catalog's own lines say so
        listed = [
            {
                "index": i,
                "name": cap.name,
                "description": cap.description,
                "neighbours": [
                    {
                        "tool": n.tool,
                        "capability": n.capability,
                        "description": n.description,
                        "similarity": round(n.similarity, 2),
                    }
                    for n in near
                ],
            }
            for i, (cap, near) in enumerate(zip(capabilities, neighbours, strict=True))
        ]
        allowed = {n.tool for near in neighbours for n in near}
        answer, _ = self._ask(
            "contrast",
            Contrast,
            {"neighbour_tools": allowed, "count": len(capabilities)},
            tool_name=tool_name,
            capabilities_json=json.dumps(listed, indent=1, ensure_ascii=False),
        )
        lines: list[ContrastLines] = [ContrastLines("", "", ()) for _ in capabilities]
        for item in answer.capabilities:
            if not 0 <= item.index < len(capabilities):
                continue
            parts, names = [], []
            for alt in item.vs_alternatives:
                # A name the catalog does not have is shown as outside knowledge, never as a catalog tool.
                outside = alt.outside_knowledge or alt.tool not in allowed
                parts.append(f"vs {alt.tool}{' (outside the catalog)' if outside else ''}: {alt.difference}")
                if not outside:
                    names.append(alt.tool)
            lines[item.index] = ContrastLines(item.unique, "; ".join(parts) or NO_ALTERNATIVE, tuple(names))
        return lines

    # ---- estimates (no request) --------------------------------------------------------------
    def estimate(self, doc: SourceDocument, catalog_has_tools: bool = True) -> Estimate:
        """Tokens and cost of decomposing ``doc``, counted locally; cached answers cost nothing."""
        blocks = doc.blocks or segment(doc.text)
        chunks = self._chunks(doc)
        requests = cached = prompt_tokens = completion_tokens = 0
        calls: list[tuple[str, dict[str, Any]]] = [
            ("decompose", {"tool_name": doc.name, "document": c, "part": i, "parts": len(chunks)})
            for i, c in enumerate(chunks, start=1)
        ]
        calls.append(("classify", {"tool_name": doc.name, "document": facts_excerpt(doc.text, blocks)}))
        models: dict[str, type[BaseModel]] = {"decompose": Decomposition, "classify": ClassifiedTool}
        for kind, values in calls:
            messages, version = self._messages(kind, values)
            if self.cache.get(self._key(kind, models[kind], messages, version)):
                cached += 1
                continue
            requests += 1
            sent = sum(count_tokens(m["content"]) for m in messages) + SCHEMA_OVERHEAD
            prompt_tokens += sent
            # Answers quote the page: roughly a third of a chunk, capped by what 15 capabilities take.
            completion_tokens += 250 if kind == "classify" else min(1500, max(200, sent // 3))
        if self.settings.llm_contrast and catalog_has_tools:
            requests += 1  # one contrast request once neighbours are known (none in an empty catalog)
            prompt_tokens += 1200
            completion_tokens += 700
        price = self.settings.llm_prices.get(self.settings.llm_model)
        cost = None if price is None else round(prompt_tokens / 1e6 * price[0] + completion_tokens / 1e6 * price[1], 6)
        return Estimate(len(chunks), requests, cached, prompt_tokens, completion_tokens, cost)

    # ---- one cached, metered request ---------------------------------------------------------
    def _messages(self, kind: str, values: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        system = prompts.load("system")
        prompt = prompts.load(kind)
        # The vendor text's tag is named after the text itself, so the text cannot close it early.
        body = str(values.get("document", values.get("capabilities_json", "")))
        prefix = "capabilities" if kind == "contrast" else "document"
        tag = f"{prefix}-{hashlib.sha256(body.encode('utf-8')).hexdigest()[:10]}"
        messages = [
            {"role": "system", "content": system.render().strip()},
            {"role": "user", "content": prompt.render(tag=tag, **values).strip()},
        ]
        return messages, f"system@{system.version}+{kind}@{prompt.version}"

    def _key(self, kind: str, response_model: type[BaseModel], messages: list[dict[str, Any]], version: str) -> str:
        # What the model is told includes the response schema (sent as a tool or as instructions),
        # and what is accepted depends on the validators: both are part of the key.
        schema = json.dumps(response_model.model_json_schema(), sort_keys=True)
        shape = f"{SCHEMA_VERSION}:{hashlib.sha256(schema.encode('utf-8')).hexdigest()[:12]}"
        return cache_key(kind, self.settings.llm_model, self.settings.llm_mode, f"{version}|{shape}", messages)

    def _ask(self, kind: str, response_model: type[T], context: dict[str, Any], **values: Any) -> tuple[T, bool]:
        messages, version = self._messages(kind, values)
        model = self.settings.llm_model
        key = self._key(kind, response_model, messages, version)
        meter = metering.current()
        hit = self.cache.get(key)
        if hit is not None:
            if meter is not None:
                meter.record_cached(hit.get("prompt_tokens", 0), hit.get("completion_tokens", 0))
            return response_model.model_validate(hit["answer"]), bool(hit["valid"])
        before = meter.snapshot() if meter else None
        if meter is not None:
            meter.task = kind
        try:
            answer = self.client.extract(response_model, messages, context, model)
            valid = True
        except InvalidAnswer as exc:
            answer = self._lenient(response_model, exc, kind, values)
            valid = False
        after = meter.snapshot() if meter else None
        prompt_tokens = (after.prompt_tokens - before.prompt_tokens) if after and before else 0
        completion_tokens = (after.completion_tokens - before.completion_tokens) if after and before else 0
        payload = {
            "answer": answer.model_dump(),
            "valid": valid,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
        }
        self.cache.put(key, kind, model, version, payload, prompt_tokens, completion_tokens)
        return answer, valid

    def _lenient(self, response_model: type[T], exc: InvalidAnswer, kind: str, values: dict[str, Any]) -> T:
        """After the re-asks, read the last answer without the grounding checks (structure still checked)."""
        where = f" (part {values['part']} of {values['parts']})" if values.get("parts", 1) > 1 else ""
        if exc.last_json is not None and exc.last_json.get("capabilities") == [] and kind == "decompose":
            raise LLMOutputInvalid(f"the model returned no capabilities{where}: {exc.message}")
        if exc.last_json is None:
            raise LLMOutputInvalid(f"the model gave no usable {kind} answer{where}: {exc.message}")
        try:
            return response_model.model_validate(exc.last_json)
        except ValidationError as invalid:
            raise LLMOutputInvalid(f"the model gave no usable {kind} answer{where}: {exc.message}") from invalid
