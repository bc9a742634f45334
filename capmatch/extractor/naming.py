"""Short capability names (noun phrases) derived from source text by transparent rules."""

from __future__ import annotations

import re

STOPWORDS = frozenset(
    """a an the and or but nor of for to in on at by with from into onto over under as via per than then
    that which who whom whose this these those it its it's is are was were be been being has have had
    do does did can could will would should may might must shall so such very just also too not no only
    your our their my his her you we they i me us them both all any each every some more most other own
    same out up down off about again further once here there when where why how what while if because
    until against between through during before after above below""".split()  # noqa: SIM905
)

# Headings that name a section, not a capability.
GENERIC_HEADINGS = re.compile(
    r"^(?:overview|introduction|intro|about|summary|features?|key features|main features|highlights?|"
    r"capabilities|key capabilities|what(?:'s| is) (?:it|included|new|this)\b.*|why\b.*|benefits?|"
    r"advantages?|at a glance|usage|basic usage|examples?|quick ?start|getting started|tutorial|demo|"
    r"hello world.*|how it works|details|notes?|more|misc(?:ellaneous)?|general|description|"
    r"the basics|basics|concepts?|core concepts|in a nutshell|tl;?dr|how (?:it|\w+) compares?|"
    r"comparisons?|compared (?:to|with)\b.*|vs\.? .*|alternatives|(?:a )?(?:short|quick) example|"
    r"what (?:it|\w+) (?:does|is)|what(?:'s| is) an? .*|the problem|motivation|background|"
    r"(?:what|why|how|where|when|who|which|do|does|is|are|can|should|it|this|we|you)\b.*|"
    r"next steps|what's next|learn more|more (?:info|information)|further reading|recap|spoiler alert|"
    r"notes?|tips?|warning|important|caveats?)\W*$",
    re.IGNORECASE,
)

