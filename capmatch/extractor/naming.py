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
    r"^(?P<lead>[^.:;!?—–()\[\]\n]{2,70}?)(?:\s*[:—–]\s+|\s+--?\s+|\.\s+(?=[A-Z])|\s*\n\s*(?=[A-Z]))(?P<rest>\S.*)$",
    re.S,
)
_VERBISH = re.compile(
    r"\b(?:is|are|was|were|can|will|lets?|allows?|supports?|provides?|makes?|has|have|does|do|"
    r"gives?|helps?|uses?|runs?|you|we|it)\b",
    re.IGNORECASE,
)
_SUBJECT = re.compile(
    r"^(?:(?:the\s+)?(?:library|framework|project|package|model|dataset|service|api|tool|server|client|it|"
    r"this\s+(?:[\w-]+\s+)?(?:module|library|package|project|tool|framework|software|code)|"
    r"this(?:\s+\w+)?|you|we|users?|developers?)\s+)(?:(?:can|also|now|additionally|even|then)\s+)*",
    re.IGNORECASE,
)
_VERB_PREFIX = re.compile(
    # An adverb before the verb ("currently supports", "natively runs on") says nothing a name needs.
    r"^(?:also\s+|now\s+|even\s+|[a-z]+ly\s+)?(?:is\s+(?:also\s+)?(?:fully\s+)?|are\s+|has\s+|have\s+|(?:comes?|ships?)\s+with\s+|"
    r"(?:provides?|supports?|offers?|includes?|features?|adds?|brings?|exposes?|contains?|gives?(?:\s+you)?)\s+|"
    r"(?:enables?|allows?|lets?|helps?)\s+(?:you\s+|users?\s+|developers?\s+)?(?:to\s+)?|"
    r"makes?\s+it\s+(?:easy|simple|possible)\s+to\s+|(?:the\s+)?ability\s+to\s+|(?:is\s+)?designed\s+(?:for|to)\s+|"
    r"(?:is\s+)?built\s+(?:on|with|for)\s+|(?:is\s+)?able\s+to\s+|(?:out\s+of\s+the\s+box\s+)|"
    r"(?:full|first-class|native|built-in|complete)\s+support\s+for\s+|support\s+for\s+|"
    # Where or with what it runs or is used: "runs on an embedded async runtime", "can be used within both
    # sync and async code", "is using the geometry library GEOS" name the runtime, the code, the library.
    r"(?:can\s+(?:also\s+)?)?be\s+(?:used|run|deployed|embedded)\s+(?:within|in|inside|with)\s+(?!any\b)|"
    r"(?:can|may|could)\s+(?:also\s+)?be\s+used\s+(?:to|for)\s+|"
    r"(?:is\s+)?using\s+|"
    # What it is good for: "is useful mainly for system monitoring" names the monitoring.
    r"(?:is\s+)?(?:useful|handy|ideal|suitable|well[- ]suited)\s+(?:\w+ly\s+)?for\s+)",
    re.IGNORECASE,
)
_SUBORDINATE = re.compile(
    r"^(?:if|when|whenever|while|because|since|although|though|unless|once|after|before|whether|"
    r"as long as|in addition|additionally|moreover|also|however|for example|for instance|finally|"
    r"furthermore|further|in fact|of course|overall|in short|in particular|unlike [^,]{1,40}|"
    r"compared (?:to|with) [^,]{1,40}|like [^,]{1,40}|similar(?:ly)? to [^,]{1,40}|"
    r"now|then|with [^,]{1,40})\b[^,]{0,80},\s+",
    re.IGNORECASE,
)
_DETERMINER = re.compile(r"^(?:a|an|the|both|all|any|your|our|its|their|several|many|various)\s+", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(
    r"\s*(?:[,;:(\[]|\s[-–—]\s|\.\s|\.$|\s(?:which|that|so|because|while|when|where|if|whether|unless|"
    r"so that|such as|like|e\.g\.|i\.e\.|including|without)\s)",
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


# A participle left at a name's end once its qualifier is cut: "Database interface library designed
# specifically (for PostgreSQL)" names a "Database interface library".
_TRAILING_PARTICIPLE = re.compile(
    r"\s+(?:\w+ly\s+)?(?:designed|built|written|made|optimi[sz]ed|meant|intended|tailored|developed|created|"
    r"identified|offered|provided|supported|used|found|given|listed|described|defined|specified|needed|included)"
    r"(?:\s+\w+ly)?$",
    re.IGNORECASE,
)
_FINITE_VERB = re.compile(
    r"\b(?:is|are|was|were|has|have|had|can|will|does|do|did|may|must|should|not|no)\b", re.IGNORECASE
)


def after_framing_phrase(text: str, max_words: int = 6) -> str | None:
    """What follows a framing phrase ("That said, …", "In essence, …", "Among other things, …"): two to
    ``max_words`` words before a comma, with no verb of their own. None when the text opens otherwise.
    Whether the rest is a clause of its own is the caller's question."""
    match = re.match(r"^(?P<lead>[^,]{2,60}),\s+(?P<rest>\S.*)$", text, re.S)
    if not match or not 2 <= len(match.group("lead").split()) <= max_words or _FINITE_VERB.search(match.group("lead")):
        return None
    return match.group("rest")


def _without_leading_adverbial(text: str, tool_name: str | None) -> str:
    """ "That said, APScheduler does provide …", "Among other things, it can be used as …": a framing
    phrase in front of a clause whose subject is the tool, "it" or a determined noun frames the claim
    and names nothing. A list's first items ("Redis Streams, Postgres and SQLite are supported") are not
    in front of such a subject and stay."""
    rest = after_framing_phrase(text)
    # "By default, X enables …" qualifies the feature: the default is what is named.
    if rest is None or text.lower().startswith("by default,"):
        return text
    # Not "we" or "you": "In Python, we can do better" is the authors' voice, whatever the frame.
    subjects = r"the|a|an|it|its|this|these|those|each|every|all"
    if tool_name:
        subjects += "|" + re.escape(tool_name)
    return rest if re.match(rf"(?:{subjects})\b", rest, re.IGNORECASE) else text


_FOLLOWING = re.compile(r"^(?:\w+ly\s+)?(?:supports?|runs on|works (?:on|with))\s+the following\s+([a-z][\w-]*)", re.I)


def name_from_sentence(sentence: str, tool_name: str | None = None) -> str:
    # Parentheticals ("Qdrant (read: quadrant) is …") and emoji say nothing a name needs.
    text = " ".join(re.sub(r"\s*\([^)]{0,60}\)", "", sentence).split())
    text = "".join(ch for ch in text if ch.isascii() or ch.isalnum() or ch in "–—’“”")
    text = _without_leading_adverbial(text, tool_name)
    text = re.sub(r"[`*]", "", _SUBORDINATE.sub("", text))
    if tool_name:
        # After the framing clause and the markup: "Similarly to urllib, PycURL can …", "`msgspec` may …".
        text = re.sub(rf"^(?:the\s+)?{re.escape(tool_name)}(?:'s)?\s+", "", text, flags=re.IGNORECASE)
    text = _SUBJECT.sub("", text)
    # "supports the following platforms: Linux; Windows; …" names the supported platforms.
    listed = _FOLLOWING.match(text)
    if listed:
        return _tidy(["Supported", listed.group(1)])
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
    # Only for what the tool is ("X is a Python package that …"), not "any application that needs …".
    identity = re.search(rf"\b(?:is|are)\s+(?:an?|the)\s+{re.escape(head)}\s+that\s", sentence.replace("`", ""))
    purpose = (
        re.match(rf"{re.escape(head)}\s+that\s+(?P<rest>.+)$", text, re.S) if identity and _only_kind(words) else None
    )
    if purpose:
        # "a Python package that generates fake data": the kind names nothing, what it does names it.
        better = name_from_sentence(purpose.group("rest"))
        # "… that makes working with XML feel like …", "… that allows your tests to travel …": what the
        # clause's verb does to its object is not said by a noun phrase cut from it.
        verb_led = re.match(r"(?:makes?|will|brings?|lets?|helps?|allows?|enables?)\b", purpose.group("rest"), re.I)
        verbish = verb_led is not None or better.endswith("ing")
        if len(better.split()) >= 2 and is_good_name(better) and not verbish:
            return better
    if len(words) < 2 and len(text.split()) >= 2:
        words = text.split()  # the first clause was too short: keep going past it
    if len(words) > 3:
        # Keep the head noun phrase: cut a trailing qualifier once the phrase has three words.
        kept = _QUALIFIER.sub("", " ".join(words)).split()
        if len(kept) >= 2 and _only_kind(kept):
            # "an open-source Python library for running background jobs": its purpose is the name.
            words = [kept[-1], *words[len(kept) :]]
        elif len(kept) >= 2:
            words = kept
    trimmed = _TRAILING_PARTICIPLE.sub("", " ".join(words)).split()
    if len(trimmed) >= 2:
        words = trimmed
    return _tidy(words[:MAX_WORDS])


# The nouns among _KIND_WORDS: the word a kind phrase ends on ("open-source Python *library*").
_KIND_NOUNS = frozenset(
    [
        "library",
        "framework",
        "tool",
        "toolkit",
        "package",
        "module",
        "project",
        "application",
        "app",
        "service",
        "platform",
        "system",
        "implementation",
        "interface",
        "wrapper",
        "engine",
        "server",
        "client",
    ]
)


def is_identity_name(name: str) -> bool:
    """A name made from what the tool is: its kind noun and its purpose ("Library for running jobs")."""
    words = name.split()
    return len(words) >= 3 and words[0].lower() in _KIND_NOUNS and words[1].lower() in ("for", "that")


def _only_kind(words: list[str]) -> bool:
    """Words that only say what kind of software it is ("Open-source Python library"), ending on its noun."""
    return (
        bool(words)
        and words[-1].lower().strip(".,") in _KIND_NOUNS
        and all(
            w.lower().strip(".,") in _KIND_WORDS or w.lower() in STOPWORDS for w in re.split(r"[\s-]+", " ".join(words))
        )
    )


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


# Words that say what kind of software a tool is, not what it is about: "an open-source Python
# library for running background jobs" is about jobs. They never make a domain noun.
_KIND_WORDS = frozenset(
    """library libraries framework frameworks tool tools toolkit package packages module modules project
    application applications app service services platform system systems implementation interface
    wrapper api apis python open-source source open fast simple small modern lightweight powerful
    high-performance easy based built written using used way set version engine database server client
    dataset model models""".split()  # noqa: SIM905
)
_IDENTITY = r"(?:^|[\s(]){tool}\b[^.]{{0,60}}?\b(?:is|are)\s+(?:an?|the)\s+(?P<kind>[^.]+)"
_WORD_TOKEN = re.compile(r"[A-Za-z][\w-]*")
# A one-word label that names a feature as a noun ("Faceting", "Redirects", "Durability",
# "Dependencies"), as opposed to a word that is not a feature name at all ("Upshot", "Way").
_NOMINAL = re.compile(r"^[A-Za-z][a-z-]*(?:ing|ion|ity|ness|ance|ence|ment|cy|ery|ism|age|ies|[^su]s)$")
_NOT_A_DOMAIN = re.compile(r"(?:ing|ed|ly|ive|able|ible|al|ous|ful|ic|ard|est)$")
# A quality rather than a thing ("Durability", "Observability"): named by what provides it.
_QUALITY = re.compile(r"(?:ity|ness|ance|ence|cy)$", re.IGNORECASE)
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$", re.IGNORECASE)


KIND_PHRASE_CHARS = 200


def domain_noun(text: str, tool_name: str, tagline: str = "") -> str | None:
    """The noun a tool's own identity sentence says it is about, as the page most often writes it:
    "EmberQ is an open-source Python library for running background jobs" -> "job", "a
    comprehensive HTTP client library" -> "HTTP". Without such a sentence, the page's opening line
    ("Task queues are used as a mechanism to distribute work") says it. A one-word feature label
    ("Dependencies") reads as a feature of that domain ("Job dependencies"). None when the page
    says nothing usable."""
    match = re.search(_IDENTITY.format(tool=re.escape(tool_name)), text, re.IGNORECASE) if tool_name else None
    for phrase in ([match.group("kind")] if match else []) + [tagline]:
        # Only the kind phrase: "a project with minimal funding, so we don't support Windows" is not
        # about support, and "a web framework … based on standard Python type hints" not about types.
        cut = r",?\s+(?:which|that|so|but|based|built|written|with\s+minimal|are|is|can|will)\b"
        # A kind phrase is a few words: the opening line of a page that never breaks its first paragraph
        # could be the whole page, and each of its words is counted over the whole page.
        found = _most_written(re.split(cut, phrase[:KIND_PHRASE_CHARS])[0], text, tool_name)
        if found:
            return found
    return None


def _most_written(kind: str, text: str, tool_name: str) -> str | None:
    lowered = text.lower()
    best: tuple[int, str] | None = None
    for word in dict.fromkeys(_WORD_TOKEN.findall(kind)):
        low = word.lower()
        if low in STOPWORDS or low in _KIND_WORDS or low == tool_name.lower() or len(low) < 3:
            continue
        common = word.isupper() or re.search(rf"(?<![\w-]){re.escape(low)}\b", text) is not None
        if not common or (not word.isupper() and _NOT_A_DOMAIN.search(low)):
            # A word the page never writes in lower case is a product name ("Redis", "Postgres"); a
            # verb or an adjective ("supporting", "standard", "agentic") is not what the tool is about.
            continue
        singular = low[:-1] if low.endswith("s") and not low.endswith("ss") else low
        form = singular if re.search(rf"\b{re.escape(singular)}\b", lowered) else low
        count = len(re.findall(rf"\b{re.escape(form)}", lowered))
        if count >= 3 and (best is None or count > best[0]):
            best = (count, word.upper() if word.isupper() else form)
    return best[1] if best else None


def expand_label(name: str, sentence: str, tool_name: str, domain: str | None, proper: frozenset[str]) -> str:
    """A name that is one word or a fragment made into the noun phrase a comparison page prints:
    "Dependencies" on a job queue's page -> "Job dependencies"; "WebSockets" -> "WebSockets support";
    "Automatic API documentation with" -> "Automatic API documentation"; a slug label
    ("litestar-hello-world: A bare-minimum application setup") -> the phrase after it."""
    words = name.split()
    # A lead cut before its list ("Automatic API documentation with:") ends on a function word.
    while len(words) > 1 and words[-1].lower().strip(".,;:") in STOPWORDS:
        words = words[:-1]
    name = " ".join(words)
    if len(words) != 1:
        return name
    word = words[0]
    if _SLUG.match(word) and word[1:].lower() == word[1:]:
        # "litestar-hello-world", "powerful-features": an identifier, not a name; its text names it.
        rest = re.match(rf"\W*{re.escape(word)}\W*?\s*(?:[:–—-]\s+|\n)(?P<rest>.+)", sentence, re.I | re.DOTALL)
        better = name_from_sentence(rest.group("rest"), tool_name) if rest else ""
        return better if 2 <= len(better.split()) <= MAX_WORDS and is_good_name(better) else name
    if word.lower() == tool_name.lower() or not word[:1].isalpha():
        return name
    if word.lower().endswith("ed"):
        return name  # an adjective ("Tool-Enabled") names no thing to support
    if re.search(rf"\bsupport(?:s|ed)?\s+(?:for\s+)?\W?{re.escape(word)}\b", sentence, re.IGNORECASE):
        return f"{word} support"  # "Support for `dataclasses`, TypedDict, …"
    compounds = re.finditer(rf"(?<![\w-])([A-Za-z][A-Za-z0-9]+)\s+{re.escape(word)}\b", sentence, re.IGNORECASE)
    acronym = next((m.group(1) for m in compounds if m.group(1).isupper()), None)
    if acronym:
        # "Litestar supports typical ASGI middleware": the page's own compound names the feature.
        return f"{acronym} {word.lower()}"
    if word.isupper() or word.lower() in proper or re.search(r".[A-Z]", word):
        # An acronym or a product ("SSL", "WebSockets", "Redis"): the feature is supporting it.
        # "URLs" -> "URL support": an acronym's plural is the thing supported, not a count of it.
        thing = word[:-1] if re.fullmatch(r"[A-Z]{2,}s", word) else word
        return f"{thing} support" if len(word) > 1 else name
    rest = re.match(rf"\W*{re.escape(word)}\W*?\s*(?:[:–—-]\s+|\n)(?P<rest>.+)", sentence, re.I | re.DOTALL)
    named = r"[\w+#./-]*[A-Z][\w+#./-]*"  # "Linux", "macOS", "C++": a name, not a common word
    if rest and re.match(rf"(?:{named}(?: {named})*, ){{2,}}", rest.group("rest")):
        # "Platforms: Linux, macOS, Windows": a label over a list of names is what is supported.
        return f"Supported {word.lower()}"
    if _QUALITY.search(word) and rest and _DETERMINER.match(rest.group("rest")):
        # "Durability: a write-ahead log, plus …" -> "Write-ahead log durability": what provides it.
        provider = name_from_sentence(rest.group("rest"), tool_name)
        if 1 <= len(provider.split()) <= 2 and is_good_name(provider):
            return f"{provider} {word.lower()}"
    action = re.match(
        rf"\W*(?:the\s+)?{re.escape(tool_name)}\s+(?:\w+ly\s+)?(?P<stem>[a-z]+)(?P<end>iz|is|at)es\b", sentence
    )
    if tool_name and action and not word.lower().startswith(action.group("stem")):
        # "Dataclass" over "orjson serializes instances of dataclasses natively": the tool's verb,
        # made a noun, says what it does with the thing the label names ("negotiates" -> "negotiation").
        stem, end = action.group("stem"), action.group("end")
        modifier = re.sub(r"ies$", "y", word) if word.endswith("ies") else re.sub(r"(?<!s)s$", "", word)
        return f"{modifier} {stem}{'' if end == 'at' else end}ation"
    if domain and _NOMINAL.match(word) and domain.lower() not in word.lower():
        lead = domain if domain.isupper() else domain.capitalize()
        return f"{lead} {word.lower()}"
    return name
