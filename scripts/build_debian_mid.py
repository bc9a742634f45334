#!/usr/bin/env python3
"""Build a labelled mid-length "similar tools" evaluation set from Debian metadata.

Stdlib only.  Reads the apt index files of one Debian suite (binary Packages +
i18n Translation-en), selects end-user programs from a fixed set of functional
Sections, and writes JSONL records:

    {"name", "description", "category", "url", "summary", "source", "section"}

relevance = same "category".

Prerequisite (the default apt config on this machine has Acquire::Languages
"none", so Translation-en -- which holds the *long* descriptions -- is not
downloaded; Packages only carries the one-line synopsis + Description-md5):

    mkdir -p /tmp/apt-lists/partial
    apt-get update -o Acquire::Languages=en -o Dir::State::Lists=/tmp/apt-lists
    python3 scripts/build_debian_mid.py --lists /tmp/apt-lists --out debian-mid.jsonl

(For issue 11: a mid-length labelled set, 1,300 tools in 16 categories, 50-200 words each; on
2026-11-30 MiniLM whole-text P@5 0.667, BM25 0.564, TF-IDF 0.570. Not yet wired into eval similar.)

Compressed index files (.lz4 on this machine, Acquire::GzipIndexes) are read via
`/usr/lib/apt/apt-helper cat-file`; .gz/.xz/.bz2/plain are read with the stdlib.

Selection rule (all deterministic):
  1. Suite's main/binary-<arch> Packages joined to Translation-en on
     (Package, Description-md5).
  2. Section in CATEGORIES (httpd is merged into web).
  3. Not a packaging artefact: name suffix in EXCLUDE_SUFFIX (-dev, -doc, -dbg,
     -data, -common, -l10n, ...), language-ecosystem library prefixes
     (python3-, ruby-, node-, golang-, r-cran-, lib*-perl, ...), shared
     libraries (lib* without a program-ish suffix), or a synopsis saying
     transitional / dummy / metapackage / documentation / data files /
     debug symbols / development files / plugin(s).
  4. Debtags, when present, must not contradict "program": packages whose
     Tag field has role:: values but no role::program are dropped.
  5. Long description (synopsis excluded) has 50..200 words.
  6. One package per Source package: the binary named like the source if
     eligible, else the shortest-named eligible binary (ties: alphabetical).
  7. Near-duplicate descriptions (Jaccard of word 3-shingles >= 0.5) across
     different sources: keep the one whose name sorts first by sha1 rank.
  8. At most FAMILY_CAP=3 packages per (category, first "-" token of the
     name), so plugin families (postgresql-15-*, octave-*, vim-*) don't
     dominate a category.
  9. Categories with fewer than MIN_PER_CAT survivors are dropped; the others
     are capped at CAP_PER_CAT, keeping the packages with the smallest
     sha1(name) (a fixed pseudo-random sample, not alphabetical).
Output is sorted by (category, name).
"""

import argparse
import bz2
import glob
import gzip
import hashlib
import json
import lzma
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict

# Section -> category.  Functional sections only: no ecosystem sections
# (python, perl, ...), no desktop-environment sections (gnome, kde, x11),
# no grab-bags (utils, misc), no packaging sections (libs, doc, ...).
CATEGORIES = {
    "admin": "admin",
    "database": "database",
    "editors": "editors",
    "electronics": "electronics",
    "games": "games",
    "graphics": "graphics",
    "hamradio": "hamradio",
    "mail": "mail",
    "math": "math",
    "net": "net",
    "science": "science",
    "sound": "sound",
    "text": "text",
    "vcs": "vcs",
    "video": "video",
    "web": "web",
    "httpd": "web",
}
CAP_PER_CAT = 100
MIN_PER_CAT = 30
FAMILY_CAP = 3
MIN_WORDS, MAX_WORDS = 50, 200
DUP_JACCARD = 0.5

