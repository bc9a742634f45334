"""Concrete attributes read from a capability's evidence: what can differ between two tools.

Kinds: quantities (a number with a unit: "40 ms", "67 TB", "600+ languages"), protocols and formats,
languages and platforms, modalities, storage and delivery models, and named sub-features (a small
vocabulary of general software features plus acronyms the text defines). The vocabularies are
general terms of the trade, not words picked from particular pages: an attribute is a term a reader
would look for in a comparison table. A person's handle, a typo or a filler word can never be an
attribute, because nothing matches them; a term inside the tool's own name is dropped by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from wordfreq import zipf_frequency

# kind -> (verb used in sentences, {canonical label: pattern}). Patterns are case-insensitive unless
# they start with (?-i:…); word boundaries are added around them.
_VOCABULARY: dict[str, tuple[str, dict[str, str]]] = {
    "protocol": (
        "supports",
        {
            "HTTP/1.1": r"HTTP/?\s?1\.1",
            "HTTP/2": r"HTTP/?2",
            "HTTP/3": r"HTTP/?3|QUIC",
            "gRPC": r"gRPC",
            "REST": r"(?-i:REST)(?:ful)?",
            "GraphQL": r"GraphQL",
            "WebSocket": r"web\s?sockets?",
            "server-sent events": r"server-sent events|(?-i:SSE)",
            "TLS": r"(?-i:m?TLS)|SSL",
            "OAuth": r"OAuth\s?2?",
            "JWT": r"(?-i:JWT)s?",
            "SOCKS proxies": r"SOCKS5?",
            "HTTP proxies": r"proxies|proxy support",
            "AMQP": r"(?-i:AMQP)",
            "MQTT": r"(?-i:MQTT)",
            "OpenAPI": r"OpenAPI|Swagger",
            "JSON Schema": r"JSON\s?Schema",
            "ASGI": r"(?-i:ASGI)",
            "WSGI": r"(?-i:WSGI)",
            "SQL": r"(?-i:SQL)",
            "SPDX": r"(?-i:SPDX)",
            "ONNX": r"(?-i:ONNX)",
            "OpenTelemetry": r"OpenTelemetry",
            "HTTP/HTTPS": r"(?-i:HTTPS?)",
        },
    ),
    "format": (
        "reads or writes",
        {
            "JSON Lines": r"JSON\s?Lines|(?-i:JSONL)",
            "JSON": r"(?-i:JSON)",
            "YAML": r"(?-i:YAML)",
            "TOML": r"(?-i:TOML)",
            "CSV": r"(?-i:CSV)",
            "Parquet": r"Parquet",
            "Arrow": r"(?-i:Arrow)",
            "Avro": r"(?-i:Avro)",
            "Protocol Buffers": r"protobuf|protocol buffers",
            "MessagePack": r"msgpack|MessagePack",
            "XML": r"(?-i:XML)",
            "multipart": r"multi-?part",
        },
    ),
    "language": (
        "works with",
        {
            "Python": r"Python",
            "Rust": r"(?-i:Rust)",
            "Go": r"Golang|(?-i:Go)(?= (?:code|programs?|services?|client|library|SDK))",
            "Java": r"(?-i:Java)(?!Script)",
            "JavaScript": r"JavaScript|Node\.?js",
            "TypeScript": r"TypeScript",
            "C++": r"C\+\+",
            "C#": r"C#(?!\w)",
            "Ruby": r"(?-i:Ruby)",
            "PHP": r"(?-i:PHP)",
            "Kotlin": r"Kotlin",
            "Swift": r"(?-i:Swift)",
        },
    ),
    "platform": (
        "works with",
        {
            "Linux": r"Linux",
            "Windows": r"(?-i:Windows)",
            "macOS": r"macOS|OS X",
            "Docker": r"Docker",
            "Kubernetes": r"Kubernetes|k8s",
            "GPU": r"(?-i:GPUs?)|CUDA",
            "CPU-only": r"CPU[- ]only|on (?:a |the )?(?-i:CPUs?)",
            "the browser": r"(?:in|inside) (?:the |a )?browsers?",
            "WebAssembly": r"WebAssembly|(?-i:WASM)",
            "trio": r"(?-i:[Tt]rio)",
            "Django": r"Django",
            "Flask": r"(?-i:Flask)",
            "FastAPI": r"FastAPI",
            "Redis": r"Redis",
            "PostgreSQL": r"Postgre(?:SQL|s)",
            "MySQL": r"MySQL",
            "SQLite": r"SQLite",
            "RabbitMQ": r"RabbitMQ",
            "Kafka": r"Kafka",
            "Amazon SQS": r"(?-i:SQS)",
            "Amazon S3": r"(?-i:S3)",
            "MongoDB": r"MongoDB",
            "NumPy": r"NumPy",
            "pandas": r"pandas",
            "Pydantic": r"Pydantic",
        },
    ),
    "modality": (
        "takes",
        {
            "image input": r"images?|imagery|photos?|screenshots?|visual content",
            # "speech" alone is not audio: "hate speech", "free speech", "parts of speech".
            "audio input": (
                r"audio|voice|spoken|speech[- ](?:to[- ]text|recognition|synthesis|input)|text[- ]to[- ]speech"
            ),
            "video input": r"videos?",
            "text input": r"texts?|text-only|chat messages?",
            "multimodal input": r"multi-?modal",
        },
    ),
    "storage": (
        "offers",
        {
            "in-memory storage": r"in-memory",
            "on-disk storage": r"on[- ]disk",
            "memory-mapped files": r"memory-mapped|mmap",
            # Not "persistent connections": storage that survives a restart.
            "persistence": r"persistence|persistent (?:storage|queues?|jobs|data)|durable|durability",
            "transactions": r"transactional|transactions?|(?-i:ACID)",
            "exactly-once delivery": r"exactly[- ]once",
            "at-least-once delivery": r"at[- ]least[- ]once",
            "at-most-once delivery": r"at[- ]most[- ]once",
            "eventual consistency": r"eventual(?:ly)? consisten(?:t|cy)",
            "strong consistency": r"strong(?:ly)? consisten(?:t|cy)",
            "replication": r"replicat(?:ed|ion|es|e)|replicas?",
            "sharding": r"shard(?:s|ed|ing)?|partition(?:ed|ing)",
            "a write-ahead log": r"write-ahead log|(?-i:WAL)",
            "snapshots": r"snapshots?",
            "backups": r"backups?",
        },
    ),
    "feature": (
        "has",
        {
            # "Async I/O" is how a server reads its disk, not an API its users call.
            "async API": r"asyncio|async/await|async(?:hronous)?(?! ?I/O)",
            # Streamed bodies and responses; not HTTP/2's "stream multiplexing", a broker named "Redis
            # Streams" or an "event stream" of metrics.
            "streaming": r"(?<!Redis )(?<!event )stream(?:s|ing|ed)?(?! multiplex)",
            "batching": r"batch(?:es|ed|ing)?|bulk",
            "retries": r"retr(?:y|ies|ied|ying)",
            "backoff": r"back-?off",
            "timeouts": r"time-?outs?",
            "rate limiting": r"rate[- ]limit(?:s|ed|ing)?|throttl(?:e|es|ed|ing)",
            "caching": r"cach(?:e|es|ed|ing)",
            "pagination": r"paginat(?:e|ed|ion)",
            "compression": r"(?:de)?compress(?:ed|ion)?|gzip|brotli|zstd",
            "encryption": r"encrypt(?:ed|ion|s)?",
            "authentication": r"authenticat(?:e|ed|ion)|bearer tokens?|log ?in",
            "connection pooling": r"connection pool(?:s|ing)?|keep-alive",
            # Not "middleware": every web framework has it, and it is not the tool calling user code.
            "hooks": r"hooks?|callbacks?",
            # Not a "native extension" or "C extension": how the tool is built.
            "plugins": r"plugins?|(?<!native )(?<!C )extensions?",
            "a command-line interface": r"(?-i:CLI)|command[- ]line",
            "a web UI": r"dashboard|web UI|web interface|web (?:monitor|console)|admin (?:panel|UI|interface)",
            # Not "a typed placeholder": typed code and APIs.
            "type hints": r"type hints|type annotations|(?:fully|statically|strongly) typed|type-checked|mypy",
            "validation": r"validat(?:e|es|ed|ion)",
            # Scheduled work, not the verb ("schedule the meeting" in an example).
            "scheduling": (
                r"schedul(?:ing|er)|scheduled (?:jobs?|tasks?|execution|runs?)|schedule (?:jobs?|tasks?)|cron|"
                r"periodic (?:jobs?|tasks?)|delayed(?: jobs?| tasks?| execution)?"
            ),
            # Priorities of work, not "configuration priority" or a ticket's priority field.
            "priorities": (
                r"priorit(?:ies|ized|i[sz]ation)|(?:job|task|message|queue) priority|priority (?:queues?|levels?)"
            ),
            "a dead-letter queue": r"dead[- ]letter",
            "webhooks": r"webhooks?",
            "metadata filtering": r"(?:metadata|attribute|payload) filter(?:s|ing)?",
            "hybrid search": r"hybrid search",
            "full-text search": r"full[- ]text|keyword (?:search|vectors?)|sparse (?:keyword )?vectors?|(?-i:BM25)",
            "vector quantization": r"quantiz(?:e|ed|ation)",
            "approximate nearest-neighbour search": r"(?-i:HNSW|IVF|ANN)|approximate nearest",
            "deduplication": r"de-?dup(?:licat(?:e|ed|ion))?|near-duplicates?",
            "personal-data detection": r"(?-i:PII)|personal(?:ly identifiable)? (?:data|information)",
            "opt-out": r"opt[- ]outs?",
            "licence filtering": r"(?:permissive(?:ly)?|open)[- ]licen[cs]e[ds]?",
            "severity levels": r"severity",
            "confidence scores": r"confidence scores?|probabilit(?:y|ies)",
            "custom categories or policies": r"custom (?:categories|policies|policy|labels|rules)",
            "multilingual support": r"multilingual|languages other than English|\d+ (?:human |natural )?languages",
            "self-hosting": r"self-host(?:ed|ing)?|on[- ]prem(?:ises)?",
            "a managed service": (
                r"managed (?:service|API|cloud)|hosted (?:API|service)|fully managed|no servers to manage|serverless"
            ),
            "test helpers": r"test (?:mode|client|helpers?|utilities)|mock(?:s|ing)?",
            "redirect handling": r"redirects?",
            "cookies": r"cookies?",
            "file uploads": r"uploads?",
            "progress reporting": r"progress (?:bars?|callbacks?|reporting)",
            "versioned releases": r"versioned|version(?:s|ing) of the dataset|releases? v?\d",
            "benchmarks": r"benchmarks?",
            "unit tests": r"unit tests?|test cases|test coverage|\d+ ?% (?:test )?coverage",
        },
    ),
}

# Protocols answer different questions; two are values of one facet only when a reader would weigh one
# against the other (HTTP/2 against HTTP/1.1, gRPC against REST; not TLS against HTTP/2).
_PROTOCOL_FACETS = {
    # Not bare "HTTP": a page naming HTTP has not said which versions it speaks.
    "HTTP version": ("HTTP/1.1", "HTTP/2", "HTTP/3"),
    "API style": ("gRPC", "REST", "GraphQL", "WebSocket", "server-sent events"),
    "security": ("TLS", "OAuth", "JWT"),
    "proxies": ("SOCKS proxies", "HTTP proxies"),
    "messaging": ("AMQP", "MQTT"),
    "schema": ("OpenAPI", "JSON Schema"),
    "server interface": ("ASGI", "WSGI"),
}
_FACET_OF = {label: f"protocol: {facet}" for facet, labels in _PROTOCOL_FACETS.items() for label in labels}


def facet(attribute: Attribute) -> str:
    """What an attribute is a value of, for weighing two tools' values against each other: its kind,
    or for protocols the question it answers (a protocol with no facet is a facet of its own)."""
    if attribute.kind == "protocol":
        return _FACET_OF.get(attribute.key, f"protocol: {attribute.key}")
    return attribute.kind


_SINGLE = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_NUMBER = rf"(?:{_SINGLE}\s?[–-]\s?)?{_SINGLE}"  # "40", "5,000", "8–64"
# unit pattern -> (dimension, label unit). The dimension is what two tools' figures can be compared on.
_UNITS: list[tuple[str, str, str]] = [
    (r"ms|milliseconds?", "time", "ms"),
    (r"µs|us|microseconds?", "time", "µs"),
    (r"s|secs?|seconds?", "time", "s"),
    (r"min(?:ute)?s?", "time", "minutes"),
    (r"hours?|hrs?", "time", "hours"),
    (r"days?", "time", "days"),
    (r"(?-i:[KMGTP]i?B)|bytes|(?:kilo|mega|giga|tera|peta)bytes", "size", ""),
    (r"%|percent", "percent", "%"),
    (r"x|×|times faster", "speed-up", "×"),
    (
        r"(?:[a-z]+ )?(?:requests|queries|jobs|tasks|messages|ops|writes|reads|documents|vectors)"
        r"(?:/s| (?:per|a) second)|(?-i:QPS|RPS)",
        "throughput",
        "",
    ),
    (r"(?:parameters?|params)", "model size", ""),
]
_COUNT_NOUNS = (
    "languages|programming languages|dimensions|tokens|files|repositories|repos|problems|tasks|categories|labels|"
    "rows|documents|pairs|commits|examples|samples|vectors|requests|queues|workers|connections|threads|"
    "processes|users|models|classes|fields|endpoints|regions|replicas|shards|retries|attempts|levels"
)
_FUNCTION_WORDS = r"(?:with|and|or|of|in|to|for|the|per|at|on|by|from|than|a|an)\b"
_QUANTITY = re.compile(
    rf"(?<![\w./])(?P<bound>up to |over |more than |under |less than |about |around |~|≥ ?|<= ?|< ?|> ?)?"
    rf"(?P<n>{_NUMBER})(?P<plus>\+)?(?P<scale> ?(?:million|billion|thousand|[MBK](?=[ -])))?[\s-]?(?:(?P<unit>"
    + "|".join(f"(?:{u})" for u, _, _ in _UNITS)
    # A counted noun may follow up to two describing words ("48 million git commits"), never a
    # function word ("HTTP/2 with retries" counts nothing).
    + rf")(?![\w/])|(?P<noun>(?:(?!{_FUNCTION_WORDS})[a-z]+[- ]){{0,2}}(?:{_COUNT_NOUNS}))\b)",
    re.IGNORECASE,
)
COMMON_WORD_ZIPF = 4.0  # a capitalised word this frequent in English is a word, not an acronym
_ACRONYM = re.compile(r"(?<![\w/.-])([A-Z][A-Z0-9]{1,5})(?![\w/-])")
# Acronyms that name no capability (document furniture, generic words, licences, units).
_GENERIC_ACRONYMS = frozenset(
    [
        "API",
        "APIS",
        "URL",
        "URLS",
        "README",
        "FAQ",
        "TODO",
        "NOTE",
        "OK",
        "ID",
        "IDS",
        "UI",
        "UX",
        "IO",
        "OS",
        "PR",
        "PRS",
        "CI",
        "CD",
        "MIT",
        "BSD",
        "GPL",
        "LGPL",
        "AGPL",
        "MPL",
        "CC",
        "AI",
        "ML",
        "LLM",
        "LLMS",
        "NLP",
        "USD",
        "EUR",
        "GBP",
        "US",
        "UK",
        "EU",
        "PDF",
        "HTML",
        "CSS",
        "DOCS",
        "V1",
        "V2",
        "V3",
        "AND",
        "OR",
        "NOT",
        "THE",
        "FOR",
        "YES",
        "NO",
        "GB",
        "MB",
        "KB",
        "TB",
        "PB",
        "MS",
        "QPS",
        "RPS",
        "CPU",
        "GPU",
        "SDK",
        "SDKS",
        "DB",
    ]
)


@dataclass(frozen=True)
class Attribute:
    kind: str  # protocol, format, language, platform, modality, storage, feature, term, quantity
    key: str  # what two tools are compared on: the canonical term, or a quantity's dimension
    label: str  # as shown in a sentence
    quotes: tuple[int, ...]  # indices of the evidence quotes stating it


_COMPILED: list[tuple[str, str, re.Pattern[str]]] = [
    # A hyphen may come before a term ("retry-with-backoff"). A slash may join two terms ("TLS/SSL",
    # "HTTP/HTTPS") but not a single letter or a version: "I/O" is not "O", "HTTP/2" is not "HTTP".
    (kind, label, re.compile(rf"(?<![\w])(?<!\W\w/)(?<!^\w/)(?:{pattern})(?![\w])(?!/(?:\w(?!\w)|\d))", re.IGNORECASE))
    for kind, (_, terms) in _VOCABULARY.items()
    for label, pattern in terms.items()
]


def _hints(pattern: str) -> tuple[str, ...] | None:
    """Lowercase literal starts of a pattern's alternatives, or None when one has no plain start."""
    hints = []
    for alternative in re.sub(r"\(\?-i:", "(", pattern).split("|"):
        start = re.match(r"\(?([A-Za-z]{2,3})", alternative)
        if start is None:
            return None
        hints.append(start.group(1).lower())
    return tuple(hints)


