#!/usr/bin/env python3
"""Build a labelled mid-length "similar tools" evaluation set from PyPI long descriptions.

Stdlib only.  Takes the tools of the awesome-python list (the labelled one-liner set,
fields name/url/description/category), resolves each to its PyPI project, and keeps the
opening prose of the project's long description (its README as uploaded to PyPI).  The
category is the awesome-python category (labels nobody here wrote); the text is the
maintainers' own, not the awesome list's one-liner.  Writes JSONL records:

    {"name", "description", "category", "url", "pypi", "words"}

relevance = same "category".

    python3 scripts/build_pypi_mid.py --src ../shared/data/awesome-python.jsonl \
        --cache /work/middata/pypi-cache --out /work/middata/awesome-python-mid.jsonl

Downloads https://pypi.org/pypi/<name>/json (PyPI's JSON API) at most once per name:
every answer (404s too) is cached under --cache, so reruns do not refetch; at most
--workers (default 4) requests at a time.

Selection rule (all deterministic):
  1. Candidate PyPI names: the entry's name, then the GitHub repository name of its url.
  2. A candidate is accepted only if one of its project_urls / home_page / download_url
     points at the same GitHub owner/repo as the entry's url (case-insensitive; a
     sub-path such as /tree/main counts), so a same-named unrelated project is not taken.
     Entries without a GitHub url are dropped.
  3. Long description -> prose (markdown, reStructuredText and plain text): drop code
     blocks (fenced, indented, rst "::" and code/literal directives), HTML, images and
     badges, rst directives and substitutions, tables, headings (they end a paragraph),
     GitHub admonitions ("> [!NOTE]"), lines made only of links/URLs/badges and
     navigation bars ("English | Español | ..."), and whole sections under headings such
     as Installation, Usage, Example, License, Contributing, Table of contents; links keep
     their text, inline markup keeps its words.  Paragraphs whose lines look like shell
     or Python sessions, with fewer than MIN_PARA_WORDS words, or with boilerplate
     (licence, AUTHORS file, mailing list, pull requests, "star the repo", how to run
     the tests) are dropped.
  4. Keep the first paragraphs until the text has at least MIN_WORDS words; if a
     paragraph would take it past MAX_WORDS, cut at the last sentence end within
     MAX_WORDS (or at MAX_WORDS words if there is none).  Fewer than MIN_WORDS in the
     whole description: the tool is dropped.
  5. One record per PyPI project (first entry in file order) and per entry name.
  6. Near-duplicate texts (Jaccard of word 3-shingles >= DUP_JACCARD): keep the first.
  7. Categories with fewer than MIN_PER_CAT tools are dropped.
Output is sorted by (category, name); a .meta.json next to it gives the counts and the
reasons tools were dropped.

(For issue 11, item 6: a second mid-length labelled set, independent of the Debian one; on
2026-12-01, 128 tools in 10 categories, 50-167 words (median 66); `capmatch eval similar`:
MiniLM whole-text P@5 0.521 / nDCG@10 0.460, BM25 0.417 / 0.375.  It shares tools and
categories with the awesome-python one-liner set: `capmatch eval fusion` holds the two out
together.)
"""

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

MIN_WORDS, MAX_WORDS = 50, 200
MIN_PER_CAT = 8
MIN_PARA_WORDS = 6
DUP_JACCARD = 0.5
USER_AGENT = "capmatch-eval-builder/1 (build_pypi_mid.py; labelled evaluation set)"

SKIP_SECTION = re.compile(
    r"^\W*(installation|installing|install|setup|getting started|quick ?start|quick start guide|"
    r"usage|basic usage|example|examples|demo|tutorial|requirements|dependencies|prerequisites|"
    r"license|licence|copyright|contributing|contribute|contributors|development|building|"
    r"changelog|change log|changes|history|release notes|what's new|news|"
    r"table of contents|contents|toc|documentation|docs|links|support|community|authors?|"
    r"credits|acknowledge?ments?|sponsors?|citation|citing|faq|status|badges|testing|tests|"
    r"running tests|api|api reference|reference|screenshots?|benchmarks?|roadmap|todo|"
    r"security|code of conduct|help|contact|donate|funding|related projects|see also)\W*$",
    re.I,
)

GITHUB = re.compile(r"github\.com[/:]([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)", re.I)


