# ruff: noqa: E501  (a grading record: its hand-written notes are kept on one line each)
"""Round-4 grading sheet for contrast lines (issue 11 regrade 4).

  sheet:  python scripts/contrast_regrade4.py sheet BEFORE.jsonl AFTER.jsonl CATALOG --prev docs/eval/contrast-lines-graded-3.jsonl --seed 23 --n 20
  table:  python scripts/contrast_regrade4.py table docs/eval/contrast-lines-graded-4.jsonl

sheet prints one row per line to grade:
  set "after":    every non-empty AFTER line (unique and vs_alternatives), version "after";
                  plus the same capability's BEFORE line if non-empty, version "before";
  set "silenced": every BEFORE vs_alternatives line whose AFTER line is empty, and a random sample
                  (random.Random(seed), per catalog) of N BEFORE Unique lines whose AFTER line is empty.
A row whose text and catalog/tool/capability/kind match a round-3 graded line gets that grade prefilled
("reused_from_round3": true). Rows carry "compared": the tool names the line names, and "other_kind":
those of another category than the tool.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path


def _load(path: Path) -> dict[tuple[str, str], dict]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {(r["tool"], r["capability"]): r for r in rows}


def _names(rows: dict) -> dict[str, str]:
    out = {}
    for r in rows.values():
        out[r["tool_name"].lower()] = r["category"]
        out[r["tool"].lower()] = r["category"]
    return out


def _compared(line: str, cats: dict[str, str], own: str) -> list[str]:
    low = line.lower()
    found = [n for n in cats if n != own.lower() and re.search(r"(?<![\w-])" + re.escape(n) + r"(?![\w-])", low)]
    # drop names contained in longer found names (lodestar vs lodestar db)
    return sorted({n for n in found if not any(n != m and n in m for m in found)})


def sheet(before: Path, after: Path, catalog: str, prev: Path | None, seed: int, n: int) -> None:
    old, new = _load(before), _load(after)
    cats = {**_names(old), **_names(new)}
    graded = {}
    if prev:
        for x in prev.read_text(encoding="utf-8").splitlines():
            if x.strip():
                g = json.loads(x)
                if "kind" in g:
                    graded[(g["catalog"], g["kind"], g["tool"], g["capability"], g["line"])] = g
    keys = sorted(set(old) | set(new))

    def row(key, kind, version, src, sset):
        r = src[key]
        line = r[kind]
        own_cat = r["category"]
        comp = _compared(line, cats, r["tool_name"])
        out = {
            "catalog": catalog,
            "set": sset,
            "kind": kind,
            "tool": key[0],
            "capability": key[1],
            "version": version,
            "category": own_cat,
            "line": line,
            "compared": comp,
            "other_kind": [c for c in comp if cats.get(c) != own_cat],
            "quotes": r["quotes"],
            "alternatives": r["alternatives"],
            "useful": None,
            "cause": "",
            "note": "",
            "reused_from_round3": False,
        }
        g = graded.get((catalog, kind, key[0], key[1], line))
        if g:
            out.update(useful=g["useful"], cause=g["cause"], note=g["note"], reused_from_round3=True)
        print(json.dumps(out, ensure_ascii=False))

    for kind in ("unique", "vs_alternatives"):
        for key in keys:
            if key in new and new[key][kind]:
                row(key, kind, "after", new, "after")
                if key in old and old[key][kind]:
                    row(key, kind, "before", old, "after")
    silenced_vs = [
        k for k in keys if k in old and old[k]["vs_alternatives"] and not (k in new and new[k]["vs_alternatives"])
    ]
    for key in silenced_vs:
        row(key, "vs_alternatives", "before", old, "silenced")
    pool = [k for k in keys if k in old and old[k]["unique"] and not (k in new and new[k]["unique"])]
    rng = random.Random(seed)
    for key in rng.sample(pool, min(n, len(pool))):
        row(key, "unique", "before", old, "silenced")
    cov = {
        kind: {
            "before": sum(bool(old[k][kind]) for k in old),
            "after": sum(bool(new[k][kind]) for k in new),
            "capabilities": len(new),
        }
        for kind in ("unique", "vs_alternatives")
    }
    print(
        json.dumps(
            {"catalog": catalog, "coverage": cov, "silenced_unique_pool": len(pool), "silenced_vs": len(silenced_vs)}
        )
    )


def _ci(k: int, n: int) -> str:
    if not n:
        return "–"
    import math

    z = 1.96
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return f"{max(0, c - h):.0%}–{min(1, c + h):.0%}"


def table(path: Path) -> None:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if "kind" in r]

    def cell(part):
        k = sum(bool(r["useful"]) for r in part)
        return f"{k}/{len(part)} ({k / len(part):.0%}, {_ci(k, len(part))})" if part else "–"

    print("| Catalog | Line | AFTER useful | BEFORE useful (same caps, non-empty) | Silenced BEFORE useful |")
    print("|---|---|---|---|---|")
    for cat in ("demo", "vendor-docs", "both"):
        for kind in ("unique", "vs_alternatives", "both"):
            sel = [r for r in rows if cat in (r["catalog"], "both") and kind in (r["kind"], "both")]
            a = [r for r in sel if r["set"] == "after" and r["version"] == "after"]
            b = [r for r in sel if r["set"] == "after" and r["version"] == "before"]
            s = [r for r in sel if r["set"] == "silenced"]
            print(f"| {cat} | {kind} | {cell(a)} | {cell(b)} | {cell(s)} |")
    print()
    print("| Cause | AFTER Unique | AFTER vs | AFTER all | BEFORE (same caps) | Silenced |")
    print("|---|---|---|---|---|---|")
    for c in "ABCD":

        def f(r: dict, c: str = c) -> bool:
            return r["useful"] is False and r["cause"] == c

        a = [r for r in rows if r["set"] == "after" and r["version"] == "after" and f(r)]
        print(
            f"| {c} | {sum(r['kind'] == 'unique' for r in a)} | {sum(r['kind'] != 'unique' for r in a)} | {len(a)} | "
            f"{sum(f(r) for r in rows if r['set'] == 'after' and r['version'] == 'before')} | "
            f"{sum(f(r) for r in rows if r['set'] == 'silenced')} |"
        )


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sheet")
    s.add_argument("before", type=Path)
    s.add_argument("after", type=Path)
    s.add_argument("catalog")
    s.add_argument("--prev", type=Path)
    s.add_argument("--seed", type=int, default=23)
    s.add_argument("--n", type=int, default=20)
    sub.add_parser("table").add_argument("sheet", type=Path)
    a = p.parse_args()
    if a.command == "sheet":
        sheet(a.before, a.after, a.catalog, a.prev, a.seed, a.n)
    else:
        table(a.sheet)
