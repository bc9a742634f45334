"""What the line before a list says about its items.

"huey supports:", "It is production-ready, and gives you the following:", "The key features are:" announce a
list whose items are the tool's features, one capability each. "Supported distance functions are:",
"Toxicity head: six labels scored independently:" introduce the values of one feature, which together
are one capability. The difference is in the intro's syntax, not its topic: an announcing intro either
names features generically or has the tool (or a pronoun for it) as subject and stops at its verb or
preposition, leaving the list to be the object.
"""

from __future__ import annotations

import re

# The object is "features" in general, not one kind of thing: "many critical features", "key features".
_GENERIC_OBJECT = re.compile(
    r"\b(?:features?|capabilit(?:y|ies)|functionality|benefits?|highlights?|advantages?)\b|\bthe following$|"
    r"\b(?:including|such as|like)$",
    re.IGNORECASE,
)
# The words an announcing intro stops on: a verb or preposition whose object is the list itself.
_OPEN_END = re.compile(
    r"\b(?:is|are|has|have|offers?|provides?|supports?|includes?|features|gives?(?: you)?|brings?|gets?|"
    r"you get|comes? with|ships? with|lets? you|allows? you to|can(?: be used to)?|will|to|with|for)$",
    re.IGNORECASE,
)
_PRONOUN_SUBJECT = re.compile(r"^(?:it|this|this (?:library|package|tool|project|framework)|you)\b", re.IGNORECASE)
# A clause that starts with its verb has the tool as implied subject: "Supports:", "It features:".
_BARE_VERB = re.compile(r"^(?:supports?|offers?|provides?|includes?|features|has|gives?)$", re.IGNORECASE)


def last_clause(intro: str) -> str:
    """The intro's last sentence, without the colon."""
    text = " ".join(intro.split()).rstrip(":").strip()
    return re.split(r"(?<=[.!?])\s+", text)[-1]


# A property and its values ("It is localized to:", "It is compatible with:", "Wheels are available for:"):
# the items are the values of one feature, together one capability, not separate features.
_PROPERTY_OF = re.compile(
    r"\b(?:is|are)\s+(?:\w+ly\s+)?(?:\w+(?:ed|en|ble)|available)\s+(?:to|in|into|for|on|with|by|from|under|across)$",
    re.IGNORECASE,
)


def identity_intro(intro: str, tool_name: str) -> bool:
    """True when the intro's last sentence says what the tool is ("Ibis is the portable Python dataframe
    library:"): the sentence states the tool's identity, and its list what makes the tool one."""
    name = re.escape(tool_name.lower().strip())
    pattern = rf"^(?:the\s+)?(?:{name}|it)\s+(?:is|are)\s+(?:an?|the)\s+[^,;]+$"
    return bool(name) and re.match(pattern, last_clause(intro), re.IGNORECASE) is not None


def announces_features(intro: str, tool_name: str) -> bool:
    """True when the intro presents its list's items as separate features of the tool."""
    sentence = last_clause(intro)
    if not sentence or _PROPERTY_OF.search(sentence):
        return False
    if _BARE_VERB.match(sentence):
        return True
    if _GENERIC_OBJECT.search(sentence) and not re.search(r"\bthe following \w+$", sentence, re.IGNORECASE):
        return True
    if identity_intro(intro, tool_name):
        return True  # "Ibis is the portable Python dataframe library:": the list says what makes it one
    if not _OPEN_END.search(sentence):
        return False
    if re.search(r"\byou get$", sentence, re.IGNORECASE):
        return True  # "with that single declaration you get:": what the reader gets is the list
    clause = sentence.rsplit(",", 1)[-1].strip()
    if re.match(r"and\s", clause, re.IGNORECASE):
        clause = sentence  # "X builds on …, and gives you:": the verb shares the sentence's subject
    # The subject is in the clause's first words: "huey supports", "marshmallow schemas can be used to".
    opening = " ".join(clause.lower().split()[:3])
    name = tool_name.lower().strip()
    subject_is_tool = bool(name) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", opening) is not None
    return subject_is_tool or bool(_PRONOUN_SUBJECT.match(clause))


# An intro that sends the reader elsewhere ("For more details, see:", "Further documentation can be found
# here:", "These guides may help:", "Good entry points are:"): its items are links to read, not features.
_READING = re.compile(
    r"\bsee(?: also)?$|\bcan be found\b|\bare available (?:here|at|on|in)\b|"
    r"\b(?:may|might|could|should|will) (?:also )?(?:help|be (?:useful|helpful|of (?:interest|help)))\b|"
    r"\bmore (?:details|information|info|examples|documentation|resources)\b|\bentry points?\b|"
    r"\byou(?:'ll| can| will| may)? find$|\b(?:further|recommended) reading\b|\b(?:read|learn) more\b|"
    r"\b(?:have|take) a look\b|\bcheck out\b",
    re.IGNORECASE,
)


def points_to_reading(intro: str) -> bool:
    """True when the intro presents its list as further reading."""
    return _READING.search(last_clause(intro)) is not None
