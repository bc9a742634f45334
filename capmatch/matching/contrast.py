"""Contrast lines: what a capability has that the nearest capabilities of other tools lack
(``unique``), and which catalog tools come closest (``vs_alternatives``).

Both are computed from the catalog and the capability's own text; nothing is invented. They are
refreshed inside the write transaction of every catalog change for the tools the change touches,
and alternatives are rows with cascading deletes, so a line never names a deleted tool.

What a line may claim, each rule from a hand grading of the lines (docs/eval/contrast-lines-graded-*):
yardsticks and alternatives are the tool's mutual similar tools of a compatible type (and of its
category when the catalog files tools under categories); an attribute most of the tool's kind states
is no difference; a protocol or format is argued only against the other side's value of the same
facet (HTTP/2 against HTTP/1.1), since READMEs leave out what every tool of a kind speaks; a trait is
claimed once per tool and one argument with one alternative is made once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from capmatch.extractor.decompose.base import Neighbour
from capmatch.matching import attributes as attrs
from capmatch.matching.fusion import PAIR_FLOOR
from capmatch.matching.similar import identities, score_tools
from capmatch.models import Capability, ToolType

if TYPE_CHECKING:
    from capmatch.embeddings.index import SearchableIndex
    from capmatch.storage.base import Catalog

ALTERNATIVES = 3  # alternatives named per capability
NEIGHBOURS = 40  # nearest capabilities looked at per capability
# Below this, another tool's capability is not a comparable one. Calibrated by `capmatch eval contrast`
# on the demo catalog and the 36 vendor READMEs (comparable = same labelled category; each capability's
# closest capability in every other tool of a compatible type; 18,082 pairs): the threshold with the
# best F0.5 on both sets pooled (0.45: precision 0.54, recall 0.25; best F1 would be 0.34 at precision
# 0.34). Precision counts twice because an unrelated "alternative" makes a line argue nonsense.
ALTERNATIVE_MIN = 0.45
EDGES_PER_TOOL = 8  # match-graph edges stored per tool
EDGE_MIN = 0.3  # minimum tool-pair score for a match-graph edge
# Unique lines are checked against the pages of the nearest tools of a comparable type even below
# ALTERNATIVE_MIN (a claim "the closest tools do not mention X" needs closest tools, not alternatives
# good enough to argue with); below this a tool is too far to be a yardstick.
NEAREST_MIN = 0.3
# A new capability at least this close to an existing one can change its lines, so the existing
# tool's lines are refreshed. Equal to NEAREST_MIN: lines never miss a new neighbour.
AFFECTED_MIN = NEAREST_MIN
AFFECTED_NEIGHBOURS = 50
# Two tools argue with each other only if what they *are* is close: the cosine of their identity
# vectors ("<name>: <what the page says it is>"). Capabilities alone pair a vector database's "APIs and
# clients" with an HTTP client library. Calibrated like ALTERNATIVE_MIN (`capmatch eval contrast`:
# 735 tool pairs of the demo catalog and the vendor READMEs, comparable = same category): best F0.5 at
# 0.48, precision 0.71, recall 0.34 (best F1 would be 0.39 at precision 0.54).
IDENTITY_MIN = 0.48
# Unique lines are checked against the tool's peers: its most similar tools (the similar-tools ranking
# its page shows, the fused score of matching.fusion), of a compatible type.
# Owners of the nearest capabilities made poor yardsticks: a hand grading of 60 Unique lines found 72
# of 87 README lines measured against a tool of another kind (docs/eval/contrast-lines-graded-2.md).
UNIQUE_PEERS = 3
PEERS_LOOKED_AT = 10
# A peer must score at least this share of the best peer's similar-tools score, and this much at all:
# past the first few, the ranking drifts to tools of other kinds (the demo's HTTP client next to a queue).
PEER_RELATIVE = 0.7
PEER_MIN = 0.15
# A vs line may argue with any of the tool's similar tools this near the best one (a looser circle than
# the Unique yardsticks: an alternative is argued with on one capability, not on the whole page).
VS_RELATIVE = 0.5
# When the best similar tool is barely above the fifth, the similar-tools ranking has not found the
# tool's kind (a task queue whose best "peers" are a web framework, an HTTP client and a validator,
# docs/eval/contrast-lines-graded-3.md): no line is measured against them.
FLAT_RANK = 5
FLAT_MARGIN = 0.05
# An attribute stated by this share of the tool's wider circle of similar tools (at least two of them)
# is what the kind has, not a difference (JSON among web frameworks, TLS among HTTP clients). Half:
# once the circle is the tool's category (4-6 tools), 0.4 made two of five a "kind" and silenced true
# differences graded useful (FastAPI's type hints against Django; docs/eval/contrast-lines-graded-5.md).
COMMON_SHARE = 0.5
UNIQUE_ATTRIBUTES = 4  # attributes a Unique line names at most
# Bare acronyms ("mentions RRF") and figures ("up to 97%", "4,096 dimensions") are too thin, or a limit
# rather than a trait, to stand as what sets a tool apart (same grading).
_THIN_KINDS = {"term", "quantity"}
# "Has benchmarks" says a page reports measurements, not what the tool does (same grading, cause B).
_THIN_LABELS = {"benchmarks"}
# Readme pages leave out what every tool of a kind speaks (JSON among web frameworks, HTTP/1.1 and TLS
# among HTTP clients), so "X supports A, this page does not mention it" on a protocol or format is
# often a false absence (the largest cause of useless vs lines in the third grading). Such a line is
# argued only when the other side names a value of the same facet: HTTP/2 against HTTP/1.1.
_FACETED = {"protocol", "format"}
VS_ALTERNATIVES = 2  # alternatives a vs line argues against


def refresh_after_change(
    catalog: Catalog, index: SearchableIndex, changed: str | None, affected: set[str], threshold: float = 0.5
) -> None:
    """Recompute contrast lines and match edges after ``changed`` was added (or a tool removed)."""
    catalog = cast("Catalog", _VectorsReadOnce(catalog))
    tools = set(affected)
    if changed is not None:
        tools.add(changed)
        tools |= tools_near(catalog, index, changed)
        edges = score_tools(catalog, index, changed, limit=EDGES_PER_TOOL, threshold=threshold)
        catalog.set_matches(changed, [(t, s, len(p)) for t, s, p in edges if s >= EDGE_MIN])
    rankings = Rankings(catalog, index)
    for tool_id in sorted(tools):
        if catalog.tool_exists(tool_id):
            refresh_tool(catalog, index, tool_id, rankings)
            if changed is None:
                # A deletion took edges away from these tools: let them find their next-best matches.
                edges = score_tools(catalog, index, tool_id, limit=EDGES_PER_TOOL, threshold=threshold)
                catalog.add_matches(tool_id, [(t, s, len(p)) for t, s, p in edges if s >= EDGE_MIN])


class _VectorsReadOnce:
    """The catalog during one refresh, each tool's capability vectors read from it once: the
    refreshed tools' similar-tools rankings share most of their candidates, and a refresh writes
    lines and edges, never vectors. Everything else goes to the catalog itself."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def vectors_of(self, tool_id: str) -> tuple[np.ndarray, np.ndarray]:
        if tool_id not in self._vectors:
            self._vectors[tool_id] = self._catalog.vectors_of(tool_id)
        return self._vectors[tool_id]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._catalog, name)


