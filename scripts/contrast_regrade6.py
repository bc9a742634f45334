# ruff: noqa: E501  (a grading record: its hand-written notes are kept on one line each)
"""Round-6 grading of contrast lines (issue 11 regrade 6), a delta on round 5.

  python scripts/contrast_regrade6.py build  > docs/eval/contrast-lines-graded-6.jsonl
  python scripts/contrast_regrade6.py table

build: one row per line of /work/c4/round6-todo.jsonl (the 21 README lines of the final code that are new
or changed relative to round 5), graded by hand (G below). table: rates over ALL non-empty lines of the
final dumps /work/c4/demo11.jsonl and /work/c4/vd11.jsonl; a line whose (tool, capability, kind, text)
equals a round-5 row takes that row's grade, the 21 take G.
"""

import json
import math
import sys
from collections import defaultdict
from pathlib import Path

G = {
    ("django", "vs_alternatives"): (
        True,
        "",
        "same text as round 5's silenced line (useful), same alternatives (flask, fastapi): FastAPI's type-hint API; django's page has no type|hint|annotat. Round-5 grade still applies",
    ),
    ("dramatiq", "vs_alternatives"): (
        True,
        "",
        "same text as round 5's silenced line (useful): Procrastinate is PostgreSQL-based; dramatiq's page names only RabbitMQ and Redis. Round-5 grade still applies",
    ),
    ("fastapi", "unique", "Convert"): (
        False,
        "C",
        "same text as round 5's 'Deeply nested JSON objects' line (C), now on a renamed capability, same peer set: Sanic's page shows `from sanic.response import json` and ujson, Starlette's JSONResponse; JSON is common to web frameworks",
    ),
    ("fastapi", "unique", "Security"): (
        True,
        "",
        "borderline: OAuth2 with JWT tokens (and HTTP Basic) stated; sanic, starlette, litestar pages state no OAuth/JWT/authentication (grep auth|oauth|jwt|security|session: Starlette 'Session and Cookie support', Litestar 'authorization primitives'/route guards - authorization, not authentication). Caveat: Litestar in fact ships JWT/OAuth2 security backends, not on its README",
    ),
    ("fastapi", "unique", "GraphQL"): (
        True,
        "",
        "GraphQL via Strawberry; no sanic/starlette/litestar page (nor flask, django) mentions graphql|strawberry",
    ),
    ("httplib2", "unique", "Caching"): (
        True,
        "",
        "peers now urllib3, httpx, requests (pycurl -> requests): none has cach|etag|last-modified; HTTP caching with Cache-Control/ETag, as round 5 graded the same text with pycurl",
    ),
    ("httpx", "unique", "Integrated"): (
        True,
        "",
        "async API added to round 5's CLI line: requests, urllib3, httplib2 pages have no async|await|command line (aiohttp, async, is not named)",
    ),
    ("httpx", "vs_alternatives", "Integrated"): (
        True,
        "",
        "round 5's HTTP/2 + CLI line plus async API: requests' page has no async, HTTP/2 or CLI; true and specific",
    ),
    ("httpx", "vs_alternatives", "Chunked"): (
        False,
        "C",
        "'retries and redirect handling': httpx's page does not mention either, but redirect handling is common to HTTP clients (httplib2 states it; httpx follows redirects) - one misleading half; retries alone would pass as in round 5's httplib2 vs urllib3. Also off the 'Chunked Requests' capability",
    ),
    ("huey", "unique", "Redis"): (
        True,
        "",
        "peers now procrastinate, rq and arq (arq added): arq is 'asyncio and redis', rq Redis/Valkey, procrastinate PostgreSQL; none states SQLite or in-memory storage",
    ),
    ("lancedb", "unique", "Comprehensive"): (
        True,
        "",
        "same peer set as round 5 (order only): SQL alongside vector and full-text search; weaviate, chroma, qdrant pages have no SQL (pgvector is not named). Round-5 grade still applies",
    ),
    ("lancedb", "unique", "Multimodal"): (
        True,
        "",
        "same peer set as round 5 (order only): no weaviate/chroma/qdrant page mentions video. Round-5 grade still applies",
    ),
    ("lancedb", "unique", "Rich"): (
        True,
        "",
        "same peer set as round 5 (order only): no arrow|pandas on weaviate, chroma, qdrant pages. Round-5 grade still applies",
    ),
    ("litestar", "unique", "Life"): (
        False,
        "C",
        "same peer set as round 5 (order only), round-5 grade C still applies: Litestar's own page says its hooks work 'similarly to Flask - i.e. before_request and after_request' (Flask a named peer); Starlette states startup/shutdown events",
    ),
    ("litestar", "vs_alternatives", "Route"): (
        False,
        "C",
        "on Litestar's authorization capability: says FastAPI has authentication which Litestar's page lacks - literally true on the page (no 'authent'), but Litestar's page states 'authorization primitives' and guards over the connection's user; a reader infers Litestar has no auth story (it ships authentication backends). Wording gap authorization/authentication; FastAPI's specific OAuth2/JWT point dropped",
    ),
    ("msgspec", "unique", "Fast"): (
        True,
        "",
        "same peer set as round 5 (order only): cerberus, pydantic, voluptuous state no TOML or MessagePack. Round-5 grade still applies",
    ),
    ("pycurl", "unique", "Built-in"): (
        True,
        "",
        "asyncio via AsyncCurlMulti; urllib3 and httplib2 pages have no async|asyncio|await (aiohttp, httpx not named as peers)",
    ),
    ("qdrant", "unique", "REST"): (
        True,
        "",
        "same peer set as round 5 (order only): OpenAPI 3.0 spec; weaviate, faiss, pgvector state none. Round-5 grade still applies",
    ),
    ("qdrant", "unique", "Write"): (
        False,
        "C",
        "same peer set as round 5 (order only), round-5 grade C still applies and is stronger: pgvector's page states 'pgvector uses the write-ahead log (WAL)' plus ACID and point-in-time recovery; persistence is common to databases, the WAL point is lost",
    ),
    ("qdrant", "unique", "Web"): (
        True,
        "",
        "same peer set as round 5 (order only): built-in web UI; weaviate only links a cloud console, faiss and pgvector none. Round-5 grade still applies",
    ),
    ("urllib3", "unique", "Helpers"): (
        True,
        "",
        "same peer set as round 5 (order only): httpx, httplib2, requests pages have no retr|retry. Round-5 grade still applies",
    ),
}


