"""Evidence verification: every quote must be found in the stored source snapshot.

A quote is located exactly, else after normalising whitespace, case and typographic punctuation;
the offsets always point at the source text as stored, so a reader can check the claim there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from capmatch.extractor.decompose.base import CapabilityDraft
from capmatch.extractor.injection import inside, instruction_spans
from capmatch.extractor.inline_code import collapse_code_spans
from capmatch.models import Capability, Evidence

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
    if index != -1:
        return _span(normalised, index, index + len(needle))
    return _fuzzy(needle, normalised)


FUZZ_MIN_SCORE = 94.0  # a typo or a dropped word in a long quote, not a paraphrase
FUZZ_MIN_LENGTH = 25


_NEGATIONS = frozenset(
    "no not without never non cannot can't don't doesn't isn't aren't won't none nor".split()  # noqa: SIM905
)
_TOKEN = re.compile(r"[\w'.+/-]+")


def _fuzzy(needle: str, normalised: NormalisedText) -> tuple[int, int] | None:
    """Small fuzz for LLM quotes: a typo or a dropped letter, never a changed meaning.

    The best-aligned window must be nearly identical overall, and word by word: every word of the
    quote must closely match a word of the window, and numbers and negations must match exactly
    ("without" is not "with", "DOCX" is not "PDF", "3" is not "5").
    """
    if len(needle) < FUZZ_MIN_LENGTH:
        return None
    alignment = fuzz.partial_ratio_alignment(needle, normalised.text, score_cutoff=FUZZ_MIN_SCORE)
    if alignment is None or alignment.dest_end <= alignment.dest_start:
        return None
    if (alignment.dest_end - alignment.dest_start) < 0.9 * len(needle):
        return None
    window = normalised.text[alignment.dest_start : alignment.dest_end]
    window_words = _TOKEN.findall(window)
    exact = set(window_words)
    for word in _TOKEN.findall(needle):
        if word in exact:
            continue
        if word in _NEGATIONS or any(ch.isdigit() for ch in word):
            return None
        if not any(fuzz.ratio(word, other) >= 80 for other in window_words):
            return None
    start, end = alignment.dest_start, alignment.dest_end
    # The alignment may start on list markers or spaces: trim to the words.
    while start < end and not normalised.text[start].isalnum():
        start += 1
    while end > start and normalised.text[end - 1] == " ":
        end -= 1
    return _span(normalised, start, end)


def _span(normalised: NormalisedText, start: int, end: int) -> tuple[int, int]:
    return normalised.offsets[start], normalised.offsets[end - 1] + 1


def verify(drafts: list[CapabilityDraft], source: str) -> list[Capability]:
    """Turn drafts into capabilities with located evidence. Grounded means every quote was found:
    a capability resting partly on a quote that is not in the page is shown as not grounded."""
    normalised = normalise(source)
    forbidden = instruction_spans(source)
    out = []
    for draft in drafts:
        evidence = []
        for quote in draft.quotes:
            found = locate(quote, source, normalised)
            if found and not inside(found, forbidden):
                start, end = found
                evidence.append(Evidence(quote=source[start:end], start=start, end=end))
        out.append(
            Capability(
                name=draft.name,
                # A code span the vendor wrapped over two lines is stored on one (quotes stay as found).
                description=collapse_code_spans(draft.description),
                evidence=evidence,
                grounded=bool(evidence) and len(evidence) == len(draft.quotes),
            )
        )
    return out
