"""LLM decomposer: an OpenAI-compatible model, through instructor, reads the cleaned page.

- A page whose condensed text fits one request is read in one request; longer pages are split by
  sections within a token budget, their capabilities merged by embedding similarity.
- Type, pricing, starting price and licence are asked of the model only when the page's rules
  leave one of them open (classify.unsettled): in the one request (task "extract") or, for a split
  page, from an excerpt ("classify"). When the rules settle them, the request asks for capabilities
  only (task "decompose", no fact fields in the schema) and the rules' facts are the tool's.
- The static part of every prompt (system text, task instructions) comes first: the system text
  is byte-identical in every request, the task instructions in every request of a task asking the
  same facts, so providers' prefix caches apply; the tool's name and the vendor text follow in the
  user message.
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
from capmatch.extractor.classify import (
    ToolFacts,
    currency_in,
    rule_facts,
    states_license,
    states_price,
    states_pricing,
    states_type,
    unsettled,
)
from capmatch.extractor.condense import condense, facts_excerpt, terms_blocks
from capmatch.extractor.decompose.base import CapabilityDraft, ContrastLines, Neighbour, SourceDocument
from capmatch.extractor.decompose.llm_schema import (
    SCHEMA_VERSION,
    ClassifiedTool,
    Contrast,
    Decomposition,
    Extraction,
    asking,
    too_short,
)
from capmatch.extractor.decompose.merge import merge_drafts
from capmatch.extractor.injection import inside, instruction_spans
from capmatch.extractor.segment import segment
from capmatch.extractor.verify import locate
from capmatch.llm import meter as metering
from capmatch.llm.cache import LLMCache, cache_key
from capmatch.llm.client import InvalidAnswer, LLMClient, get_client
from capmatch.llm.tokens import count_tokens
from capmatch.models import Inference, Price
from capmatch.settings import Settings
from capmatch.storage.base import LLMCacheStore

T = TypeVar("T", bound=BaseModel)
NO_ALTERNATIVE = "No close alternative in the catalog."
PROMPTS = ("system", "input", "extract", "decompose", "classify", "contrast")
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "extract": Extraction,
    "decompose": Decomposition,
    "classify": ClassifiedTool,
    "contrast": Contrast,
}
ALL_FACTS = ("type", "pricing", "license")  # what an extract or classify request asks at most
# What a contrast request carries, for estimates made before any capability exists: a typical tool
# has about 8 capabilities; the estimate assumes every one has neighbours to send (an upper bound).
TYPICAL_CAPABILITIES = 8
# Neighbours sent per capability: the catalog's own vs lines argue against two alternatives as well
# (matching.contrast.VS_ALTERNATIVES); a third rarely changes a line and costs a quote.
NEIGHBOURS_SENT = 2
QUOTE_WORDS = 25  # a quote in a contrast request is cut to this: enough for its facts, not the page


@dataclass(frozen=True)
class Estimate:
    chunks: int
    requests: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None


RULES_KEPT = 64  # pages whose rule facts are kept between decompose and classify


def prompt_version() -> str:
    return "+".join(f"{name}@{prompts.load(name).version}" for name in PROMPTS)


class LLMDecomposer:
    name = "llm"

    def __init__(
        self, embedder: Embedder, settings: Settings, store: LLMCacheStore, estimate_only: bool = False
    ) -> None:
        self.embedder = embedder
        self.settings = settings
        self.model: str | None = settings.llm_model
        # A dry run (estimate_only) needs no endpoint; a real run fails here, before any fetch, without one.
        self._client: LLMClient | None = None if estimate_only else get_client(settings)
        self.cache = LLMCache(store)
        self.prompt_version: str | None = prompt_version()
        self.version = f"{self.prompt_version}|{settings.llm_model}|{settings.llm_mode}"
        self._facts: dict[str, ClassifiedTool] = {}  # from a combined answer, by the page's hash
        # The rules' facts and the ones they leave open, by the page's hash: decompose needs them to
        # word its request and classify to merge the answer; the regex work is done once per page.
        self._rules: dict[str, tuple[ToolFacts, tuple[str, ...]]] = {}

    @property
    def client(self) -> LLMClient:
        """Made at the first request when estimate_only (raises LLMNotConfigured without an endpoint)."""
        if self._client is None:
            self._client = get_client(self.settings)
        return self._client

    # ---- capabilities -----------------------------------------------------------------------
    def _chunks(self, doc: SourceDocument) -> list[str]:
        """The page's capability-bearing text (see llm.condense), split within the token budget."""
        condensed = condense(doc.text, doc.blocks or segment(doc.text))
        return chunk_document(condensed, segment(condensed), self.settings.llm_chunk_tokens)

    def _combined(self, doc: SourceDocument) -> str | None:
        """The text for one request that both decomposes and classifies: the condensed page plus the
        price and licence lines condensing left out, or None when that does not fit one chunk."""
        blocks = doc.blocks or segment(doc.text)
        condensed = condense(doc.text, blocks)
        extra = [p for p in terms_blocks(doc.text, blocks) if p.strip() and p.strip() not in condensed]
        text = condensed + ("\n" + "\n\n".join(extra) + "\n" if extra else "")
        return text if count_tokens(text) <= self.settings.llm_chunk_tokens else None

    def _facts_open(self, doc: SourceDocument) -> tuple[str, ...]:
        """The facts the model is asked for: those the page's rules leave open (classify.unsettled)."""
        return self._rule_facts(doc)[1]

    def _rule_facts(self, doc: SourceDocument, last_use: bool = False) -> tuple[ToolFacts, tuple[str, ...]]:
        """The rules' facts of the page and the facts they leave open, computed once per page."""
        key = _digest(f"{doc.name}\0{doc.text}")
        found = self._rules.pop(key, None) if last_use else self._rules.get(key)
        if found is None:
            rules = rule_facts(doc.text, doc.blocks or segment(doc.text), doc.name)
            found = (rules, tuple(unsettled(rules, doc.text)))
            if not last_use:
                self._rules[key] = found
                while len(self._rules) > RULES_KEPT:  # a dry run never reaches classify: keep few
                    self._rules.pop(next(iter(self._rules)))
        return found

    def decompose(self, doc: SourceDocument) -> list[CapabilityDraft]:
        combined = self._combined(doc)
        facts = self._facts_open(doc)
        drafts: list[CapabilityDraft] = []
        if combined is not None and facts:  # one request: capabilities and the facts the rules leave open
            chunks = [combined]
            extraction, _ = self._ask(
                "extract",
                asking(Extraction, facts),
                {"source": doc.text},
                tool_name=doc.name,
                body=combined,
                part=1,
                parts=1,
                facts=facts,
            )
            self._facts[_digest(doc.text)] = extraction
            drafts = [CapabilityDraft(c.name, c.description, list(c.evidence)) for c in extraction.capabilities]
        elif combined is not None:  # one request, capabilities only: the rules settle the facts
            chunks = [combined]
            answer, _ = self._ask(
                "decompose",
                Decomposition,
                {"source": doc.text, "allow_empty": False},
                tool_name=doc.name,
                body=combined,
                part=1,
                parts=1,
            )
            drafts = [CapabilityDraft(c.name, c.description, list(c.evidence)) for c in answer.capabilities]
        else:
            chunks = self._chunks(doc)
            for part, chunk in enumerate(chunks, start=1):
                answer, _ = self._ask(
                    "decompose",
                    Decomposition,
                    {"source": doc.text, "allow_empty": len(chunks) > 1},
                    tool_name=doc.name,
                    body=chunk,
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
            quotes = [q for q in draft.quotes if not too_short(q, source)]
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
        rules, facts = self._rule_facts(doc, last_use=True)
        answer = self._facts.pop(_digest(doc.text), None)
        if not facts:
            return rules  # the rules settle type, pricing and licence: nothing was asked of the model
        if answer is None:  # the page took several requests: the facts come from an excerpt
            excerpt = facts_excerpt(doc.text, blocks)
            answer, _ = self._ask(
                "classify",
                asking(ClassifiedTool, facts),
                {"source": doc.text},
                tool_name=doc.name,
                body=excerpt,
                facts=facts,
            )

        def grounded(quote: str | None) -> bool:
            return bool(quote) and locate(quote or "", doc.text) is not None

        # Only the facts the rules left open are read from the answer (the others were not asked), and a
        # value is used only when its quote is in the page *and* states that value; else the rules decide.
        rule = f"llm: {self.model}"
        tool_type = rules.type
        if (
            "type" in facts
            and answer.type != "Unknown"
            and grounded(answer.type_quote)
            and states_type(answer.type, answer.type_quote)
        ):
            tool_type = Inference(value=answer.type, rule=rule, quote=answer.type_quote)
        pricing = rules.pricing
        if (
            "pricing" in facts
            and answer.pricing != "Unknown"
            and grounded(answer.pricing_quote)
            and states_pricing(answer.pricing, answer.pricing_quote)
        ):
            pricing = Inference(value=answer.pricing, rule=rule, quote=answer.pricing_quote)
        price = rules.price
        currency = currency_in(answer.price_quote)
        if (
            ("pricing" in facts or "price" in facts)
            and answer.starting_price
            and answer.price_unit
            and grounded(answer.price_quote)
            and states_price(answer.starting_price, currency, answer.price_quote)
        ):
            price = Price(
                amount=answer.starting_price,
                currency=currency or "USD",
                unit=answer.price_unit,
                quote=answer.price_quote or "",
            )
        license_name = rules.license
        if (
            "license" in facts
            and answer.license
            and grounded(answer.license_quote)
            and states_license(answer.license, answer.license_quote)
        ):
            license_name = answer.license
        # The summary stays a source sentence: a generated one could not be checked against the page.
        return ToolFacts(tool_type, pricing, price, license_name, rules.summary)

    # ---- Unique / vs alternatives ----------------------------------------------------------------
    def contrast(
        self, tool_name: str, capabilities: list[CapabilityDraft], neighbours: list[list[Neighbour]]
    ) -> list[ContrastLines] | None:
        if not self.settings.llm_contrast or not any(neighbours):
            return None  # nothing to contrast with: the catalog's own lines say so
        sent = [near[:NEIGHBOURS_SENT] for near in neighbours]
        # A capability without neighbours is listed by name only: nothing to contrast it with, so its
        # quote would be paid for in vain, but the full list of names identifies the request.
        listed = _listing(
            [
                (i, cap.name, cap.quotes if near else [], [(n.tool, n.capability, n.quotes) for n in near])
                for i, (cap, near) in enumerate(zip(capabilities, sent, strict=True))
            ]
        )
        allowed = {n.tool for near in sent for n in near}
        answer, _ = self._ask(
            "contrast",
            Contrast,
            {"neighbour_tools": allowed, "count": len(capabilities)},
            tool_name=tool_name,
            body=listed,
        )
        lines: list[ContrastLines] = [ContrastLines("", "", ()) for _ in capabilities]
        for item in answer.capabilities:
            if not 0 <= item.index < len(capabilities) or not sent[item.index]:
                continue  # nothing near it was sent: the catalog's own lines stay
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
        """Tokens and cost of decomposing ``doc``, counted locally; cached answers cost nothing.

        A request's prompt is its messages as they would be sent plus the response schema as the mode
        sends it; an answer is estimated from the text it quotes."""
        calls = self._calls(doc)
        chunks = sum(1 for kind, _, _ in calls if kind != "classify")
        requests = cached = prompt_tokens = completion_tokens = 0
        for kind, values, model in calls:
            messages, version = self._messages(kind, values)
            if self.cache.get(self._key(kind, model, messages, version)):
                cached += 1
                continue
            requests += 1
            sent = sum(count_tokens(m["content"]) for m in messages) + self._schema_tokens(model)
            prompt_tokens += sent
            # Answers quote the page: roughly a third of a chunk, capped by what 15 capabilities take.
            answer = 0 if kind == "classify" else min(1500, max(200, sent // 3))
            completion_tokens += answer + (0 if kind == "decompose" else 120)
        if self.settings.llm_contrast and catalog_has_tools:
            requests += 1  # one contrast request once neighbours are known (none in an empty catalog)
            prompt_tokens += self._contrast_tokens()
            completion_tokens += TYPICAL_CAPABILITIES * 60
        price = self.settings.llm_prices.get(self.settings.llm_model)
        cost = None if price is None else round(prompt_tokens / 1e6 * price[0] + completion_tokens / 1e6 * price[1], 6)
        return Estimate(chunks, requests, cached, prompt_tokens, completion_tokens, cost)

    def requests(self, doc: SourceDocument) -> list[tuple[str, list[dict[str, Any]]]]:
        """The decompose/classify requests ``doc`` takes, as (task, messages), in the order they are sent."""
        return [(kind, self._messages(kind, values)[0]) for kind, values, _ in self._calls(doc)]

    def _calls(self, doc: SourceDocument) -> list[tuple[str, dict[str, Any], type[BaseModel]]]:
        """(task, values, response model) of each request ``doc`` takes: when the condensed page fits,
        one "extract" (capabilities and the facts the rules leave open) or, when the rules settle the
        facts, one "decompose"; else a "decompose" per part, and a "classify" only when the rules leave
        a fact open. The same plan decompose() and classify() follow."""
        combined = self._combined(doc)
        facts = self._facts_open(doc)
        if combined is not None:
            one = {"tool_name": doc.name, "body": combined, "part": 1, "parts": 1, "facts": facts}
            return [("extract", one, asking(Extraction, facts)) if facts else ("decompose", one, Decomposition)]
        chunks = self._chunks(doc)
        calls: list[tuple[str, dict[str, Any], type[BaseModel]]] = [
            ("decompose", {"tool_name": doc.name, "body": c, "part": i, "parts": len(chunks)}, Decomposition)
            for i, c in enumerate(chunks, start=1)
        ]
        if facts:
            excerpt = facts_excerpt(doc.text, doc.blocks or segment(doc.text))
            calls.append(
                ("classify", {"tool_name": doc.name, "body": excerpt, "facts": facts}, asking(ClassifiedTool, facts))
            )
        return calls

    def _schema_tokens(self, response_model: type[BaseModel]) -> int:
        """The response schema as sent: a tool definition, or (json, md_json) instructions with the schema."""
        schema = response_model.model_json_schema()
        if self.settings.llm_mode == "json_schema":
            return 0  # a grammar on the server's side, not prompt text
        if self.settings.llm_mode == "tools":
            return count_tokens(json.dumps(schema)) + 15
        return count_tokens(json.dumps(schema, indent=2)) + 45

    def _contrast_tokens(self) -> int:
        """A typical contrast request, rendered: 8 capabilities with neighbours, each with a quote of
        QUOTE_WORDS words, and NEIGHBOURS_SENT neighbours each by name with one such quote."""
        quote = " ".join(["word"] * QUOTE_WORDS)
        listed = _listing(
            [
                (
                    i,
                    "a capability of five words",
                    [quote],
                    [("Tool", "a capability of five words", (quote,))] * NEIGHBOURS_SENT,
                )
                for i in range(TYPICAL_CAPABILITIES)
            ]
        )
        messages, _ = self._messages("contrast", {"tool_name": "Tool", "body": listed})
        return sum(count_tokens(m["content"]) for m in messages) + self._schema_tokens(Contrast)

    # ---- one cached, metered request ---------------------------------------------------------
    def _messages(self, kind: str, values: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        """System text and task instructions first, the same bytes for every request of a task (that
        asks the same facts); then
        the tool's name and the vendor text, in a tag named after the text itself so that the text
        cannot close it early."""
        system = prompts.load("system")
        task = prompts.load(kind)
        request = prompts.load("input")
        # The task's text depends only on the facts asked (extract, classify), never on the page.
        instructions = task.render(facts=values.get("facts", ALL_FACTS))
        body = str(values["body"])
        prefix = "capabilities" if kind == "contrast" else "document"
        tag = f"{prefix}-{hashlib.sha256(body.encode('utf-8')).hexdigest()[:10]}"
        user = request.render(
            tag=tag, tool_name=values["tool_name"], body=body, part=values.get("part", 1), parts=values.get("parts", 1)
        )
        messages = [
            {"role": "system", "content": f"{system.render().strip()}\n\n{instructions.strip()}"},
            {"role": "user", "content": user.strip()},
        ]
        return messages, _version(kind)

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
        if exc.last_json is not None and exc.last_json.get("capabilities") == [] and kind in ("decompose", "extract"):
            raise LLMOutputInvalid(f"the model returned no capabilities{where}: {exc.message}")
        if exc.last_json is None:
            raise LLMOutputInvalid(f"the model gave no usable {kind} answer{where}: {exc.message}")
        try:
            return response_model.model_validate(exc.last_json)
        except ValidationError as invalid:
            raise LLMOutputInvalid(f"the model gave no usable {kind} answer{where}: {exc.message}") from invalid


def _version(kind: str) -> str:
    """The versions of the prompt files a request of this task is rendered from."""
    system, task, request = (prompts.load(name).version for name in ("system", kind, "input"))
    return f"system@{system}+{kind}@{task}+input@{request}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _listing(items: list[tuple[int, str, list[str], list[tuple[str, str, tuple[str, ...]]]]]) -> str:
    """Capabilities by index, each with its first quote and its nearest neighbours (with a quote each),
    as numbered lines: a third of the tokens of JSON, and both sides' own words for the model to argue
    from. The description is left out: the quotes state the facts, the description repeats them.

    0. Name
       quote: "its first quote"
       near: Tool / its capability ("its quote"); Other tool / its capability ("its quote")
    """
    lines = []
    for index, name, quotes, near in items:
        lines.append(f"{index}. {' '.join(name.split())}")
        if quotes:
            lines.append(f'   quote: "{_clip(quotes[0])}"')
        if near:
            lines.append(
                "   near: "
                + "; ".join(
                    f"{tool} / {capability}" + (f' ("{_clip(said[0])}")' if said else "")
                    for tool, capability, said in near
                )
            )
    return "\n".join(lines)


def _clip(quote: str, words: int = QUOTE_WORDS) -> str:
    """A quote on one line, cut to ``words`` words: enough to carry its facts, not the page."""
    parts = quote.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")
