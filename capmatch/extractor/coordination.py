"""Several features named in one sentence: "It supports periodic tasks, retries, arbitrary task locks etc."

A comparison page lists them one by one, so the decomposer makes one capability of each. Only a
coordinated list that is the direct object of a verb of having or offering counts, and only when its
items are common-noun phrases: "comes with builtin support for Redis, Postgres, Sqlite" names the values
of one feature (storage backends) inside a prepositional phrase, and "gzip, deflate, brotli" are values
too, so both stay one capability.
"""

from __future__ import annotations

import re

from capmatch.extractor.segment import Span

_VERB = re.compile(
    r"\b(?:supports|provides|offers|includes|including|features|has|comes with|ships with|gives you|brings)\s+",
    re.IGNORECASE,
)
# What ends a list without being an item: "etc.", "and more", "out of the box".
_TAIL = re.compile(r"(?:,?\s*(?:etc\.?|and (?:much )?more|and so on|out of the box|built[- ]in))?\s*[.!;:]?\s*$", re.I)
_PREPOSITION = re.compile(r"^(?:for|with|of|in|on|to|from|by|via|through|across|into|at)\b", re.IGNORECASE)
_INNER_PREPOSITION = re.compile(r"\s(?:for|of|with|like|from|to)\s", re.IGNORECASE)
_FINITE_VERB = re.compile(r"\b(?:is|are|was|were|can|will|would|should|may|might|must|does|do)\b", re.IGNORECASE)
# "has been widely adopted …" is a perfect tense, not "has X"; "offers suggestions, but doesn't …" a contrast.
_NOT_A_LIST = re.compile(r"^(?:been|become|also been)\b|\b(?:but|not|no|never|n't|without|except)\b", re.IGNORECASE)
_LAST_AND = re.compile(r"^(?:and|or)\s+|\s+(?:and|or)\s+(?!.*\s(?:and|or)\s)", re.IGNORECASE)
MIN_ITEMS = 3
MAX_ITEM_WORDS = 5


def feature_items(span: Span) -> list[Span]:
    """The items of a coordinated feature list in ``span``, as spans of the page; [] when there is none."""
    verb = _VERB.search(span.text)
    if not verb:
        return []
    # "Features including …", "offers features including …": the list follows the last verb of a run.
    while (more := _VERB.match(span.text, verb.end())) is not None:
        verb = more
    rest = span.text[verb.end() :]
    tail = _TAIL.search(rest)
    body = rest[: tail.start()] if tail else rest
    if _PREPOSITION.match(body) or _FINITE_VERB.search(body) or _NOT_A_LIST.search(body) or "(" in body:
        return []
    parts = body.split(",")
    last = parts[-1]
    split_last = _LAST_AND.split(last, maxsplit=1)
    pieces = [*parts[:-1], *split_last]
    items: list[Span] = []
    offset = span.start + verb.end()
    cursor = 0
    for piece in pieces:
        text = piece.strip()
        if not text:
            continue
        at = body.find(text, cursor)
        cursor = at + len(text)
        items.append(Span(text, offset + at, offset + at + len(text)))
    if len(items) < MIN_ITEMS:
        return []
    words = [len(i.text.split()) for i in items]
    if max(words) > MAX_ITEM_WORDS or any(not i.text[0].isalpha() or _VERB.match(i.text) for i in items):
        return []
    if _INNER_PREPOSITION.search(items[0].text):
        return []  # "support for Redis, Postgres, …": the list is the object of the preposition
    # Common-noun phrases ("retries", "task locks"), not a run of names ("Redis, Postgres, Sqlite").
    if sum(i.text[0].islower() for i in items) < 0.5 * len(items):
        return []
    return items