_HINTS = {label: _hints(p) for _, (_, terms) in _VOCABULARY.items() for label, p in terms.items()}
VERBS = {kind: verb for kind, (verb, _) in _VOCABULARY.items()} | {"term": "mentions", "quantity": "states"}


def _unit_of(unit: str) -> tuple[str, str]:
    for pattern, dimension, label in _UNITS:
        if re.fullmatch(pattern, unit, re.IGNORECASE):
            return dimension, label or unit
    return "count", unit


def _quantities(text: str) -> list[tuple[str, str]]:
    """(dimension, label) of every number with a unit or a counted noun."""
    found = []
    for m in _QUANTITY.finditer(text):
        bound = (m["bound"] or "").strip().lower()
        number = m["n"] + (m["plus"] or "") + (m["scale"] or "")
        if m["unit"]:
            dimension, unit = _unit_of(m["unit"].strip())
            if dimension == "size":
                unit = m["unit"]
            sep = "" if unit in ("%", "×") else " "
            label = f"{number}{sep}{unit}"
        else:
            noun = m["noun"].lower()
            if len(m["n"]) == 4 and m["n"].startswith(("19", "20")):
                continue  # a year ("2024 models"), not a count
            dimension, label = noun.split()[-1].split("-")[-1], f"{number} {noun}"
        found.append((dimension, f"{bound} {label}".strip()))
    return found


