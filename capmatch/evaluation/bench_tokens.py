"""`capmatch bench tokens`: LLM prompt tokens per tool against the raw page's tokens, sending nothing.

Each page of a corpus is read and cleaned as an ingest would, then the LLM decomposer's own
estimate (the messages it would send plus the response schema as the mode sends it, counted with
the offline tokenizer of llm/tokens.py) is compared with the raw page's tokens. Reported: the median
and p90 of the ratio per tool with the model-written contrast request (CAPMATCH_LLM_CONTRAST=true, a
catalog with neighbours) and without it (the default: the catalog's own rule-written lines), which of
the two the settings give, and what the fixed part of each request costs.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path
from typing import Any

from capmatch.extractor.classify import tool_name
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose.base import SourceDocument
from capmatch.extractor.decompose.llm import RESPONSE_MODELS, LLMDecomposer
from capmatch.extractor.decompose.llm_schema import Extraction, asking
from capmatch.extractor.fetch import EXTENSIONS, read_path
from capmatch.extractor.segment import segment
from capmatch.llm.tokens import count_tokens
from capmatch.runtime import Runtime
from capmatch.settings import Settings


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return {"median": round(statistics.median(ordered), 3), "p90": round(p90, 3)}


def bench(folder: Path, settings: Settings) -> dict[str, Any]:
    pages = sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    with tempfile.TemporaryDirectory(prefix="capmatch-bench-") as home:
        settings = settings.model_copy(update={"home": Path(home)})
        core = Runtime(settings)  # a throwaway catalog: estimates look up (an empty) answer cache
        decomposer = LLMDecomposer(core.embedder, settings, core.catalog, estimate_only=True)
        # Both figures whatever the setting: the contrast request is opt-in (CAPMATCH_LLM_CONTRAST).
        opted_in = settings.model_copy(update={"llm_contrast": True})
        contrasting = LLMDecomposer(core.embedder, opted_in, core.catalog, estimate_only=True)
        with_contrast, without, requests, raw_tokens = [], [], [], []
        for page in pages:
            raw = read_path(page, settings)
            doc = clean(raw.text, raw.format)
            name = tool_name(doc.title, raw.url)
            source = SourceDocument(doc.text, doc.title, name, raw.url, doc.format, segment(doc.text))
            raw_count = count_tokens(raw.text)
            alone = decomposer.estimate(source, catalog_has_tools=False)
            full = contrasting.estimate(source, catalog_has_tools=True)
            with_contrast.append(full.prompt_tokens / raw_count)
            without.append(alone.prompt_tokens / raw_count)
            requests.append((full if settings.llm_contrast else alone).requests)
            raw_tokens.append(raw_count)
        fixed = {}
        for kind, model in RESPONSE_MODELS.items():  # extract and classify: every fact asked
            messages, _ = decomposer._messages(kind, {"tool_name": "", "body": ""})
            fixed[kind] = sum(count_tokens(m["content"]) for m in messages) + decomposer._schema_tokens(model)
        # The commonest extract request on READMEs: the rules read the type (and any licence), not the pricing.
        messages, _ = decomposer._messages("extract", {"tool_name": "", "body": "", "facts": ("pricing",)})
        fixed["extract, pricing only"] = sum(count_tokens(m["content"]) for m in messages) + decomposer._schema_tokens(
            asking(Extraction, ("pricing",))
        )
    default = with_contrast if settings.llm_contrast else without
    return {
        "pages": len(pages),
        "mode": settings.llm_mode,
        "prompt_version": decomposer.prompt_version,
        "contrast_request": "sent (CAPMATCH_LLM_CONTRAST=true)"
        if settings.llm_contrast
        else "not sent: the catalog's own lines (the default; CAPMATCH_LLM_CONTRAST=true sends it)",
        "prompt_tokens_vs_raw_page": _quantiles(default),
        "prompt_tokens_vs_raw_page_with_contrast": _quantiles(with_contrast),
        "prompt_tokens_vs_raw_page_without_contrast": _quantiles(without),
        "requests_per_tool": _quantiles([float(r) for r in requests]),
        "raw_page_tokens": _quantiles([float(t) for t in raw_tokens]),
        "fixed_prompt_tokens_per_request": fixed,
        "contrast_request_tokens": decomposer._contrast_tokens(),
        "goal": "prompt tokens per tool <= 0.6x the raw page (median)",
    }