def github_repo(url):
    m = GITHUB.search(url or "")
    if not m:
        return None
    owner, repo = m.group(1).lower(), m.group(2).lower()
    if repo.endswith(".git"):
        repo = repo[:-4]
    return owner, repo


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def fetch(name, cache):
    """PyPI JSON for ``name`` (None if not found), cached on disk."""
    path = os.path.join(cache, normalise(name) + ".json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return None if data.get("_status") else data
    url = f"https://pypi.org/pypi/{urllib.parse.quote(name)}/json"
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
    for attempt in range(3):
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                data = json.load(resp)
            # the release list is large and unused: keep info only
            data = {"info": data.get("info", {})}
            break
        except urllib.error.HTTPError as e:
            if e.code == 404:
                data = {"_status": 404}
                break
            if attempt == 2:
                raise
        except (urllib.error.URLError, TimeoutError):
            if attempt == 2:
                raise
        time.sleep(2 * (attempt + 1))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)
    return None if data.get("_status") else data


def project_repos(info):
    urls = [info.get("home_page"), info.get("download_url"), info.get("project_url")]
    urls += list((info.get("project_urls") or {}).values())
    return {r for r in (github_repo(u) for u in urls if u) if r}


# ---------------------------------------------------------------- text cleaning

HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
HTML_BLOCK = re.compile(r"<(picture|table|pre|script|style|details|svg)\b.*?</\1\s*>", re.S | re.I)
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]")
MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
MD_REFDEF = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$")
RST_LINK = re.compile(r"`([^`<]*?)\s*<[^>]*>`__?")
RST_ROLE = re.compile(r":[A-Za-z:+-]+:`([^`]*)`")
RST_REF = re.compile(r"`([^`]+)`__?")
RST_SUBST = re.compile(r"\|[^|\s][^|]*\|_{0,2}")
INLINE_CODE = re.compile(r"``?([^`]+)``?")
EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
URL = re.compile(r"https?://\S+|www\.\S+")
UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+_.:])\1{2,}\s*$")
MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
RST_DIRECTIVE = re.compile(r"^\.\.\s")
BULLET = re.compile(r"^\s*([*+\-\u2022]|\d+[.)])\s+")
CODEY = re.compile(r"^\s*(\$ |>>> |\.\.\. |pip3? install|python3? -m|conda install|import |from \S+ import|#!)")