def tools_near(catalog: Catalog, index: SearchableIndex, tool_id: str) -> set[str]:
    """Tools owning a capability close enough to one of ``tool_id``'s that their lines may change."""
    _, vectors = catalog.vectors_of(tool_id)
    if len(vectors) == 0:
        return set()
    scores, ids = index.search(vectors, AFFECTED_NEIGHBOURS)
    close = ids[(scores >= AFFECTED_MIN) & (ids >= 0)]
    owners = catalog.capability_tools(np.unique(close))
    return {t for t in owners.values() if t != tool_id}


def neighbours_for(
    catalog: Catalog,
    index: SearchableIndex,
    vectors: np.ndarray,
    exclude_url: str | None = None,
    tool_type: str = ToolType.UNKNOWN,
) -> list[list[Neighbour]]:
    """For each vector, the closest capability of up to ALTERNATIVES other catalog tools of a type
    compatible with ``tool_type`` (≥ ALTERNATIVE_MIN), with its evidence quotes.

    Used before a new tool is stored, so a backend can write its contrast lines; an earlier version of
    the same page (same URL) is not its own alternative."""
    store = catalog
    if index.count() == 0 or len(vectors) == 0:
        return [[] for _ in range(len(vectors))]
    scores, ids = index.search(vectors, NEIGHBOURS)
    owners = store.capability_tools(np.unique(ids[ids >= 0]))
    skip = store.find_by_url(exclude_url) if exclude_url else None
    briefs = store.capabilities_by_id({int(i) for i in ids.ravel() if i >= 0})
    names = store.tool_names(set(owners.values()))
    types = {t: f[0] for t, f in store.tool_filters(set(owners.values())).items()}
    out = []
    for row_scores, row_ids in zip(scores, ids, strict=True):
        seen: set[str] = set()
        near: list[Neighbour] = []
        for score, cap_id in zip(row_scores, row_ids, strict=True):
            owner = owners.get(int(cap_id))
            if owner is None or owner == skip or owner in seen or score < ALTERNATIVE_MIN:
                continue
            if not compatible(tool_type, types[owner]):
                continue
            seen.add(owner)
            cap = briefs[int(cap_id)]
            quotes = tuple(e.quote for e in cap.evidence)
            near.append(Neighbour(names[owner], cap.name, cap.description, float(score), quotes))
            if len(near) == ALTERNATIVES:
                break
        out.append(near)
    return out