EXCLUDE_SUFFIX = re.compile(
    r"-(dev|doc|docs|dbg|dbgsym|data|common|l10n|i18n|locale|locales|examples|"
    r"tests?|testdata|help-.*|lang-.*|style-.*|theme|themes|dict|sounds|music|"
    r"fonts?|icons?|headers|source|src|static|udeb|nogui)$"
)
EXCLUDE_PREFIX = re.compile(
    r"^(python3?-|pypy3?-|ruby-|node-|golang-|librust-|rust-|r-cran-|r-bioc-|"
    r"r-other-|php-|elpa-|lua-|libghc-|ocaml-|cl-|tcl-|fonts-|"
    r"linux-|firmware-|task-)"
)
LIB_ECOSYSTEM = re.compile(r"^lib.*-(perl|java|ocaml|cil|clojure|ruby|php|jni)$")
LIB_NAME = re.compile(r"^lib")
PROGRAMISH = re.compile(r"-(tools|utils|bin|progs|cli|server|client)$")
BAD_SYNOPSIS = re.compile(
    r"transitional|dummy|metapackage|meta-package|documentation|debug(ging)? symbols|"
    r"development files|header files|data files|\bdata\b.*\bfor\b|"
    r"arch(itecture)?[- ]independent|common files|shared librar|\blibrary\b|"
    r"\bplugins?\b|\bplug-ins?\b|\bextension\b|\bbindings?\b|\bmodule\b",
    re.I,
)


BULLET = re.compile(r"^([*+o\u2022-]|\d+[.)]|[a-z][.)])\s")


def read_index(path):
    if path.endswith(".lz4") or path.endswith(".zst"):
        helper = "/usr/lib/apt/apt-helper"
        out = subprocess.run([helper, "cat-file", path], check=True, stdout=subprocess.PIPE).stdout
        return out.decode("utf-8")
    opener = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}.get(os.path.splitext(path)[1], open)
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read()


def stanzas(text):
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        d, key = {}, None
        for line in block.split("\n"):
            if line[:1] in (" ", "\t"):
                d[key] += "\n" + line
            elif line:
                key, _, val = line.partition(":")
                d[key] = val.strip()
        yield d


def clean_long(raw):
    """Debian description -> (synopsis, long text).

    Continuation lines start with one space; " ." is a paragraph break.
    Lines with extra indentation that begin with a bullet ("* ", "- ",
    "1. ") start a new line; other indented lines (wrapped list items) are
    joined to the previous line.  Paragraphs are separated by a blank line."""
    lines = raw.split("\n")
    synopsis = lines[0].strip()
    paras, cur = [], []
    for line in lines[1:]:
        body = line[1:] if line.startswith(" ") else line
        if body.strip() == ".":
            if cur:
                paras.append(cur)
            cur = []
        elif body.startswith(" ") and BULLET.match(body.strip()):
            cur.append("\n" + body.strip())  # list item starts a new line
        else:  # normal text or wrapped list-item continuation
            cur.append(body.strip())
    if cur:
        paras.append(cur)
    out = []
    for p in paras:
        s = " ".join(p).replace(" \n", "\n").strip()
        out.append(s)
    return synopsis, "\n\n".join(out)


def words(s):
    return s.split()


def shingles(s, k=3):
    w = re.findall(r"[a-z0-9]+", s.lower())
    return {" ".join(w[i : i + k]) for i in range(max(1, len(w) - k + 1))}


def rank(name):
    return hashlib.sha1(name.encode()).hexdigest()