def grade(t):
    for k, v in G.items():
        if k[0] == t["tool"] and k[1] == t["kind"] and (len(k) < 3 or t["capability"].startswith(k[2])):
            return v
    raise KeyError(t)


CAT = {"demo": "/work/c4/demo11.jsonl", "vendor-docs": "/work/c4/vd11.jsonl"}
R5 = "docs/eval/contrast-lines-graded-5.jsonl"
TODO = "/work/c4/round6-todo.jsonl"


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 0.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (c - h, c + h)


def build():
    for line_ in Path(TODO).read_text().splitlines():
        t = json.loads(line_)
        u, c, n = grade(t)
        row = {
            "catalog": "vendor-docs",
            "kind": t["kind"],
            "tool": t["tool"],
            "capability": t["capability"],
            "line": t["line"],
            "same_text_graded_as": t["same_text_graded_as"],
            "useful": u,
            "cause": c,
            "note": n,
            "alternatives": t["alternatives"],
            "quotes": t["quotes"],
        }
        print(json.dumps(row, ensure_ascii=False))


def rows():
    r5 = defaultdict(list)
    for line_ in Path(R5).read_text().splitlines():
        r = json.loads(line_)
        r5[(r["catalog"], r["tool"], r["capability"], r["kind"], r["line"])].append(r)
    todo = {}
    for line_ in Path(TODO).read_text().splitlines():
        t = json.loads(line_)
        todo[(t["tool"], t["capability"], t["kind"], t["line"])] = t
    out = []
    for cat, path in CAT.items():
        for line_ in Path(path).read_text().splitlines():
            d = json.loads(line_)
            for kind in ("unique", "vs_alternatives"):
                text = d[kind]
                if not text:
                    continue
                k = (d["tool"], d["capability"], kind, text)
                if cat == "vendor-docs" and k in todo:
                    u, c, _ = grade(todo[k])
                    src = "r6"
                else:
                    m = r5.get((cat, *k))
                    assert m, ("unmatched", cat, k)
                    assert len({(x["useful"], x["cause"]) for x in m}) == 1, m
                    u, c, src = m[0]["useful"], m[0]["cause"], "r5-" + m[0]["set"]
                out.append((cat, kind, d["tool"], d["capability"], u, c, src))
    return out


def table():
    out = rows()
    src = defaultdict(int)
    for r in out:
        src[(r[0], r[6])] += 1
    print("sources:", dict(src))
    for cat in ("demo", "vendor-docs", "both"):
        for kind in ("unique", "vs_alternatives", "all"):
            sel = [r for r in out if (cat == "both" or r[0] == cat) and (kind == "all" or r[1] == kind)]
            k = sum(r[4] for r in sel)
            n = len(sel)
            lo, hi = wilson(k, n)
            print(f"{cat:12} {kind:16} {k}/{n} ({100 * k / max(n, 1):.0f}%, {100 * lo:.0f}-{100 * hi:.0f}%)")
    causes = defaultdict(int)
    for r in out:
        if not r[4]:
            causes[(r[1], r[5])] += 1
    print("causes:", dict(causes))
    # per-tool coverage
    tools = defaultdict(int)
    for r in out:
        tools[(r[0], r[2])] += 1
    print("tools with a line:", {c: sum(1 for t in tools if t[0] == c) for c in CAT})


if __name__ == "__main__":
    {"build": build, "table": table}[sys.argv[1]]()
