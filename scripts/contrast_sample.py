"""Draw the hand-graded sample of contrast lines, and tabulate the grades.

  sample:  python scripts/contrast_sample.py sample BEFORE.jsonl AFTER.jsonl CATALOG --n 30 --seed 11 >> sheet.jsonl
  table:   python scripts/contrast_sample.py table docs/eval/contrast-lines-graded.jsonl
  lines:   python scripts/contrast_sample.py lines docs/eval/contrast-lines-graded.jsonl   (Markdown, every line)

BEFORE and AFTER are `capmatch eval contrast --lines` dumps of the same data set by the old and the
new code (same extractor, so the same capabilities). For each kind (unique, vs_alternatives) the sample
is N capabilities drawn at random (fixed seed) among those present in both dumps whose new line is not
empty, so the same capability is graded before and after. A grader fills "before_useful" and
"after_useful" (true/false) and a note; an empty line is not a line, and coverage is reported apart.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path


def _load(path: Path) -> dict[tuple[str, str], dict[str, object]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(str(r["tool"]), str(r["capability"])): r for r in rows}


def sample(before: Path, after: Path, catalog: str, n: int, seed: int) -> None:
    old, new = _load(before), _load(after)
    shared = sorted(set(old) & set(new))
    rng = random.Random(seed)
    for kind in ("unique", "vs_alternatives"):
        pool = [k for k in shared if new[k][kind]]
        for key in rng.sample(pool, min(n, len(pool))):
            row = {
                "catalog": catalog,
                "kind": kind,
                "tool": key[0],
                "capability": key[1],
                "quotes": new[key]["quotes"],
                "alternatives": new[key]["alternatives"],
                "before": old[key][kind],
                "after": new[key][kind],
                "before_useful": None,
                "after_useful": None,
                "note": "",
            }
            print(json.dumps(row, ensure_ascii=False))
    for kind in ("unique", "vs_alternatives"):
        covered = (sum(bool(old[k][kind]) for k in shared), sum(bool(new[k][kind]) for k in shared))
        print(
            json.dumps(
                {
                    "catalog": catalog,
                    "coverage": kind,
                    "capabilities": len(shared),
                    "before": covered[0],
                    "after": covered[1],
                }
            )
        )


def table(sheet: Path) -> None:
    rows = [json.loads(line) for line in sheet.read_text(encoding="utf-8").splitlines() if line.strip()]
    graded = [r for r in rows if "kind" in r]
    print("| Catalog | Line | Graded | Useful before | Useful after |")
    print("|---|---|---|---|---|")
    for catalog in [*sorted({r["catalog"] for r in graded}), "both"]:
        for kind in ("unique", "vs_alternatives"):
            part = [r for r in graded if r["kind"] == kind and catalog in (r["catalog"], "both")]
            if not part:
                continue
            before = sum(bool(r["before_useful"]) for r in part)
            after = sum(bool(r["after_useful"]) for r in part)
            print(
                f"| {catalog} | {kind} | {len(part)} | {before} ({before / len(part):.0%}) "
                f"| {after} ({after / len(part):.0%}) |"
            )
    for r in rows:
        if "coverage" in r:
            print(
                f"\nCoverage, {r['catalog']}, {r['coverage']}: {r['before']} of {r['capabilities']} capabilities "
                f"had a line before, {r['after']} after.",
                end="",
            )
    print()


def lines(sheet: Path) -> None:
    rows = [json.loads(line) for line in sheet.read_text(encoding="utf-8").splitlines() if line.strip()]

    def mark(value: object) -> str:
        return "useful" if value else "not useful"

    for r in (r for r in rows if "kind" in r):
        print(f"- **{r['catalog']} · {r['kind']} · {r['tool']} · “{r['capability']}”**")
        print(f"  - before ({mark(r['before_useful'])}): {r['before']}")
        print(f"  - after ({mark(r['after_useful'])}): {r['after']}")
        if r.get("note"):
            print(f"  - note: {r['note']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sample")
    s.add_argument("before", type=Path)
    s.add_argument("after", type=Path)
    s.add_argument("catalog")
    s.add_argument("--n", type=int, default=30)
    s.add_argument("--seed", type=int, default=11)
    for name in ("table", "lines"):
        sub.add_parser(name).add_argument("sheet", type=Path)
    args = parser.parse_args()
    if args.command == "sample":
        sample(args.before, args.after, args.catalog, args.n, args.seed)
    elif args.command == "table":
        table(args.sheet)
    else:
        lines(args.sheet)