def _excluded(label: str, excluded: set[str]) -> bool:
    words = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", label)}
    return bool(words & excluded)


# Sentences, and lines that start a list item or a heading; a line wrapped inside a paragraph is not
# a sentence ("…leaves out: async support,\nHTTP/2, cookies" denies HTTP/2 too). A table row is one.
_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n\s*\n\s*|\n(?=\s*(?:[-*+•|]|\d+[.)]\s|#|[A-Z][^\n]{0,40}:)|[^\n]*\S {2,}\S)")
# A comparison table's row with a "no" cell denies the attribute to one of the tools it compares.
_NEGATION = re.compile(
    r"\b(?:not|never|no longer|cannot|without|lacks?|omits?|leaves? out)\b|n't\b"
    r"|(?:\s{2,}|\|)\s*(?:no|✗|❌)\s*(?:\s{2,}|\||$)",
    re.IGNORECASE,
)


def extract(
    quotes: Iterable[str], exclude_words: Iterable[str] = (), only: frozenset[tuple[str, str]] | None = None
) -> list[Attribute]:
    """Attributes stated in ``quotes``, each with the indices of the quotes that state it.

    ``exclude_words``: words of the tool's own name (and its neighbours'), never an attribute.
    ``only``: look for these vocabulary terms (kind, lowercased label) alone, no quantities or acronyms;
    the same answer as the whole extraction restricted to them, at a fraction of the cost."""
    vocabulary = _COMPILED if only is None else [t for t in _COMPILED if (t[0], t[1].lower()) in only]
    excluded = {w.lower() for w in exclude_words if len(w) > 1}
    found: dict[tuple[str, str], tuple[str, str, list[int]]] = {}

    def add(kind: str, key: str, label: str, index: int) -> None:
        if _excluded(label, excluded) or _excluded(key, excluded):
            return
        # Two figures of one dimension ("40 ms", "under 5 ms") are two attributes; terms are one each.
        entry = found.setdefault((kind, (label if kind == "quantity" else key).lower()), (key, label, []))
        if index not in entry[2]:
            entry[2].append(index)

    for index, whole in enumerate(quotes):
        quote = _stating(whole, excluded)
        for kind, label in _terms(quote, vocabulary):
            add(kind, label, label, index)
        if only is not None:
            continue
        for dimension, label in _quantities(quote):
            add("quantity", dimension, label, index)
        for acronym in set(_ACRONYM.findall(quote)):
            if acronym in _GENERIC_ACRONYMS or re.fullmatch(r"[A-Z]\d+", acronym):
                continue  # furniture, or an item number ("W01"), not a named feature
            if zipf_frequency(acronym.lower(), "en") >= COMMON_WORD_ZIPF:
                continue  # an English word in capitals ("<EMAIL>", "KEY"), not an acronym
            # Only acronyms no vocabulary term already covers (HNSW is ANN search, PII is PII removal).
            if any(p.fullmatch(acronym) for _, _, p in _COMPILED):
                continue
            add("term", acronym, acronym, index)
    return [Attribute(kind, key, label, tuple(idx)) for (kind, _), (key, label, idx) in found.items()]


@lru_cache(maxsize=16384)
def remembered(quotes: tuple[str, ...], exclude_words: frozenset[str]) -> tuple[Attribute, ...]:
    """``extract``, remembered: the contrast refresh after one ingest re-reads the quotes of the new
    tool's neighbours and of their neighbours, the same quotes on every refresh (about a third of an
    ingest's CPU before). Quotes only change when a page is re-ingested, which makes a new key."""
    return tuple(extract(quotes, exclude_words))


def _stating(quote: str, excluded: set[str]) -> str:
    """The parts of a quote that can state the tool's attributes, joined. A sentence that denies
    something states no attribute: "we don't support Microsoft Windows"; one about another product
    states that product's features, not the tool's."""
    parts = [_own_part(part, excluded) for part in _SENTENCE.split(quote) if not _NEGATION.search(part)]
    return " ".join(parts)


# "Other frameworks can use…", "Most guard models…": a claim about other tools.
# ("Other methods, like HNSW…" are the tool's own.)
_OTHERS = re.compile(
    r"^\W*(?:other|most|many|some|several) (?:[a-z-]+ )?(?:frameworks|librar(?:y|ies)|tools|projects|packages|"
    r"queues|databases|services|clients|models|solutions|systems|products|alternatives|corpora|datasets)\b",
    re.IGNORECASE,
)
# "Redis is a fantastic fit …, a multi-purpose solution for … caching": the subject is another product.
_SUBJECT_VERB = re.compile(
    r"^\W*(?P<subject>(?:[A-Z][\w.+/-]*\s){1,2})(?:is|are|was|can|provides|offers|has|supports)\b"
)


def _own_part(sentence: str, excluded: set[str]) -> str:
    """The part of a sentence whose attributes are the tool's: all of it, except when the sentence is
    about another product (its subject is a term of the vocabulary that is not the tool's own name:
    only that product is kept, as something the tool works with) or about other tools in general."""
    if _OTHERS.match(sentence):
        return ""
    m = _SUBJECT_VERB.match(sentence)
    if m is None or _excluded(m["subject"], excluded):
        return sentence
    subject = m["subject"].strip()
    return subject if any(p.fullmatch(subject) for _, _, p in _COMPILED) else sentence


def _terms(text: str, vocabulary: list[tuple[str, str, re.Pattern[str]]] = _COMPILED) -> list[tuple[str, str]]:
    """(kind, label) of each vocabulary term in ``text``."""
    lowered = text.lower()
    # Each pattern scans the whole text; a page is 20k characters and there are 150 patterns, so skip
    # those whose first letters cannot occur (most of them, on any one page).
    return [
        (kind, label)
        for kind, label, pattern in vocabulary
        if _may_match(label, lowered) and any(not _implementation(kind, text, m) for m in pattern.finditer(text))
    ]


# "written in Rust", "a native Rust core": the language the tool is made in, not one it works with
# ("Rust bindings", "works with Python" are).
_MADE_IN_BEFORE = re.compile(
    r"(?:written|implemented|built|coded|developed) in (?:pure |native )?$|native $|backed by $", re.I
)
_MADE_IN_AFTER = re.compile(
    r"^[- ](?:core|engine|implementation|internals|extension|runtime|memory|layer)\b", re.IGNORECASE
)


def _implementation(kind: str, text: str, match: re.Match[str]) -> bool:
    if kind != "language":
        return False
    before = text[max(0, match.start() - 30) : match.start()]
    return bool(_MADE_IN_BEFORE.search(before) or _MADE_IN_AFTER.match(text[match.end() : match.end() + 20]))


def _may_match(label: str, lowered: str) -> bool:
    hints = _HINTS.get(label)
    return hints is None or any(h in lowered for h in hints)


def page_keys(text: str, exclude_words: frozenset[str]) -> set[tuple[str, str]]:
    """Every attribute a whole page states, as comparison keys; cached: a page is read on every
    refresh of every tool near it, and its text only changes when it is re-ingested."""
    return set(_page_keys(text, exclude_words))


# A page stating the first has the second: quantized vectors are compressed ones.
# (Backups and snapshots are two words for one guarantee; memory-mapped files live on disk; an OpenAPI
# 3 document is written in JSON Schema.)
_IMPLIES = {
    ("feature", "vector quantization"): ("feature", "compression"),
    ("storage", "backups"): ("storage", "snapshots"),
    ("storage", "snapshots"): ("storage", "backups"),
    ("storage", "memory-mapped files"): ("storage", "on-disk storage"),
    ("protocol", "openapi"): ("protocol", "json schema"),
}


@lru_cache(maxsize=512)
def _page_keys(text: str, exclude_words: frozenset[str]) -> frozenset[tuple[str, str]]:
    found = keys(extract([text], exclude_words))
    return frozenset(found | {_IMPLIES[k] for k in found if k in _IMPLIES})


def stated(text: str, wanted: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """The vocabulary terms of ``wanted`` a whole page states: ``wanted & page_keys(text, frozenset())``
    without reading the page's other attributes. Search asks this of hundreds of candidate pages per
    query, more than ``page_keys``' cache holds; most pages do not contain the term at all, which one
    scan of the raw text settles before the page is split into sentences."""
    _, vocabulary = _wanted_vocabulary(wanted)
    if not any(pattern.search(text) for _, _, pattern in vocabulary):
        return frozenset()
    return terms_stated(text, wanted)


def terms_stated(text: str, wanted: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """``wanted & page_keys(text, frozenset())``, reading ``text`` for the wanted terms (and those
    implying one) alone: no quantities, no acronyms and their word-frequency lookups, none of the
    other terms. Unlike ``stated``, without the scan of the raw text first: a pattern can match the
    text only once it is split into sentences and joined again ("on\n\nCPUs" is "on CPUs"), which
    a page almost never shows and a query may."""
    _, vocabulary = _wanted_vocabulary(wanted)
    quote = _stating(text, set())
    # ``_terms`` tries the patterns whose first letters (``_HINTS``, 2 or 3 of them) occur in the text,
    # asking each pattern in turn. For a short text its 2- and 3-letter pieces answer that for every
    # pattern at once (most of this function's time was that question before).
    lowered = quote.lower()
    pieces = {lowered[i : i + n] for n in (2, 3) for i in range(len(lowered) - n + 1)}
    likely = [t for t in vocabulary if (hints := _HINTS.get(t[1])) is None or not pieces.isdisjoint(hints)]
    # With no name words excluded, every term found is kept, keyed as ``keys`` keys it.
    found = {(kind, label.lower()) for kind, label in _terms(quote, likely)}
    return frozenset((found | {_IMPLIES[k] for k in found if k in _IMPLIES}) & wanted)


def vocabulary_keys(kinds: frozenset[str]) -> frozenset[tuple[str, str]]:
    """The comparison key of every vocabulary term of ``kinds``: what ``terms_stated`` can be asked for."""
    return frozenset((kind, label.lower()) for kind, label, _ in _COMPILED if kind in kinds)


@lru_cache(maxsize=64)
def _wanted_vocabulary(
    wanted: frozenset[tuple[str, str]],
) -> tuple[frozenset[tuple[str, str]], list[tuple[str, str, re.Pattern[str]]]]:
    """The terms to look for to answer ``stated(…, wanted)`` (with those implying a wanted one), and their patterns."""
    needed = wanted | {source for source, implied in _IMPLIES.items() if implied in wanted}
    return needed, [t for t in _COMPILED if (t[0], t[1].lower()) in needed]


def keys(attributes: Iterable[Attribute]) -> set[tuple[str, str]]:
    return {(a.kind, a.key.lower()) for a in attributes}


def phrase(attributes: list[Attribute]) -> str:
    """A verb phrase for attributes: "supports HTTP/2 and WebSocket, states 40 ms"."""
    groups: dict[str, list[str]] = {}
    for a in attributes:
        groups.setdefault(VERBS[a.kind], []).append(a.label)
    parts = [f"{verb} {_join(labels)}" for verb, labels in groups.items()]
    return _join(parts)


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
