#!/usr/bin/env python3
"""Print the prompts capmatch sends for local pages, with their replay keys, to write replay answers.

Each page is read and cleaned as `capmatch eval extract` and `capmatch add` read it; then the
decompose/classify requests the LLM backend would send are listed (nothing is sent): the replay key
(capmatch/llm/replay.py says what it hashes), the task, and the vendor text the model reads, or with
--messages the whole messages. Contrast prompts depend on the catalog: their keys and text come in
the replay server's "unknown prompt" error (and in ReplayServer.unknown).

    python scripts/replay_prompts.py ../shared/data/vendor-docs/http-clients/requests.md
    python scripts/replay_prompts.py --check fixtures/replay   # every fixture still answers its page?
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from capmatch.evaluation.replay import page_requests, stale_fixtures
from capmatch.extractor.decompose.llm import LLMDecomposer
from capmatch.llm.replay import prompt_parts
from capmatch.runtime import Runtime
from capmatch.settings import get_settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path)
    parser.add_argument("--messages", action="store_true", help="print the whole messages, not only the vendor text")
    parser.add_argument("--check", type=Path, help="a fixtures/replay folder: check its keys against its pages")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = get_settings().model_copy(update={"home": Path(home)})
        core = Runtime(settings)  # a throwaway catalog: the decomposer wants an answer cache
        decomposer = LLMDecomposer(core.embedder, settings, core.catalog, estimate_only=True)
        if args.check:
            stale = stale_fixtures(args.check, decomposer)
            print("\n".join(stale) or "every fixture answers the prompts its page sends")
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
