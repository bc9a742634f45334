"""Check gold annotation files: shape, and every quote found in its page (whitespace-insensitive).

Usage: python scripts/check_gold.py FILE.jsonl|PAGE.json [...]   (exit 1 on any problem)
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from capmatch.errors import CapmatchError
from capmatch.evaluation.extract import page_of

KINDS = {
    "negation",
    "limitation",
    "requirement",
    "other_product",
    "tutorial_step",
    "install",
    "sponsor",
    "link",
    "meta",
}


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


ROOT = Path(__file__).resolve().parent.parent


def page_path(ref: str, base: Path) -> Path:
    shared = Path(os.environ.get("CAPMATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))
    return page_of(ref, base, shared)  # a pypi: page is downloaded once into CAPMATCH_PYPI_CACHE


def check_record(record: dict, base: Path, where: str) -> list[str]:
    problems = []
    for key in ("tool", "page", "capabilities", "traps"):
        if key not in record:
            problems.append(f"{where}: missing {key!r}")
    if problems:
        return problems
    try:
        path = page_path(record["page"], base)
    except CapmatchError as exc:
        return [f"{where}: page {record['page']!r}: {exc.message}"]
    if not path.is_file():
        return [f"{where}: page {record['page']!r} not found at {path}"]
    text = squash(path.read_text(encoding="utf-8"))
    for i, cap in enumerate(record["capabilities"]):
        label = f"{where} {record['tool']} capability {i} {cap.get('name')!r}"
        for key, kind in (("name", str), ("description", str), ("quotes", list), ("core", bool)):
            if not isinstance(cap.get(key), kind):
                problems.append(f"{label}: {key!r} must be a {kind.__name__}")
        words = len(str(cap.get("name", "")).split())
        if not 1 <= words <= 8:
            problems.append(f"{label}: a name has 1 to 8 words")
        for quote in cap.get("quotes") or []:
            if squash(quote) not in text:
                problems.append(f"{label}: quote not in the page: {quote!r}")
        if not cap.get("quotes"):
            problems.append(f"{label}: needs at least one quote")
    for i, trap in enumerate(record["traps"]):
        label = f"{where} {record['tool']} trap {i}"
        if trap.get("kind") not in KINDS:
            problems.append(f"{label}: kind {trap.get('kind')!r} is not one of {sorted(KINDS)}")
        if squash(str(trap.get("quote", ""))) not in text:
            problems.append(f"{label}: quote not in the page: {trap.get('quote')!r}")
    return problems


def main(paths: list[str]) -> int:
    problems: list[str] = []
    pages = 0
    for name in paths:
        path = Path(name)
        base = path.resolve().parent
        if path.suffix == ".json":
            records = [(json.loads(path.read_text(encoding="utf-8")), name)]
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
            records = [(json.loads(line), f"{name}:{n}") for n, line in enumerate(lines, 1) if line.strip()]
        for record, where in records:
            pages += 1
            problems += check_record(record, base, where)
    for problem in problems:
        print(problem)
    print(f"{pages} pages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
