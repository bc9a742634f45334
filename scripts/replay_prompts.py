#!/usr/bin/env python3
"""Print the prompts capmatch sends for pages, with their replay keys, to write replay answers.

For each page: read and cleaned as `capmatch eval extract` and `capmatch add` do, then the
decompose/classify requests the LLM backend would send (no request is sent). Prints, per request,
the replay key (capmatch/llm/replay.py says what it hashes), the task, and the vendor text the model
reads; with --messages, the whole messages. Contrast prompts depend on the catalog: get their keys
from the replay server's "unknown prompt" error, or from `ReplayServer.unknown`.

    python scripts/replay_prompts.py ../shared/data/vendor-docs/http-clients/requests.md
    python scripts/replay_prompts.py --keys fixtures/replay   # check every fixture's keys still match its page
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from capmatch.extractor.classify import tool_name
from capmatch.extractor.clean import clean
from capmatch.extractor.decompose.base import SourceDocument
from capmatch.extractor.decompose.llm import LLMDecomposer
from capmatch.extractor.fetch import read_path
from capmatch.extractor.segment import segment
from capmatch.llm.replay import prompt_parts, replay_key
from capmatch.runtime import Runtime
from capmatch.settings import get_settings


def page_requests(page: Path, decomposer: LLMDecomposer) -> list[tuple[str, str, list[dict[str, str]]]]:
    settings = decomposer.settings
    raw = read_path(page, settings)
    doc = clean(raw.text, raw.format)
    source = SourceDocument(doc.text, doc.title, tool_name(doc.title, raw.url), raw.url, doc.format, segment(doc.text))
    return [(replay_key(messages), kind, messages) for kind, messages in decomposer.requests(source)]


def resolve(ref: str, shared: Path) -> Path:
    return shared / ref.removeprefix("shared:") if ref.startswith("shared:") else Path(ref)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path)
    parser.add_argument("--messages", action="store_true", help="print the whole messages, not only the vendor text")
    parser.add_argument("--keys", type=Path, help="a fixtures/replay folder: check its keys against its pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = get_settings().model_copy(update={"home": Path(home)})
        core = Runtime(settings)  # a throwaway catalog: the decomposer wants an answer cache
        decomposer = LLMDecomposer(core.embedder, settings, core.catalog, estimate_only=True)
        if args.keys:
            stale = 0
            for fixture in sorted(args.keys.glob("*.json")):
                data = json.loads(fixture.read_text(encoding="utf-8"))
                wanted = {key for key, _, _ in page_requests(resolve(data["page"], settings.shared_data), decomposer)}
                have = {r["key"] for r in data["requests"] if not r["key"].startswith("contrast:")}
                if wanted != have:
                    stale += 1
                    print(f"{fixture.name}: page asks {sorted(wanted)}, fixture answers {sorted(have)}")
            print(f"{stale} fixture(s) out of date" if stale else "every fixture answers its page's prompts")
            return 1 if stale else 0
        for page in args.pages:
            for key, kind, messages in page_requests(page, decomposer):
                print(f"===== {page} {kind} {key}")
                print(
                    json.dumps(messages, indent=2, ensure_ascii=False) if args.messages else prompt_parts(messages)[1]
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