def _kindred(catalog: Catalog, tool_id: str, threshold: float) -> Callable[[str], bool]:
    """Whether another tool is close enough in what it is (identity) to be compared with ``tool_id``;
    a tool without an identity vector is given the benefit of the doubt."""
    known = identities(catalog)
    if tool_id not in known.row:
        return lambda other: True
    sims = known.matrix @ known.matrix[known.row[tool_id]]
    return lambda other: other not in known.row or float(sims[known.row[other]]) >= threshold


def _same_category(categories: dict[str, str | None], tool_id: str) -> Callable[[str], bool]:
    """Whether another tool may be a yardstick or an alternative by the catalog's own categories: where
    the operator filed both tools, under the same one. Similarity alone still lets a web framework into
    a vector database's peers (docs/eval/contrast-lines-graded-4.md, cause A); a catalog without
    categories relies on similarity, type and identity alone."""
    mine = categories.get(tool_id)
    return lambda other: not (mine and categories.get(other) and categories.get(other) != mine)


def compatible(a: str, b: str) -> bool:
    """Tools of these types can stand in for each other: a dataset is no alternative to a library.

    Models and API services are both called for an answer; libraries, frameworks, applications and
    services are all software one runs or calls. An Unknown type is given the benefit of the doubt."""
    if ToolType.UNKNOWN in (a, b) or a == b:
        return True
    return frozenset((a, b)) not in _INCOMPATIBLE and ToolType.DATASET not in (a, b)


_INCOMPATIBLE = {frozenset((ToolType.MODEL, t)) for t in (ToolType.LIBRARY, ToolType.FRAMEWORK, ToolType.APPLICATION)}


@dataclass
class _Page:
    """A tool as the contrast lines see it: its name's words and every attribute its page states."""

    name: str
    name_words: set[str]
    attributes: set[tuple[str, str]]


def _page(catalog: Catalog, tool_id: str, name: str, cache: dict[str, _Page]) -> _Page:
    if tool_id not in cache:
        words = _name_words(name, tool_id)
        # The whole page, not the one capability: a claim that a tool lacks something must hold for
        # everything its page says, or it would be false for a tool that has it elsewhere.
        cache[tool_id] = _Page(name, words, attrs.page_keys(catalog.source_text(tool_id), frozenset(words)))
    return cache[tool_id]


def _name_words(*names: str) -> set[str]:
    return {w.lower() for n in names for w in re.findall(r"[A-Za-z0-9]+", n) if len(w) > 1}