def find(lists, suite, kind):
    pat = {"P": f"*_dists_{suite}_main_binary-*_Packages*", "T": f"*_dists_{suite}_main_i18n_Translation-en*"}[kind]
    hits = sorted(p for p in glob.glob(os.path.join(lists, pat)) if not p.endswith(".diff_Index"))
    if not hits:
        sys.exit(f"no {pat} in {lists}: run apt-get update with -o Acquire::Languages=en (see docstring)")
    return hits[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lists", default="/tmp/apt-lists")
    ap.add_argument("--suite", default="bookworm")
    ap.add_argument("--out", default="debian-mid.jsonl")
    ap.add_argument("--cap", type=int, default=CAP_PER_CAT)
    ap.add_argument("--min", type=int, default=MIN_PER_CAT)
    ap.add_argument("-v", action="store_true", help="print filter stats")
    a = ap.parse_args()

    ppath, tpath = find(a.lists, a.suite, "P"), find(a.lists, a.suite, "T")
    trans = {}
    for d in stanzas(read_index(tpath)):
        trans[(d["Package"], d.get("Description-md5"))] = d["Description-en"]

    why = Counter()
    by_source = defaultdict(list)
    for d in stanzas(read_index(ppath)):
        name, sec = d["Package"], d.get("Section", "")
        sec = sec.split("/")[-1]  # contrib/net -> net
        if sec not in CATEGORIES:
            why["section"] += 1
            continue
        raw = trans.get((name, d.get("Description-md5")))
        if raw is None:
            why["no-translation"] += 1
            continue
        synopsis, text = clean_long(raw)
        tags = {t.strip() for t in d.get("Tag", "").replace("\n", " ").split(",") if t.strip()}
        roles = {t for t in tags if t.startswith("role::")}
        if EXCLUDE_SUFFIX.search(name) or EXCLUDE_PREFIX.search(name) or LIB_ECOSYSTEM.search(name):
            why["name"] += 1
            continue
        if LIB_NAME.search(name) and not PROGRAMISH.search(name):
            why["lib"] += 1
            continue
        if BAD_SYNOPSIS.search(synopsis):
            why["synopsis"] += 1
            continue
        if roles and "role::program" not in roles:
            why["debtags-not-program"] += 1
            continue
        n = len(words(text))
        if not MIN_WORDS <= n <= MAX_WORDS:
            why["length"] += 1
            continue
        source = d.get("Source", name).split(" ")[0]
        by_source[source].append(
            {
                "name": name,
                "description": text,
                "category": CATEGORIES[sec],
                "url": d.get("Homepage") or None,
                "summary": synopsis,
                "source": source,
                "section": sec,
            }
        )

    # 6. one binary per source package
    reps = []
    for source in sorted(by_source):
        cands = by_source[source]
        same = [c for c in cands if c["name"] == source]
        reps.append(same[0] if same else min(cands, key=lambda c: (len(c["name"]), c["name"])))
    why["same-source"] = sum(len(v) for v in by_source.values()) - len(reps)

    # 7. near-duplicate descriptions across sources (greedy, by sha1 rank)
    reps.sort(key=lambda r: rank(r["name"]))
    kept, kept_sh, index = [], [], defaultdict(list)
    for r in reps:
        sh = shingles(r["summary"] + " " + r["description"])
        overlap = Counter(j for g in sh for j in index[g])
        if any(c / (len(sh) + len(kept_sh[j]) - c) >= DUP_JACCARD for j, c in overlap.items()):
            why["near-dup"] += 1
            continue
        for g in sh:
            index[g].append(len(kept))
        kept.append(r)
        kept_sh.append(sh)

    # 8. at most FAMILY_CAP packages per name family (first "-" token,
    #    e.g. postgresql-15-*, octave-*, vim-*, git-*) per category
    per = defaultdict(list)
    fam = Counter()
    for r in kept:  # already in sha1-rank order
        key = (r["category"], r["name"].split("-")[0])
        fam[key] += 1
        if fam[key] > FAMILY_CAP:
            why["family-cap"] += 1
            continue
        per[r["category"]].append(r)
    out = []
    for cat in sorted(per):
        if len(per[cat]) < a.min:
            why[f"small-category:{cat}"] = len(per[cat])
            continue
        out.extend(per[cat][: a.cap])
    out.sort(key=lambda r: (r["category"], r["name"]))

    with open(a.out, "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
    avail = {c: len(v) for c, v in sorted(per.items())}
    meta = {
        "packages_file": os.path.basename(ppath),
        "translation_file": os.path.basename(tpath),
        "cap": a.cap,
        "min": a.min,
        "words": [MIN_WORDS, MAX_WORDS],
        "available_per_category": avail,
        "written_per_category": dict(sorted(Counter(r["category"] for r in out).items())),
        "dropped": dict(why),
        "n": len(out),
    }
    with open(os.path.splitext(a.out)[0] + ".meta.json", "w") as f:
        json.dump(meta, f, indent=1)
    if a.v:
        print(json.dumps(meta, indent=1))
    print(f"wrote {len(out)} records to {a.out}")


if __name__ == "__main__":
    main()
