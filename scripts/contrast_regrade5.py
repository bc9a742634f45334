# ruff: noqa: E501  (a grading record: its hand-written notes are kept on one line each)
"""Round-5 grading of contrast lines as a delta on round 4 (issue 11 regrade 5).

  python scripts/contrast_regrade5.py build /work/c4/demo7.jsonl /work/c4/demo8.jsonl \
      /work/c4/vd7.jsonl /work/c4/vd8.jsonl docs/eval/contrast-lines-graded-4.jsonl > docs/eval/contrast-lines-graded-5.jsonl
  python scripts/contrast_regrade5.py table docs/eval/contrast-lines-graded-5.jsonl docs/eval/contrast-lines-graded-4.jsonl

build writes one row per non-empty line of the round-5 dumps (set "current") and one row per round-4
line that is now empty (set "silenced", round-4 grade only). A current line whose text (and, for vs
alternatives, alternatives list) equals the round-4 AFTER line of the same catalog/tool/capability/kind
reuses that grade ("status": "reused"); every other current line takes its grade from FRESH below,
graded by hand against the quotes and the compared tools' pages.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict

# (catalog, kind, tool, capability) -> (useful, cause, note); graded by hand in round 5.
FRESH = {
    ("demo", "vs_alternatives", "fetchwire", "Open-source Python library"): (
        True,
        "",
        "Pliant's page says it 'deliberately leaves out: async support' (table: Async API no); Fetchwire has "
        "AsyncClient. Ferrox (also an alternative, async too) correctly not named",
    ),
    ("demo", "unique", "lodestar-db", "Durability"): (
        True,
        "",
        "snapshots dropped (Driftwell's daily backups now match); WAL: Driftwell/Sextant state none, Sextant "
        "is a library without persistence. S3: Lodestar ships snapshots to S3-compatible storage; Driftwell's "
        "index data 'lives in object storage' internally (managed), not a user-facing S3 target - borderline, "
        "nothing false; 'Amazon S3' slightly overstates 'S3-compatible'",
    ),
    ("demo", "vs_alternatives", "pgtide", "Sync and asyncio workers"): (
        True,
        "",
        "PgTide has asyncio workers; EmberQ's concurrency model is forked processes plus an experimental "
        "thread worker, no asyncio. Relaywork (asyncio pool) correctly not named. 'async API' loosely words "
        "'asyncio workers'",
    ),
    ("vendor-docs", "vs_alternatives", "fastapi", "Modern, fast, web framework"): (
        True,
        "",
        "text unchanged from round 4 (useful); only the alternatives list changed (httpx, an HTTP client, "
        "dropped). Type-hint API, unlike sanic (and flask's page states none either)",
    ),
    ("vendor-docs", "unique", "litestar", "Life Cycle Hooks"): (
        False,
        "C",
        "Litestar's own quote says its hooks work 'similarly to Flask - i.e. before_request and after_request': "
        "Flask (a named peer) has them, its README just does not say so; Starlette states 'Startup and "
        "shutdown events'. Request hooks are common to the kind",
    ),
    ("vendor-docs", "vs_alternatives", "marvin", "Top-Level API"): (
        True,
        "",
        "instructor states Retry Management and Streaming Support; marvin's page has neither (grep retr/stream "
        "empty). Anchor quote 'Top of Pydantic' is odd but the claim is true",
    ),
    ("vendor-docs", "unique", "msgspec", "Fast serialization and validation library"): (
        True,
        "",
        "round 4 A fixed: peers now data-validation (cerberus, voluptuous, pydantic); none states TOML or "
        "MessagePack. YAML dropped (voluptuous: validates data 'coming into your program: JSON, YAML, etc.')",
    ),
    ("vendor-docs", "unique", "pycurl", "Including multiple protocol support"): (
        True,
        "",
        "round 4 A fixed (fastapi gone): libcurl callbacks; urllib3 and httplib2 pages state no hooks or callbacks",
    ),
    ("vendor-docs", "unique", "pycurl", "WebSockets"): (
        True,
        "",
        "recovers round 4's loss: ws:// / wss:// support; urllib3 and httplib2 pages state none (aiohttp, "
        "which has WebSockets, is not named)",
    ),
    ("vendor-docs", "vs_alternatives", "sanic", "Python 3.10+ web server and web"): (
        True,
        "",
        "text unchanged from round 4 (useful); alternatives list lost httpx. FastAPI's type-hint API; sanic's "
        "page has none",
    ),
    ("vendor-docs", "unique", "starlette", "Test client built"): (
        False,
        "C",
        "peers now all web frameworks (round 4's A gone) but still false: FastAPI (named) states 'extremely "
        "easy tests based on HTTPX and pytest' and a TestClient, 'thanks to Starlette'",
    ),
    ("vendor-docs", "unique", "starlette", "CORS, GZip, Static Files, Streaming responses"): (
        False,
        "C",
        "streaming responses are common to the kind: FastAPI's page says it gets 'many extra features (thanks "
        "to Starlette) ... and more' and is built on Starlette 'for the web parts'; Sanic and Litestar stream "
        "responses too (not on their READMEs). Judgement call: page-only check would pass",
    ),
    ("vendor-docs", "unique", "starlette", "100% test coverage"): (
        False,
        "C",
        "'100% test coverage' thinned to 'has unit tests', which every maintained framework has; FastAPI's "
        "page carries Test and Coverage badges, Sanic's a Tests badge. The real point (100%) is lost",
    ),
    ("vendor-docs", "unique", "xgrammar", "Languages"): (
        False,
        "C",
        "JavaScript added since round 4: instructor (named) states support in 'TypeScript "
        "(js.useinstructor.com), Ruby, Go, Elixir' - a JS/TS port, not matched as JavaScript. C++ and Swift "
        "are still true (round 4's useful grade on 'C++ and Swift' stands; its note 'Python-only' was loose)",
    ),
}


def _rows(path):
    return [json.loads(x) for x in open(path, encoding="utf-8") if x.strip()]


def build(d7, d8, v7, v8, prev):
    r4 = {(r["catalog"], r["kind"], r["tool"], r["capability"]): r for r in _rows(prev) if r["version"] == "after"}
    used = set()
    for cat, p7, p8 in (("demo", d7, d8), ("vendor-docs", v7, v8)):
        old, new = _rows(p7), _rows(p8)
        assert [(x["tool"], x["capability"]) for x in old] == [(x["tool"], x["capability"]) for x in new]
        for x, y in zip(old, new, strict=True):
            for kind in ("unique", "vs_alternatives"):
                key = (cat, kind, x["tool"], x["capability"])
                prevrow = r4.get(key)
                if x[kind]:
                    assert prevrow and prevrow["line"] == x[kind], key

                def alts(r: dict, kind: str = kind) -> list:
                    return r["alternatives"] if kind == "vs_alternatives" else []

                if y[kind]:
                    row = dict(
                        catalog=cat,
                        set="current",
                        kind=kind,
                        tool=y["tool"],
                        category=y["category"],
                        capability=y["capability"],
                        commit="437872b",
                        line=y[kind],
                    )
                    if x[kind] == y[kind] and alts(x) == alts(y):
                        row.update(
                            status="reused", useful=prevrow["useful"], cause=prevrow["cause"], note=prevrow["note"]
                        )
                    else:
                        useful, cause, note = FRESH[key]
                        used.add(key)
                        row.update(
                            status="changed" if x[kind] else "new",
                            useful=useful,
                            cause=cause,
                            note=note,
                            round4_line=x[kind],
                            round4_useful=prevrow["useful"] if prevrow else None,
                            round4_cause=prevrow["cause"] if prevrow else "",
                        )
                    row.update(alternatives=alts(y), quotes=y["quotes"])
                elif x[kind]:
                    row = dict(
                        catalog=cat,
                        set="silenced",
                        kind=kind,
                        tool=x["tool"],
                        category=x["category"],
                        capability=x["capability"],
                        commit="f76e507",
                        line=x[kind],
                        status="silenced",
                        useful=prevrow["useful"],
                        cause=prevrow["cause"],
                        note=prevrow["note"],
                        alternatives=alts(x),
                        quotes=x["quotes"],
                    )
                else:
                    continue
                print(json.dumps(row, ensure_ascii=False))
    assert used == set(FRESH), set(FRESH) - used


def _ci(k, n):
    if not n:
        return "-"
    z, p = 1.96, k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return f"{k}/{n} ({100 * p:.0f}%, {100 * (c - h):.0f}–{100 * (c + h):.0f}%)"


def table(cur, prev):
    rows = _rows(cur)
    r4 = [r for r in _rows(prev) if r["version"] == "after" and r["set"] == "after"]
    for label, pick in (
        ("current (round 5)", lambda r: r["set"] == "current"),
        ("fresh only", lambda r: r["set"] == "current" and r["status"] != "reused"),
        ("silenced (round-4 grade)", lambda r: r["set"] == "silenced"),
    ):
        print("##", label)
        for cat in ("demo", "vendor-docs", "both"):
            for kind in ("unique", "vs_alternatives", "both"):
                sel = [r for r in rows if pick(r) and cat in ("both", r["catalog"]) and kind in ("both", r["kind"])]
                old = [r for r in r4 if cat in ("both", r["catalog"]) and kind in ("both", r["kind"])]
                causes = defaultdict(int)
                for r in sel:
                    if not r["useful"]:
                        causes[r["cause"]] += 1
                print(
                    f"| {cat} | {kind} | {_ci(sum(r['useful'] for r in sel), len(sel))} | "
                    f"{_ci(sum(r['useful'] for r in old), len(old))} | {dict(sorted(causes.items()))} |"
                )


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build(*sys.argv[2:7])
    else:
        table(*sys.argv[2:4])