class Rankings:
    """Similar-tools rankings (the fused score of matching.fusion, as a tool's page shows them), each
    computed at most once during one refresh: the tools refreshed together share their neighbours."""

    def __init__(self, catalog: Catalog, index: SearchableIndex) -> None:
        self.catalog, self.index = catalog, index
        self._ranked: dict[str, list[tuple[str, float, list[Any]]]] = {}

    def of(self, tool_id: str) -> list[tuple[str, float, list[Any]]]:
        if tool_id not in self._ranked:
            self._ranked[tool_id] = score_tools(
                self.catalog, self.index, tool_id, limit=PEERS_LOOKED_AT, threshold=PAIR_FLOOR
            )
        return self._ranked[tool_id]

    def mutual(self, tool_id: str, other: str) -> bool:
        """Whether ``tool_id`` is also among ``other``'s closest tools (within PEER_RELATIVE of its best).

        The fused score is close to symmetric, but what counts as near is not: a task queue's best
        match may be an HTTP client whose own neighbours are all HTTP clients, scoring far higher.
        A yardstick or an alternative must be of the tool's kind from both sides."""
        score = next((s for t, s, _ in self.of(tool_id) if t == other), None)
        theirs = self.of(other)
        if score is None or not theirs or _flat([s for _, s, _ in theirs]):
            return False  # a tool whose own ranking is flat has not found its kind: no yardstick
        return score >= PEER_RELATIVE * theirs[0][1]


def _flat(scores: list[float]) -> bool:
    """A ranking whose best is barely above its fifth does not know what the tool's kind is."""
    return len(scores) >= FLAT_RANK and scores[0] - scores[FLAT_RANK - 1] < FLAT_MARGIN


def _peers(
    tool_id: str,
    ranked: list[tuple[str, float, list[Any]]],
    types: dict[str, str],
    relative: float = PEER_RELATIVE,
    limit: int = UNIQUE_PEERS,
    keep: Callable[[str], bool] = lambda other: True,
) -> list[str]:
    """``tool_id``'s most similar tools (the similar-tools ranking its page shows) of a compatible type,
    as long as they score ``relative`` of the best one: the Unique yardsticks with the defaults, the
    circle a vs line may argue with and the kind's common attributes come from with a looser share."""
    kept = [(t, score) for t, score, _ in ranked if t in types and compatible(types[tool_id], types[t])]
    if not kept:
        return []
    if _flat([score for _, score in kept]):
        return []  # a flat ranking does not know what the tool's kind is: no yardstick is better than a wrong one
    floor = max(PEER_MIN, relative * kept[0][1])
    return [t for t, score in kept if score >= floor and keep(t)][:limit]


def _common(circle: list[_Page]) -> frozenset[tuple[str, str]]:
    """Attributes a good share of the tool's similar tools state: what tools of the kind have (TLS and
    Python for Python HTTP clients), never a difference between two of them."""
    if len(circle) < 2:
        return frozenset()
    counts: dict[tuple[str, str], int] = {}
    for page in circle:
        for key in page.attributes:
            counts[key] = counts.get(key, 0) + 1
    return frozenset(k for k, n in counts.items() if n >= 2 and n >= COMMON_SHARE * len(circle))


