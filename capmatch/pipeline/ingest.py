"""Ingestion: URL or file → fetch → clean → segment → decompose → verify → embed → index → contrast → store.

Every stage reports progress; any failure raises a CapmatchError before the store stage, and the
store stage is one transaction, so a failed ingest leaves the catalog and index as they were.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from capmatch.embeddings.live import LiveIndex
from capmatch.embeddings.model import Embedder
from capmatch.errors import InvalidInput, NoCapabilities, PageTooComplex
from capmatch.extractor import classify
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose import Decomposer, SourceDocument, get_decomposer, resolve_backend
from capmatch.extractor.fetch import RawDocument, fetch, read_path
from capmatch.extractor.segment import segment
from capmatch.extractor.verify import verify
from capmatch.llm.meter import UsageMeter, metering
from capmatch.matching.contrast import neighbours_for
from capmatch.matching.identity import document_text, identity_text
from capmatch.models import STEP_STARTS, Capability, JobOutcome, Pricing, Stage, Tool, ToolType
from capmatch.pipeline.writer import CatalogWriter, Progress, no_progress
from capmatch.settings import Settings
from capmatch.slug import slugify
from capmatch.storage.base import Catalog, NewCapability


@dataclass
class Source:
    """Where a tool's document comes from, plus what the submitter already knows about it."""

    url: str | None = None
    path: Path | None = None
    text: str | None = None
    text_format: str = "text"
    name: str | None = None
    category: str | None = None
    type: str | None = None
    pricing: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    extractor: str | None = None
    canonical_url: str | None = None  # the tool's link when the document comes from a file or text

    def label(self) -> str:
        return self.url or (str(self.path) if self.path else f"text:{self.name}")


def unchanged_notice(tool_id: str) -> str:
    return f"unchanged: this content is already in the catalog as {tool_id}; nothing was changed"


# Blocks (paragraphs, bullets, rows) a page may have: extraction looks at each with its neighbours.
MAX_BLOCKS = 20_000
MIN_EXPECTED = 3

# The page's opening (256 tokens, the costliest text a page embeds) depends only on the cleaned page,
# so it is embedded here while the decomposer waits for the LLM. The vectors are the same bits as
# embedding it with the capabilities (ONNX Runtime's rows do not depend on their batch; tested).
_PREFETCH = ThreadPoolExecutor(max_workers=2, thread_name_prefix="capmatch-prefetch")


def _prefetch(embedder: Embedder, text: str) -> Future:
    return _PREFETCH.submit(embedder.embed_batch, [text])


def _prefetched(future: Future) -> Any:
    """The prefetched vector, or None when it has not started (then it is embedded with the rest,
    rather than waited for behind other pages' prefetches) or failed (the same: embedded again)."""
    if future.cancel():
        return None
    try:
        return future.result()[0]
    except Exception:  # whatever went wrong is raised again by the direct call
        return None


@dataclass
class IngestResult:
    tool: Tool
    created: bool
    notice: str | None = None
    replaced: bool = False

    @property
    def outcome(self) -> JobOutcome:
        if not self.created:
            return JobOutcome.UNCHANGED
        return JobOutcome.REPLACED if self.replaced else JobOutcome.CREATED


def capability_text(cap: Capability) -> str:
    """What gets embedded: the name says what it is, the description how the vendor puts it."""
    return f"{cap.name}: {cap.description}"


def clean_name(name: str) -> str:
    """A tool name without control or format characters (NUL, bidi overrides such as U+202E, zero
    widths), which would spoof or hide text wherever the name is shown; whitespace collapsed."""
    spaced = "".join(" " if ch.isspace() else ch for ch in name)
    return " ".join("".join(ch for ch in spaced if unicodedata.category(ch) not in ("Cc", "Cf")).split())


def load_document(source: Source, settings: Settings) -> RawDocument:
    if source.url:
        return fetch(source.url, settings)
    if source.path:
        raw = read_path(source.path, settings)
        # The tool's public link names the file, never the server path it was read from.
        raw = RawDocument(f"local:{source.path.name}", raw.text, raw.format, raw.fetched_at)
    elif source.text is not None:
        raw = RawDocument(f"text:{slugify(source.name or 'tool')}", source.text, source.text_format, datetime.now(UTC))
    else:
        raise InvalidInput("nothing to ingest: give a URL, a file path or a text")
    if source.canonical_url:
        raw = RawDocument(source.canonical_url, raw.text, raw.format, raw.fetched_at, raw.content_type)
    return raw


@dataclass(frozen=True)
class BackendInfo:
    backend: str
    model: str | None
    prompt_version: str | None
    notice: str | None