def lines_to_blocks(text):
    """Split cleaned lines into ("para", text) and ("heading", text) blocks."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    raw = HTML_COMMENT.sub("", raw)
    raw = HTML_BLOCK.sub("\n", raw)
    raw = HTML_TAG.sub(" ", raw)  # tags may span lines (<img src=...\n alt=...>)
    lines = raw.split("\n")
    blocks, cur = [], []

    def flush():
        if cur:
            blocks.append(("para", list(cur)))
            cur.clear()

    i = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        s = line.strip()
        nxt = lines[i + 1] if i + 1 < n else ""
        # fenced code block
        if FENCE.match(line):
            flush()
            fence = FENCE.match(line).group(1)
            i += 1
            while i < n and not lines[i].strip().startswith(fence):
                i += 1
            i += 1
            continue
        # rst directive (image, code-block, note, ...) with its indented body
        if RST_DIRECTIVE.match(line):
            flush()
            i += 1
            while i < n and (not lines[i].strip() or lines[i].startswith(" ")):
                i += 1
            continue
        # rst heading with overline: ===\nTitle\n===
        if UNDERLINE.match(line) and nxt.strip() and i + 2 < n and UNDERLINE.match(lines[i + 2]):
            flush()
            blocks.append(("heading", nxt.strip()))
            i += 3
            continue
        # setext / rst heading: Title\n=====
        if s and not cur and UNDERLINE.match(nxt) and len(nxt.strip()) >= max(3, len(s) // 2):
            flush()
            blocks.append(("heading", s))
            i += 2
            continue
        m = MD_HEADING.match(line)
        if m and line.lstrip().startswith("#"):
            flush()
            blocks.append(("heading", m.group(1)))
            i += 1
            continue
        if not s:
            flush()
            i += 1
            continue
        if UNDERLINE.match(line) or (s.startswith("|") and s.endswith("|") and s.count("|") > 2):
            flush()  # horizontal rule or table row
            i += 1
            continue
        if re.match(r"^\s*\|?\s*:?-{3,}", s) and "|" in s:
            i += 1
            continue
        if MD_REFDEF.match(line):
            i += 1
            continue
        if line.startswith("    ") and not cur:
            # indented code block (markdown) or literal block (rst)
            while i < n and (not lines[i].strip() or lines[i].startswith("    ")):
                i += 1
            continue
        cur.append(s)
        i += 1
        if s.endswith("::"):  # a paragraph ending in "::" introduces an indented literal block
            flush()
            while i < n and not lines[i].strip():
                i += 1
            while i < n and (not lines[i].strip() or lines[i].startswith(" ")):
                i += 1
    flush()
    return blocks


FOOTNOTE = re.compile(r"\[\[[^\]]*\]\]\([^)]*\)")
# boilerplate that is not a description of the tool (authors, licence, tests, calls to star)
BOILER = re.compile(
    r"^licen[cs]e:|\bLICEN[CS]E file\b|\bAUTHORS file\b|mailing list|pull requests?\b|:star:|"
    r"\btests can be run\b|\brequires pytest\b|\bsponsor(ed)? by\b",
    re.I,
)


def inline(s):
    s = FOOTNOTE.sub(" ", s)
    s = MD_IMAGE.sub(" ", s)
    s = RST_SUBST.sub(" ", s)
    s = HTML_TAG.sub(" ", s)
    s = MD_LINK.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), s)
    s = RST_LINK.sub(r"\1", s)
    s = RST_ROLE.sub(r"\1", s)
    s = RST_REF.sub(r"\1", s)
    s = INLINE_CODE.sub(r"\1", s)
    s = EMPHASIS.sub(r"\2", s)
    s = re.sub(r"&nbsp;|&#\d+;|&[a-z]+;", " ", s)
    s = re.sub(r"::$", ":", s)
    return re.sub(r"\s+", " ", s).strip()


def prose_words(s):
    return re.findall(r"[A-Za-z][A-Za-z'’-]*", URL.sub(" ", s))


RST_REF_WHOLE = re.compile(r"`[^`]+`__?")
MD_LINK_WHOLE = re.compile(r"\[[^\]]*\]\([^)]*\)|\[[^\]]*\]\[[^\]]*\]")


def links_only(line):
    """A line that is only links, badges or URLs (a link's own text does not count as prose),
    or a navigation bar ("English | Español | ...")."""
    if line.count(" | ") >= 2 or line.count("·") >= 2:
        return True
    t = MD_IMAGE.sub(" ", line)
    t = MD_LINK_WHOLE.sub(" ", t)
    t = RST_LINK.sub(" ", t)
    t = RST_REF_WHOLE.sub(" ", t)
    t = RST_SUBST.sub(" ", t)
    t = URL.sub(" ", t)
    if t == line:
        return False
    return len(prose_words(BULLET.sub("", t))) <= 3


def clean_paragraph(lines):
    """Cleaned paragraph text, or None if it is not prose."""
    if sum(bool(CODEY.match(x)) for x in lines) * 2 >= len(lines):
        return None
    if lines[0].startswith("> [!"):
        return None  # a GitHub admonition (news, warnings)
    lines = [re.sub(r"^>\s?", "", x) for x in lines]
    kept = []
    for x in lines:
        if CODEY.match(x):
            continue
        if links_only(x):
            continue  # "Docs: https://...", a row of badges, a list of links
        t = inline(BULLET.sub("", x) if BULLET.match(x) else x)
        if not prose_words(t):
            continue
        kept.append(("- " + t) if BULLET.match(x) else t)
    if not kept:
        return None
    text = "\n".join(kept) if any(k.startswith("- ") for k in kept) else " ".join(kept)
    text = URL.sub("", text)
    text = re.sub(r"[ \t]+", " ", text).strip()
    text = re.sub(r"\(\s*\)", "", text)
    if len(prose_words(text)) < MIN_PARA_WORDS or BOILER.search(text):
        return None
    return text


def opening_prose(description):
    """The opening prose of a long description: (text, word count) or (None, words found)."""
    paras, skipping, total = [], False, 0
    for kind, body in lines_to_blocks(description or ""):
        if kind == "heading":
            skipping = bool(SKIP_SECTION.match(inline(body)))
            if paras and total >= MIN_WORDS:
                break
            continue
        if skipping:
            continue
        text = clean_paragraph(body)
        if text is None:
            continue
        n = len(text.split())
        if total + n > MAX_WORDS:
            if total >= MIN_WORDS:
                break
            text = cut(text, MAX_WORDS - total)
            n = len(text.split())
        paras.append(text)
        total += n
        if total >= MIN_WORDS:  # the opening is long enough: stop at the end of this paragraph
            break
    if total < MIN_WORDS:
        return None, total
    return "\n\n".join(paras), total


def cut(text, limit):
    w = text.split()
    if len(w) <= limit:
        return text
    head = " ".join(w[:limit])
    m = re.search(r"^(.*[.!?])(\s|$)", head, re.S)
    if m and len(m.group(1).split()) >= limit // 2:
        return m.group(1)
    return head


def shingles(s, k=3):
    w = re.findall(r"[a-z0-9]+", s.lower())
    return {" ".join(w[i : i + k]) for i in range(max(1, len(w) - k + 1))}


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default="../shared/data/awesome-python.jsonl")
    ap.add_argument("--cache", default="/work/middata/pypi-cache")
    ap.add_argument("--out", default="awesome-python-mid.jsonl")
    ap.add_argument("--min", type=int, default=MIN_PER_CAT)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("-v", action="store_true", help="print filter stats")
    a = ap.parse_args()
    if a.workers > 4:
        sys.exit("at most 4 parallel requests")
    os.makedirs(a.cache, exist_ok=True)

    with open(a.src, encoding="utf-8") as f:
        entries = [json.loads(line) for line in f if line.strip()]

    # candidate names per entry, fetched once each
    cands = []
    for e in entries:
        repo = github_repo(e.get("url"))
        names = []
        for n in (e.get("name"), repo[1] if repo else None):
            if n and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", n) and normalise(n) not in map(normalise, names):
                names.append(n)
        cands.append((e, repo, names))
    todo = sorted({normalise(n) for _, repo, names in cands if repo for n in names})
    with ThreadPoolExecutor(max_workers=a.workers) as pool:
        fetched = dict(zip(todo, pool.map(lambda n: fetch(n, a.cache), todo), strict=True))

    why = Counter()
    shortfall = []
    records, seen_project, seen_name = [], set(), set()
    for e, repo, names in cands:
        if not repo:
            why["no-github-url"] += 1
            continue
        info = None
        for n in names:
            data = fetched.get(normalise(n))
            if data and repo in project_repos(data["info"]):
                info = data["info"]
                break
        if info is None:
            found_any = any(fetched.get(normalise(n)) for n in names)
            why["pypi-other-repo" if found_any else "not-on-pypi"] += 1
            continue
        project = normalise(info.get("name") or "")
        if project in seen_project or normalise(e["name"]) in seen_name:
            why["duplicate"] += 1
            continue
        text, n = opening_prose(info.get("description"))
        if text is None:
            why["short"] += 1
            shortfall.append(n)
            continue
        seen_project.add(project)
        seen_name.add(normalise(e["name"]))
        records.append(
            {
                "name": e["name"],
                "description": text,
                "category": e["category"],
                "url": e.get("url"),
                "pypi": info.get("name"),
                "words": n,
            }
        )

    kept, kept_sh = [], []
    for r in records:
        sh = shingles(r["description"])
        if any(len(sh & o) / len(sh | o) >= DUP_JACCARD for o in kept_sh):
            why["near-dup"] += 1
            continue
        kept.append(r)
        kept_sh.append(sh)

    per = defaultdict(list)
    for r in kept:
        per[r["category"]].append(r)
    out = []
    for cat in sorted(per):
        if len(per[cat]) < a.min:
            why["small-category"] += len(per[cat])
            continue
        out.extend(per[cat])
    out.sort(key=lambda r: (r["category"], r["name"].lower()))

    with open(a.out, "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = sorted(r["words"] for r in out)
    meta = {
        "source": os.path.basename(a.src),
        "entries": len(entries),
        "min_per_category": a.min,
        "words": [MIN_WORDS, MAX_WORDS],
        "resolved_with_text": len(kept),
        "available_per_category": {c: len(v) for c, v in sorted(per.items())},
        "written_per_category": dict(sorted(Counter(r["category"] for r in out).items())),
        "word_count": {
            "min": counts[0] if counts else 0,
            "median": counts[len(counts) // 2] if counts else 0,
            "mean": round(sum(counts) / len(counts), 1) if counts else 0,
            "max": counts[-1] if counts else 0,
        },
        "dropped": dict(why),
        "n": len(out),
    }
    with open(os.path.splitext(a.out)[0] + ".meta.json", "w") as f:
        json.dump(meta, f, indent=1)
    if a.v:
        print(json.dumps(meta, indent=1))
    print(f"wrote {len(out)} records in {len(meta['written_per_category'])} categories to {a.out}")


if __name__ == "__main__":
    main()