def refresh_tool(catalog: Catalog, index: SearchableIndex, tool_id: str, rankings: Rankings | None = None) -> None:
    store = catalog
    rankings = rankings or Rankings(catalog, index)
    ids, vectors = store.vectors_of(tool_id)
    if len(ids) == 0:
        return
    scores, neighbours = index.search(vectors, NEIGHBOURS)
    owners = store.capability_tools(np.unique(neighbours[neighbours >= 0]))
    ranked_peers = rankings.of(tool_id)
    facts = store.tool_filters({tool_id, *owners.values(), *(t for t, _, _ in ranked_peers)})
    types = {t: f[0] for t, f in facts.items()}
    kind = _same_category({t: f[2] for t, f in facts.items()}, tool_id)
    peer_ids = _peers(tool_id, ranked_peers, types, keep=lambda other: kind(other) and rankings.mutual(tool_id, other))
    circle = _peers(tool_id, ranked_peers, types, VS_RELATIVE, PEERS_LOOKED_AT, keep=kind)
    arguable = set(circle)
    kindred = _kindred(store, tool_id, IDENTITY_MIN)

    def argues(other: str) -> bool:
        return kind(other) and kindred(other)

    per_cap: list[list[tuple[int, str, float]]] = []
    wanted: set[int] = set(int(i) for i in ids)
    for row_scores, row_ids in zip(scores, neighbours, strict=True):
        best: dict[str, tuple[int, float]] = {}
        for score, cap_id in zip(row_scores, row_ids, strict=True):
            owner = owners.get(int(cap_id))
            if owner is None or owner == tool_id or owner in best:
                continue
            if score < NEAREST_MIN or not compatible(types[tool_id], types[owner]):
                continue
            best[owner] = (int(cap_id), float(score))
        ranked = sorted(((c, o, s) for o, (c, s) in best.items()), key=lambda r: -r[2])[:ALTERNATIVES]
        per_cap.append(ranked)
        wanted |= {c for c, _, _ in ranked}
    caps = store.capabilities_by_id(wanted)
    names = store.tool_names({tool_id, *circle, *(o for ranked in per_cap for _, o, _ in ranked)})
    by_llm = store.llm_contrast(int(i) for i in ids)
    catalog_names = store.all_tool_names() if by_llm else set()
    pages: dict[str, _Page] = {}
    own = _page(store, tool_id, names[tool_id], pages)
    peers = [_page(store, t, names[t], pages) for t in peer_ids if t in names]
    common = _common([_page(store, t, names[t], pages) for t in circle if t in names])
    owner_of = claim_owners([caps[int(i)] for i in ids], own.name_words)
    said: set[tuple[str, frozenset[tuple[str, str]], frozenset[tuple[str, str]]]] = set()
    for cap_id, ranked in zip(ids, per_cap, strict=True):
        cap = caps[int(cap_id)]
        owned = frozenset(k for k, c in owner_of.items() if c == int(cap_id))
        nearest = [Close(caps[c], o, _page(store, o, names[o], pages), s) for c, o, s in ranked]
        close = [c for c in nearest if c.similarity >= ALTERNATIVE_MIN and argues(c.tool_id)]
        alternatives = [(c.cap.id, c.similarity) for c in close if c.cap.id is not None]
        named = by_llm.get(int(cap_id))
        if named is not None and set(named) <= catalog_names:
            # LLM-written lines stay while every tool they name is still in the catalog.
            store.set_contrast(int(cap_id), None, None, alternatives)
            continue
        unique, unique_basis = unique_line(cap, own, peers, common, owned)
        # A vs line argues only with tools of the same kind: among the tool's similar tools.
        arguing = [c for c in close if c.tool_id in arguable and rankings.mutual(tool_id, c.tool_id)]
        versus, versus_basis = vs_alternatives_line(cap, own, arguing, common, said)
        basis = {"unique": unique_basis, "vs_alternatives": versus_basis}
        store.set_contrast(int(cap_id), unique, versus, alternatives, basis)


def claim_owners(caps: list[Capability], name_words: set[str]) -> dict[tuple[str, str], int]:
    """For every attribute the tool's capabilities state, the one capability whose lines may claim it.

    One sentence often names several features ("validation, retries, and streaming responses") that
    have capabilities of their own; saying "has streaming" under each repeats one difference. The
    claim goes to the capability named for the attribute ("Streaming support"), else to one stating
    it in its first quote, else to the first in page order (``caps`` is in page order)."""
    best: dict[tuple[str, str], tuple[tuple[bool, bool, int], int]] = {}
    for order, cap in enumerate(caps):
        if cap.id is None:
            continue
        named = attrs.keys(attrs.remembered((cap.name,), frozenset(name_words)))
        for a in _stated(cap, name_words):
            key = (a.kind, a.key.lower())
            fit = (key in named, 0 in a.quotes, -order)
            if key not in best or fit > best[key][0]:
                best[key] = (fit, cap.id)
    return {key: cap_id for key, (_, cap_id) in best.items()}


@dataclass
class Close:
    """A comparable capability of another tool, above the threshold and of a compatible type."""

    cap: Capability
    tool_id: str
    page: _Page
    similarity: float


def _quotes(cap: Capability) -> list[str]:
    return [e.quote for e in cap.evidence]


def _stated(cap: Capability, excluded: set[str]) -> tuple[attrs.Attribute, ...]:
    """The attributes ``cap``'s quotes state (``excluded``: name words that are never one)."""
    return attrs.remembered(tuple(_quotes(cap)), frozenset(excluded))