class Ingestor:
    """Runs the pipeline for one source at a time; every part it needs is given to it."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        index: LiveIndex,
        writer: CatalogWriter,
        embedder: Callable[[], Embedder],
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.index = index
        self.writer = writer
        self._embedder = embedder  # loading the model takes seconds: only when a page needs it

    @property
    def embedder(self) -> Embedder:
        return self._embedder()

    def decomposer(self, backend: str) -> Decomposer:
        return get_decomposer(backend, self.embedder, self.settings, self.catalog)

    def ingest(
        self,
        source: Source,
        progress: Progress = no_progress,
        meter: UsageMeter | None = None,
        on_backend: Callable[[BackendInfo], None] | None = None,
        guard: Callable[[], None] | None = None,
    ) -> IngestResult:
        """Run the pipeline for one source. LLM requests are charged to ``meter`` (one is made if none
        is given), so a caller can report what a job spent even when it fails. ``guard`` runs inside
        the store transaction, before the commit."""
        store = self.catalog
        settings = self.settings
        backend, fallback_notice = resolve_backend(source.extractor, settings)
        decomposer = self.decomposer(backend)
        if meter is None:
            meter = UsageMeter()
        if decomposer.model is not None:
            meter.budget = settings.llm_max_tokens_per_tool
            meter.price = settings.llm_prices.get(decomposer.model)
            meter.model = decomposer.model

        progress(Stage.FETCHING, STEP_STARTS["fetching"])
        raw = load_document(source, settings)
        progress(Stage.CLEANING, STEP_STARTS["cleaning"])
        doc = clean(raw.text, raw.format)
        content_hash = hashlib.sha256(doc.text.encode("utf-8")).hexdigest()
        meter.content_hash = content_hash
        # Said only once there is a page to extract from: a job that failed fetching or cleaning
        # never ran a decomposer, so "no LLM configured: extractive" would be beside the point.
        if on_backend is not None:
            on_backend(BackendInfo(backend, decomposer.model, decomposer.prompt_version, fallback_notice))

        # Fast path: skip all work for content already extracted the same way (store_tool re-checks).
        same_content = store.find_by_hash(content_hash)
        if same_content is not None and store.extraction_of(same_content)[1:] == (decomposer.name, decomposer.version):
            progress(Stage.DONE, 1.0)
            return IngestResult(store.get_tool(same_content), False, unchanged_notice(same_content))

        progress(Stage.SEGMENTING, STEP_STARTS["segmenting"])
        blocks = segment(doc.text)
        if len(blocks) > MAX_BLOCKS:
            raise PageTooComplex(
                f"the page has {len(blocks)} blocks; at most {MAX_BLOCKS} are read (submit a part of it)"
            )
        name = clean_name(source.name or "") or clean_name(classify.tool_name(doc.title, raw.url)) or "tool"
        source_doc = SourceDocument(doc.text, doc.title, name, raw.url, doc.format, blocks)
        embedder = self.embedder
        opening = document_text(doc.text)
        prefetched = _prefetch(embedder, opening)
        with metering(meter):
            progress(Stage.EXTRACTING, STEP_STARTS["extracting"])
            drafts = decomposer.decompose(source_doc)
            facts = decomposer.classify(source_doc)
            progress(Stage.VERIFYING, STEP_STARTS["verifying"])
            capabilities = verify(drafts, doc.text)
            if not capabilities:
                raise NoCapabilities("the decomposer returned no capabilities for this page")
            progress(Stage.EMBEDDING, STEP_STARTS["embedding"])
            texts = [capability_text(c) for c in capabilities]
            document = _prefetched(prefetched)
            if document is None:
                embedded = embedder.embed_batch([*texts, identity_text(name, facts.summary, doc.text), opening])
                vectors, identity, document = embedded[:-2], embedded[-2], embedded[-1]
            else:
                embedded = embedder.embed_batch([*texts, identity_text(name, facts.summary, doc.text)])
                vectors, identity = embedded[:-1], embedded[-1]
            progress(Stage.CONTRASTING, STEP_STARTS["contrasting"])
            # Only a backend that writes its own lines needs the neighbours before the store; the
            # store computes them once more for everyone's alternatives (matching.contrast).
            writes_lines = decomposer.model is not None and settings.llm_contrast
            kind = source.type or facts.type.value
            near = neighbours_for(store, self.index.reader(), vectors, raw.url, kind) if writes_lines else []
            lines = decomposer.contrast(name, drafts, near) if writes_lines else None

        new = []
        for i, (cap, vector) in enumerate(zip(capabilities, vectors, strict=True)):
            cap.prompt_version = decomposer.prompt_version
            line = lines[i] if lines else None
            if line is not None and line.unique:
                cap.unique, cap.vs_alternatives = line.unique, line.vs_alternatives
                cap.contrast_by = f"llm:{decomposer.prompt_version}:{decomposer.model}"
                new.append(NewCapability(cap, vector, line.names))
            else:
                new.append(NewCapability(cap, vector))

        tool = Tool(
            id=slugify(name),
            name=name,
            url=raw.url,
            type=ToolType(source.type) if source.type else ToolType(facts.type.value),
            type_basis=None if source.type else facts.type,
            pricing=Pricing(source.pricing) if source.pricing else Pricing(facts.pricing.value),
            pricing_basis=None if source.pricing else facts.pricing,
            starting_price=facts.price,
            license=facts.license,
            summary=facts.summary,
            category=source.category,
            metadata=source.metadata,
            content_hash=content_hash,
            source_format=doc.format,
            fetched_at=raw.fetched_at,
            extractor=decomposer.name,
            extractor_version=decomposer.version,
            usage=meter.snapshot() if decomposer.model is not None else None,
        )
        stored = self.writer.store_tool(tool, doc.text, new, identity, document, progress=progress, guard=guard)
        progress(Stage.DONE, 1.0)
        if not stored.created:
            return IngestResult(stored.tool, False, unchanged_notice(stored.tool.id))
        notices = [fallback_notice] if fallback_notice else []
        if stored.replaced:
            notices.append(f"replaced the earlier version of {stored.tool.id}")
        if len(capabilities) < MIN_EXPECTED:
            # Fewer than three is kept rather than padded with weak text; the user should know why.
            notices.append(
                f"only {len(capabilities)} capabilities found: the page says little about what the tool does"
            )
        ungrounded = sum(not c.grounded for c in capabilities)
        if ungrounded:
            notices.append(
                f"{ungrounded} of {len(capabilities)} capabilities are not grounded in the page (shown as such)"
            )
        return IngestResult(stored.tool, True, "; ".join(notices) or None, replaced=stored.replaced is not None)


def record_calls(catalog: Catalog, meter: UsageMeter, job_id: str | None = None) -> None:
    """Keep one row per LLM request (task, status, duration, tokens), for jobs and for audits."""
    if meter.calls:
        catalog.record_llm_calls(job_id, meter.content_hash, meter.model or "", meter.calls)


@dataclass(frozen=True)
class DryRun:
    backend: str
    model: str | None
    chunks: int
    requests: int
    cached: int
    prompt_tokens: int
    completion_tokens: int
    raw_page_tokens: int
    cost_usd: float | None
    notice: str | None
    prices: str | None = None  # which prices the cost assumes, or why there is no cost


def dry_run(ingestor: Ingestor, source: Source) -> DryRun:
    """Fetch and clean the page and estimate the LLM requests, tokens and cost; sends no LLM request."""
    from capmatch.llm.tokens import count_tokens

    backend, notice = resolve_backend(source.extractor, ingestor.settings)
    raw = load_document(source, ingestor.settings)
    doc = clean(raw.text, raw.format)
    raw_tokens = count_tokens(raw.text)
    if backend != "llm":
        return DryRun(backend, None, 0, 0, 0, 0, 0, raw_tokens, 0.0, notice)
    from capmatch.extractor.decompose.llm import LLMDecomposer

    # Estimate only: no client is made, so this works with just a model name and no endpoint.
    settings = ingestor.settings
    decomposer = LLMDecomposer(ingestor.embedder, settings, ingestor.catalog, estimate_only=True)
    name = (source.name or classify.tool_name(doc.title, raw.url)).strip()
    estimate = decomposer.estimate(
        SourceDocument(doc.text, doc.title, name, raw.url, doc.format, segment(doc.text)),
        catalog_has_tools=ingestor.catalog.tool_count() > 0,
    )
    return DryRun(
        backend,
        decomposer.model,
        estimate.chunks,
        estimate.requests,
        estimate.cached,
        estimate.prompt_tokens,
        estimate.completion_tokens,
        raw_tokens,
        estimate.cost_usd,
        _join(notice, None if settings.llm_configured else "no LLM endpoint configured: estimate only"),
        _assumed_prices(settings, decomposer.model),
    )


def _assumed_prices(settings: Settings, model: str | None) -> str:
    from capmatch.settings import DEFAULT_PRICES

    price = settings.llm_prices.get(model or "")
    if price is None:
        known = ", ".join(sorted(settings.llm_prices)) or "none"
        return f"no price for {model} in CAPMATCH_LLM_PRICES (known: {known}): cost unknown"
    origin = "the default price table" if DEFAULT_PRICES.get(model or "") == tuple(price) else "CAPMATCH_LLM_PRICES"
    return f"{model}: ${price[0]:g} per 1M prompt tokens, ${price[1]:g} per 1M completion tokens ({origin})"


def _join(*parts: str | None) -> str:
    return "; ".join(p for p in parts if p)
