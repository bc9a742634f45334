"""Evidence verification: every quote must be found in the stored source snapshot.

A quote is located exactly, else after normalising whitespace, case and typographic punctuation;
the offsets always point at the source text as stored, so a reader can check the claim there.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import Capability, Evidence
from extractor.decompose.base import CapabilityDraft

_TRANSLATE = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


@dataclass(frozen=True)
class NormalisedText:
    text: str
    offsets: list[int]  # offsets[i] = index in the original of normalised char i


def normalise(source: str) -> NormalisedText:
    chars: list[str] = []
    offsets: list[int] = []
    previous_space = True
    for i, ch in enumerate(source.translate(_TRANSLATE)):
        if ch.isspace():
            if previous_space:
                continue
            ch = " "
            previous_space = True
        else:
            previous_space = False
        chars.append(ch.lower())
        offsets.append(i)
    return NormalisedText("".join(chars), offsets)


def locate(quote: str, source: str, normalised: NormalisedText | None = None) -> tuple[int, int] | None:
    quote = quote.strip()
    if not quote:
        return None
    start = source.find(quote)
    if start != -1:
        return start, start + len(quote)
    normalised = normalised or normalise(source)
    needle = normalise(quote).text.strip()
    if not needle:
        return None
    index = normalised.text.find(needle)
    if index == -1:
        return None
    begin = normalised.offsets[index]
    end = normalised.offsets[index + len(needle) - 1] + 1
    return begin, end


def verify(drafts: list[CapabilityDraft], source: str) -> list[Capability]:
    """Turn drafts into capabilities with located evidence; a capability with none is not grounded."""
    normalised = normalise(source)
    out = []
    for draft in drafts:
        evidence = []
        for quote in draft.quotes:
            found = locate(quote, source, normalised)
            if found:
                start, end = found
                evidence.append(Evidence(quote=source[start:end], start=start, end=end))
        out.append(
            Capability(
                name=draft.name,
                description=draft.description,
                evidence=evidence,
                grounded=bool(evidence),
            )
        )
    return out
