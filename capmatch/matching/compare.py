"""Compare two tools: the feature table, each tool's capabilities, their alignment, and a verdict
written only from those data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from capmatch.errors import InvalidInput
from capmatch.matching.graph import match_graph
from capmatch.matching.rank import FORMULA, Rank, rank
from capmatch.matching.similar import matched_pairs, pair_score, similar_tools
from capmatch.models import Capability, Pricing, Tool

if TYPE_CHECKING:
    from capmatch.embeddings.index import SearchableIndex
    from capmatch.storage.base import Catalog


class SubScorePublic(BaseModel):
    name: str
    score: float | None = Field(description="0-100, or null when there is no data for it")
    weight: float
    inputs: dict[str, Any]
    note: str = ""


class RankPublic(BaseModel):
    score: int | None = Field(description="Rank /100 over the sub-scores that have data")
    subscores: list[SubScorePublic]

    @classmethod
    def of(cls, rank: Rank) -> RankPublic:
        subscores = [
            SubScorePublic(name=s.name, score=s.score, weight=s.weight, inputs=s.inputs, note=s.note)
            for s in rank.subscores
        ]
        return cls(score=rank.score, subscores=subscores)


class CapabilityBrief(BaseModel):
    id: int
    name: str


class AlignedPair(BaseModel):
    a: CapabilityBrief
    b: CapabilityBrief
    similarity: float


class Alignment(BaseModel):
    score: float = Field(description="Symmetric capability coverage of A by B and B by A, -1..1")
    threshold: float
    matched: list[AlignedPair]
    only_in_a: list[CapabilityBrief]
    only_in_b: list[CapabilityBrief]


class SimilarBrief(BaseModel):
    id: str
    name: str
    score: float


class ComparedTool(BaseModel):
    id: str
    name: str
    url: str
    type: str
    pricing: str
    starting_price: str | None
    license: str | None
    summary: str
    rank: RankPublic
    capabilities_count: int
    times_matched: int
    grounding_rate: float
    capabilities: list[Capability]
    similar: list[SimilarBrief]


class TableRow(BaseModel):
    feature: str
    a: str
    b: str


class Comparison(BaseModel):
    title: str
    headline: str
    a: ComparedTool
    b: ComparedTool
    table: list[TableRow]
    alignment: Alignment
    verdict: str
    rank_formula: str


def compare(catalog: Catalog, index: SearchableIndex, a_id: str, b_id: str, threshold: float = 0.5) -> Comparison:
    if a_id == b_id:
        raise InvalidInput(f"compare two different tools: both ids are '{a_id}'")
    store = catalog
    tool_a, tool_b = store.get_tool(a_id), store.get_tool(b_id)
    graph = match_graph(catalog)
    rank_a, rank_b = rank(tool_a, graph), rank(tool_b, graph)
    a_ids, a_vectors = store.vectors_of(a_id)
    b_ids, b_vectors = store.vectors_of(b_id)
    score, sims = pair_score(a_vectors, b_vectors)
    pairs = matched_pairs(a_ids, b_ids, sims, threshold) if sims.size else []
    names = {c.id: c.name for c in tool_a.capabilities + tool_b.capabilities}
    matched_a = {a for a, _, _ in pairs}
    matched_b = {b for _, b, _ in pairs}
    alignment = Alignment(
        score=round(score, 4),
        threshold=threshold,
        matched=[
            AlignedPair(
                a=CapabilityBrief(id=a, name=names[a]),
                b=CapabilityBrief(id=b, name=names[b]),
                similarity=round(s, 4),
            )
            for a, b, s in pairs
        ],
        only_in_a=[CapabilityBrief(id=c.id, name=c.name) for c in tool_a.capabilities if c.id not in matched_a],
        only_in_b=[CapabilityBrief(id=c.id, name=c.name) for c in tool_b.capabilities if c.id not in matched_b],
    )
    side_a = _side(catalog, index, tool_a, rank_a, threshold)
    side_b = _side(catalog, index, tool_b, rank_b, threshold)
    return Comparison(
        title=f"{tool_a.name} vs {tool_b.name}",
        headline=_headline(tool_a, rank_a, tool_b, rank_b),
        a=side_a,
        b=side_b,
        table=_table(side_a, side_b),
        alignment=alignment,
        verdict=verdict(side_a, side_b, alignment),
        rank_formula=FORMULA.strip(),
    )


def _side(catalog: Catalog, index: SearchableIndex, tool: Tool, tool_rank: Rank, threshold: float) -> ComparedTool:
    # Links to similar tools on a comparison page do not count as a similar search.
    similar = similar_tools(catalog, index, tool.id, k=3, count_matches=False, threshold=threshold)
    return ComparedTool(
        id=tool.id,
        name=tool.name,
        url=tool.url,
        type=tool.type.value,
        pricing=tool.pricing.value,
        starting_price=tool.starting_price.label() if tool.starting_price else None,
        license=tool.license,
        summary=tool.summary,
        rank=RankPublic.of(tool_rank),
        capabilities_count=len(tool.capabilities),
        times_matched=tool.times_matched,
        grounding_rate=round(tool.grounding_rate, 3),
        capabilities=tool.capabilities,
        similar=[SimilarBrief(id=h.tool_id, name=h.name, score=h.score) for h in similar],
    )


def _fmt(score: float | None) -> str:
    return "no data" if score is None else f"{score:g}"


def _table(a: ComparedTool, b: ComparedTool) -> list[TableRow]:
    rows = [
        TableRow(feature="Type", a=a.type, b=b.type),
        TableRow(
            feature="Rank",
            a=f"{a.rank.score}/100" if a.rank.score is not None else "no data",
            b=f"{b.rank.score}/100" if b.rank.score is not None else "no data",
        ),
    ]
    for sa, sb in zip(a.rank.subscores, b.rank.subscores, strict=True):
        rows.append(TableRow(feature=sa.name, a=_fmt(sa.score), b=_fmt(sb.score)))
    rows += [
        TableRow(feature="Pricing", a=a.pricing, b=b.pricing),
        TableRow(feature="Starting price", a=a.starting_price or "—", b=b.starting_price or "—"),
        TableRow(feature="License", a=a.license or "not stated", b=b.license or "not stated"),
        TableRow(
            feature="Capabilities",
            a=f"{a.capabilities_count} decomposed",
            b=f"{b.capabilities_count} decomposed",
        ),
        TableRow(feature="Grounded", a=f"{a.grounding_rate:.0%}", b=f"{b.grounding_rate:.0%}"),
        TableRow(feature="Times matched", a=str(a.times_matched), b=str(b.times_matched)),
    ]
    return rows


def _headline(a: Tool, ra: Rank, b: Tool, rb: Rank) -> str:
    if ra.score is None or rb.score is None:
        return f"{a.name} and {b.name} compared capability by capability, with evidence from each vendor's page."
    if ra.score == rb.score:
        return f"{a.name} and {b.name} both rank {ra.score}/100."
    hi, lo, hs, ls = (a, b, ra.score, rb.score) if ra.score > rb.score else (b, a, rb.score, ra.score)
    return f"{hi.name} ranks higher at {hs}/100 vs {lo.name} at {ls}/100."


def verdict(a: ComparedTool, b: ComparedTool, alignment: Alignment) -> str:
    sentences: list[str] = []
    if a.rank.score is not None and b.rank.score is not None and a.rank.score != b.rank.score:
        hi, lo = (a, b) if a.rank.score > b.rank.score else (b, a)
        gaps = [
            (abs((sh.score or 0) - (sl.score or 0)), sh.name, sh.score, sl.score)
            for sh, sl in zip(hi.rank.subscores, lo.rank.subscores, strict=True)
            if sh.score is not None and sl.score is not None
        ]
        driver = max(gaps) if gaps else None
        text = f"{hi.name} scores higher at {hi.rank.score}/100 vs {lo.name} at {lo.rank.score}/100"
        if driver and driver[0] > 0:
            text += f", most of the gap from {driver[1]} ({_fmt(driver[2])} vs {_fmt(driver[3])})"
        sentences.append(text + ".")
        missing = [
            f"{side.name} has no {sub.name} data"
            for side in (a, b)
            for sub in side.rank.subscores
            if sub.score is None
            and any(o.name == sub.name and o.score is not None for o in (b if side is a else a).rank.subscores)
        ]
        if missing:
            # Each rank averages the sub-scores it has: say when the two rest on different data.
            sentences.append("The ranks rest on different data: " + "; ".join(missing) + ".")
    n = len(alignment.matched)
    if n:
        best = alignment.matched[0]
        sentences.append(
            f"They overlap on {n} of {a.capabilities_count} and {b.capabilities_count} capabilities; the closest pair "
            f"is “{best.a.name}” and “{best.b.name}” ({best.similarity:.2f})."
        )
    else:
        sentences.append(
            f"No capability of one matches a capability of the other at similarity {alignment.threshold:.2f} "
            "or above: they are not substitutes."
        )
    for side, only in ((a, alignment.only_in_a), (b, alignment.only_in_b)):
        if only:
            listed = ", ".join(f"“{c.name}”" for c in only[:3])
            more = f" and {len(only) - 3} more" if len(only) > 3 else ""
            sentences.append(f"Only {side.name} offers {listed}{more}.")
    if a.type != b.type and "Unknown" not in (a.type, b.type):
        sentences.append(f"{a.name} is a {a.type.lower()} and {b.name} a {b.type.lower()}.")
    sentences.append(_pricing_sentence(a, b))
    return " ".join(s for s in sentences if s)


def _pricing_sentence(a: ComparedTool, b: ComparedTool) -> str:
    def label(t: ComparedTool) -> str:
        price = f", from {t.starting_price}" if t.starting_price else ""
        return f"{t.pricing.lower()}{price}"

    if a.pricing == b.pricing and a.starting_price == b.starting_price:
        return "" if a.pricing == Pricing.UNKNOWN.value else f"Both are {label(a)}."
    free = {Pricing.FREE.value, Pricing.FREEMIUM.value}
    text = f"{a.name} is {label(a)}; {b.name} is {label(b)}."
    if (a.pricing in free) != (b.pricing in free) and Pricing.UNKNOWN.value not in (a.pricing, b.pricing):
        accessible = a if a.pricing in free else b
        text += f" {accessible.name} can be used without paying."
    return text