def _claim(attribute: attrs.Attribute, cap: Capability) -> dict[str, Any]:
    """What a line says and the quotes it rests on (evidence index and text)."""
    return {
        "attribute": attribute.label,
        "kind": attribute.kind,
        "quotes": [{"index": i, "quote": cap.evidence[i].quote} for i in attribute.quotes],
    }


def unique_line(
    cap: Capability,
    own: _Page,
    peers: list[_Page],
    common: frozenset[tuple[str, str]] = frozenset(),
    owned: frozenset[tuple[str, str]] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """What this capability's quotes state that none of the tool's peers' pages state.

    Empty when nothing concrete stands out, or there is no peer to compare with: an empty line says
    more than a filler one. ``owned``: the attributes this capability may claim (``claim_owners``), so a
    trait several capabilities mention is said once per tool, not on each of them."""
    if not peers:
        return "", []
    excluded = own.name_words | {w for p in peers for w in p.name_words}
    # "Text" is on nearly every page; it is contrasted in vs lines (images and text vs text), not here.
    stated = [
        a
        for a in _stated(cap, excluded)
        if a.key != "text input" and a.kind not in _THIN_KINDS and a.key not in _THIN_LABELS
    ]
    absent = [
        a
        for a in stated
        if (a.kind, a.key.lower()) not in common
        and all((a.kind, a.key.lower()) not in p.attributes for p in peers)
        and (owned is None or (a.kind, a.key.lower()) in owned)
        # "Reads or writes JSON" where no peer names any format is what pages leave unsaid, not a difference.
        and (a.kind != "format" or any(kind == "format" for p in peers for kind, _ in p.attributes))
    ]
    chosen = absent[:UNIQUE_ATTRIBUTES]
    if not chosen:
        return "", []
    others = _join_names([p.name for p in peers])
    said = attrs.phrase(chosen)
    line = f"{said[0].upper()}{said[1:]}; the closest comparable tools ({others}) mention none of this."
    return line, [_claim(a, cap) for a in chosen]


def vs_alternatives_line(
    cap: Capability,
    own: _Page,
    close: list[Close],
    common: frozenset[tuple[str, str]] = frozenset(),
    said: set[tuple[str, frozenset[tuple[str, str]], frozenset[tuple[str, str]]]] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """A trade-off per comparable alternative, from the attributes each side states and the other's
    page lacks; an alternative with no concrete difference is left out.

    Two capabilities close in meaning can still talk about different things ("opt-out" vs
    "benchmarks"): a difference is argued only on ground both stand on, i.e. both sides state an
    attribute in common, or the difference is of a kind the other capability also states (a protocol
    against its protocols), or the other capability states nothing concrete at all.

    ``said`` collects the arguments already made for other capabilities of the same tool, so one
    difference with one alternative is argued once per tool (whichever capability has that
    alternative first; unlike Unique lines, only capabilities with an alternative can argue)."""
    sentences: list[tuple[str, str]] = []  # (this side's statement to share, or "", the rest)
    basis: list[dict[str, Any]] = []
    for c in close[:VS_ALTERNATIVES]:
        excluded = own.name_words | c.page.name_words
        mine = list(_stated(cap, excluded))
        theirs = list(_stated(c.cap, excluded))
        theirs_keys = attrs.keys(theirs)
        shared = [a for a in mine if (a.kind, a.key.lower()) in theirs_keys and a.kind != "quantity"][:2]
        only_mine = [a for a in mine if (a.kind, a.key.lower()) not in c.page.attributes | common]
        only_theirs = [a for a in theirs if (a.kind, a.key.lower()) not in own.attributes | common]
        if not shared:
            only_mine = _comparable(only_mine, theirs)
            only_theirs = _comparable(only_theirs, mine)
        # A protocol or format is argued only against the other side's value of the same facet.
        only_mine = [a for a in only_mine if a.kind not in _FACETED or _facet_values([a], theirs)]
        only_theirs = [a for a in only_theirs if a.kind not in _FACETED or _facet_values([a], mine)]
        if not (only_mine and only_theirs):
            # One-sided, a bare figure or acronym argues nothing ("Unlike httpx, this states 64 KiB").
            only_mine = [a for a in only_mine if a.kind not in _THIN_KINDS and a.key not in _THIN_LABELS]
            only_theirs = [a for a in only_theirs if a.kind not in _THIN_KINDS and a.key not in _THIN_LABELS]
        only_mine, only_theirs = only_mine[:3], only_theirs[:3]
        if not only_mine + only_theirs or all(a.kind == "term" for a in only_mine + only_theirs):
            continue  # a bare acronym ("mentions GIL") is too thin to argue a trade-off on
        argument = (c.tool_id, frozenset(attrs.keys(only_mine)), frozenset(attrs.keys(only_theirs)))
        if said is not None:
            if argument in said:
                continue
            said.add(argument)
        head, tail = _versus_text(f"{c.page.name} (“{c.cap.name}”)", mine, theirs, shared, only_mine, only_theirs)
        if head and sentences and sentences[-1][0] == head:
            # "This supports HTTP/1.1, HTTP/2 and HTTP/3; Fetchwire supports HTTP/2, and Pliant …": one
            # statement of this side, then each alternative's values.
            sentences[-1] = (head, f"{sentences[-1][1]}, and {tail}")
        else:
            sentences.append((head, tail))
        basis.append(
            {
                "alternative": c.cap.id,
                "tool": c.tool_id,
                "similarity": round(c.similarity, 4),
                "this": [_claim(a, cap) for a in only_mine],
                "other": [_claim(a, c.cap) for a in only_theirs],
            }
        )
    return " ".join(_sentence(f"{head}; {tail}" if head else tail) for head, tail in sentences), basis


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _facet_values(difference: list[attrs.Attribute], side: list[attrs.Attribute]) -> list[attrs.Attribute]:
    """``side``'s values of the facets ``difference`` is about (its HTTP versions against an HTTP
    version); none when the difference includes a varied kind (features, terms, figures), which has
    no single facet to weigh values on."""
    if {a.kind for a in difference} & _VARIED_KINDS:
        return []
    facets = {attrs.facet(a) for a in difference}
    return [a for a in side if attrs.facet(a) in facets]


def _versus_text(
    who: str,
    mine: list[attrs.Attribute],
    theirs: list[attrs.Attribute],
    shared: list[attrs.Attribute],
    only_mine: list[attrs.Attribute],
    only_theirs: list[attrs.Attribute],
) -> tuple[str, str]:
    """One alternative's argument: ("This <statement>", "<who> <statement>") when this side's statement
    can be shared with the next alternative's, else ("", the whole sentence)."""
    if only_mine and only_theirs:
        if shared:
            return "", (
                f"This {attrs.phrase(shared + only_mine)}; {who} also {attrs.phrase(shared)}, "
                f"and instead {attrs.phrase(only_theirs)}."
            )
        return "", f"This {attrs.phrase(only_mine)}; {who} instead {attrs.phrase(only_theirs)}."
    if only_mine:
        # Where the other side states values of the same facet, say them: "this supports HTTP/1.1 and
        # HTTP/2; requests supports HTTP/1.1" argues more than "unlike requests, this supports HTTP/2".
        facet = _facet_values(only_mine, theirs)
        if facet:
            return f"This {attrs.phrase(_facet_values(only_mine, mine))}", f"{who} {attrs.phrase(facet)}"
        return "", f"Unlike {who}, this {attrs.phrase(only_mine)}."
    facet = _facet_values(only_theirs, mine)
    if facet:
        return "", f"{who} {attrs.phrase(_facet_values(only_theirs, theirs))}; this {attrs.phrase(facet)}."
    return "", f"{who} {attrs.phrase(only_theirs)}, which this tool's page does not mention."


def _comparable(extra: list[attrs.Attribute], other: list[attrs.Attribute]) -> list[attrs.Attribute]:
    """The attributes of ``extra`` the other capability could be compared on: of a kind it states too
    (a figure only against a figure of the same dimension), or all of them when it states nothing
    concrete. Sub-features and acronyms are too varied a kind: "opt-out" says nothing against
    "benchmarks", so they count only against a capability with nothing concrete."""
    if not other:
        return extra
    kinds = {a.kind for a in other if a.kind not in _VARIED_KINDS}
    dimensions = {a.key for a in other if a.kind == "quantity"}
    return [a for a in extra if a.kind in kinds or (a.kind == "quantity" and a.key in dimensions)]


_VARIED_KINDS = {"feature", "term", "quantity"}


def _join_names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