_LEAD = re.compile(
    r"^(?P<lead>[^.:;!?—–()\[\]\n]{2,70}?)(?:\s*[:—–]\s+|\s+-\s+|\.\s+(?=[A-Z])|\s*\n\s*(?=[A-Z]))(?P<rest>\S.*)$",
    re.S,
)
_VERBISH = re.compile(
    r"\b(?:is|are|was|were|can|will|lets?|allows?|supports?|provides?|makes?|has|have|does|do|"
    r"gives?|helps?|uses?|runs?|you|we|it)\b",
    re.IGNORECASE,
)
_SUBJECT = re.compile(
    r"^(?:(?:the\s+)?(?:library|framework|project|package|model|dataset|service|api|tool|server|client|it|"
    r"this(?:\s+\w+)?|you|we|users?|developers?)\s+)(?:(?:can|also|now|additionally|even|then)\s+)*",
    re.IGNORECASE,
)
_VERB_PREFIX = re.compile(
    r"^(?:also\s+|now\s+|even\s+|additionally\s+|automatically\s+)?(?:is\s+(?:also\s+)?(?:fully\s+)?|are\s+|has\s+|have\s+|(?:comes?|ships?)\s+with\s+|"
    r"(?:provides?|supports?|offers?|includes?|features?|adds?|brings?|exposes?|contains?|gives?(?:\s+you)?)\s+|"
    r"(?:enables?|allows?|lets?|helps?)\s+(?:you\s+|users?\s+|developers?\s+)?(?:to\s+)?|"
    r"makes?\s+it\s+(?:easy|simple|possible)\s+to\s+|(?:the\s+)?ability\s+to\s+|(?:is\s+)?designed\s+(?:for|to)\s+|"
    r"(?:is\s+)?built\s+(?:on|with|for)\s+|(?:is\s+)?able\s+to\s+|(?:out\s+of\s+the\s+box\s+)|"
    r"(?:full|first-class|native|built-in|complete)\s+support\s+for\s+|support\s+for\s+)",
    re.IGNORECASE,
)
_SUBORDINATE = re.compile(
    r"^(?:if|when|whenever|while|because|since|although|though|unless|once|after|before|whether|"
    r"as long as|in addition|additionally|moreover|also|however|for example|for instance|finally|"
    r"furthermore|further|in fact|of course|overall|in short|in particular|unlike [^,]{1,40}|"
    r"compared (?:to|with) [^,]{1,40}|like [^,]{1,40}|"
    r"now|then|with [^,]{1,40})\b[^,]{0,80},\s+",
    re.IGNORECASE,
)
_DETERMINER = re.compile(r"^(?:a|an|the|both|all|any|your|our|its|their|several|many|various)\s+", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(
    r"\s*(?:[,;:(\[]|\s[-–—]\s|\.\s|\.$|\s(?:which|that|so|because|while|when|where|if|whether|unless|"
    r"so that|such as|e\.g\.|i\.e\.|including|without)\s)",
    re.IGNORECASE,
)
_TRAILING_JUNK = re.compile(r"[\s,.;:!?\-–—]+$")
_BULLET_NUMBER = re.compile(r"^(?:\d+[.)]\s*|[A-Z]?\d{1,3}\s+)")
MAX_WORDS = 6


def clean_heading(heading: str) -> str:
    text = re.sub(r":[a-z0-9_+-]+:", "", heading)  # :emoji: shortcodes
    text = re.sub(r"^[^\w(]+", "", text)  # emoji, numbering marks
    text = re.sub(r"[^\w)?!.]+$", "", text)  # trailing emoji
    text = _BULLET_NUMBER.sub("", text)
    return _TRAILING_JUNK.sub("", text).strip()


def is_generic_heading(heading: str, tool_name: str | None = None) -> bool:
    text = clean_heading(heading)
    if not text or GENERIC_HEADINGS.match(text):
        return True
    # The page title ("Sanic | Build fast.", "Wardline Guard 8B") names the tool, not a capability.
    return bool(tool_name) and text.lower().startswith((tool_name or "").lower())


def split_lead(text: str) -> tuple[str, str] | None:
    """'Per-category scores. Every category gets…' -> ('Per-category scores', 'Every category gets…')."""
    match = _LEAD.match(re.sub(r"^[^\w(]+", "", text.strip()))
    if not match:
        return None
    lead = match.group("lead").replace("`", "").strip()
    words = lead.split()
    if not 1 <= len(words) <= MAX_WORDS or _VERBISH.search(lead) or not lead[0].isalnum():
        return None
    return lead, match.group("rest").strip()


# A name ends before a trailing qualifier: "Vector search engine for the next generation of AI
# applications" names a "Vector search engine".
_QUALIFIER = re.compile(r"\s+(?:for|with|of|in|on|from|by|using|across|through|to|at|into|via|when|than)\s+.*$", re.I)


def name_from_sentence(sentence: str, tool_name: str | None = None) -> str:
    # Parentheticals ("Qdrant (read: quadrant) is …") and emoji say nothing a name needs.
    text = " ".join(re.sub(r"\s*\([^)]{0,60}\)", "", sentence).split())
    text = "".join(ch for ch in text if ch.isascii() or ch.isalnum() or ch in "–—’“”")
    if tool_name:
        text = re.sub(rf"^(?:the\s+)?{re.escape(tool_name)}(?:'s)?\s+", "", text, flags=re.IGNORECASE)
    text = _SUBORDINATE.sub("", text)
    text = re.sub(r"[`*]", "", text)
    text = _SUBJECT.sub("", text)
    # "CharacterLevelParser is an interface for …", "Voluptuous, despite the name, is a …"
    text = re.sub(r"^[\w.\-/ ]{1,40}?(?:,[^,]{1,40},)?\s+(?:is|are)\s+(?=(?:a|an|the)\s)", "", text)
    for _ in range(3):  # "is also able to support …" peels in steps
        stripped = _DETERMINER.sub("", _VERB_PREFIX.sub("", text))
        if stripped == text:
            break
        text = stripped
    head = _CLAUSE_BREAK.split(text, maxsplit=1)[0]
    # "grammar to enable …": an infinitive after a noun phrase starts a purpose clause.
    head = re.split(r"\s+to\s+(?=[a-z])", head, maxsplit=1)[0] if len(head.split(" to ")[0].split()) >= 2 else head
    words = head.split()
    if len(words) < 2 and len(text.split()) >= 2:
        words = text.split()  # the first clause was too short: keep going past it
    if len(words) > 3:
        # Keep the head noun phrase: cut a trailing qualifier once the phrase has three words.
        kept = _QUALIFIER.sub("", " ".join(words)).split()
        if len(kept) >= 2:
            words = kept
    return _tidy(words[:MAX_WORDS])


def _tidy(words: list[str]) -> str:
    while words and words[-1].lower().strip(".,;:") in STOPWORDS:
        words = words[:-1]
    while words and words[0].lower() in STOPWORDS:
        words = words[1:]
    name = _TRAILING_JUNK.sub("", " ".join(words))
    name = name.replace("`", "").strip("\"'“”")
    if not name:
        return ""
    return name[0].upper() + name[1:]


def dedupe_names(names: list[str], sentences: list[str] | None = None, tool_name: str | None = None) -> list[str]:
    """A repeated name is made from its own sentence instead ("(2)" suffixes tell a reader nothing);
    only when that repeats too is the sentence's first words kept as the name."""
    seen: set[str] = set()
    out = []
    for i, name in enumerate(names):
        if name.lower() in seen and sentences is not None:
            own = name_from_sentence(sentences[i], tool_name)
            if own and own.lower() not in seen:
                name = own
        seen.add(name.lower())
        out.append(name)
    return out


_BAD_NAME_WORD = re.compile(
    r"\b(?:is|are|was|were|be|been|can|could|will|would|should|may|might|must|you|we|it|they|us|"
    r"rather|not|don't|doesn't|here|there|now|let's|yourself|please|simply)\b",
    re.IGNORECASE,
)


def is_good_name(name: str) -> bool:
    words = name.split()
    return 1 <= len(words) <= MAX_WORDS and not _BAD_NAME_WORD.search(name) and len(name) <= 60


def keyphrase_candidates(sentence: str, max_words: int = 5) -> list[str]:
    """Contiguous 1-5 word phrases that neither start nor end with a stop word nor hold a verb we know."""
    tokens = re.findall(r"[A-Za-z0-9][\w+#./'-]*", re.sub(r"[`*]", "", sentence))
    out: list[str] = []
    for i in range(len(tokens)):
        for n in range(1, max_words + 1):
            words = tokens[i : i + n]
            if len(words) < n:
                break
            if words[0].lower() in STOPWORDS or words[-1].lower() in STOPWORDS:
                continue
            phrase = " ".join(words).rstrip(".")
            if _BAD_NAME_WORD.search(phrase) or (n == 1 and len(phrase) < 4):
                continue
            out.append(phrase)
    return list(dict.fromkeys(out))
