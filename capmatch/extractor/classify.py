"""Tool-level facts read from the text by transparent rules: name, type, pricing, starting price,
license, summary. Each inference records the rule that fired and the text that triggered it;
when no rule fires the value is Unknown rather than a guess."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from capmatch.extractor.naming import is_generic_heading
from capmatch.extractor.sections import classify_section
from capmatch.extractor.segment import Block, sentences
from capmatch.models import Inference, Price, Pricing, ToolType

# Head nouns in a self-description ("X is an open-source Python library …") -> type.
_TYPE_NOUNS: list[tuple[str, ToolType]] = [
    (
        r"api services?|web services?|hosted (?:service|api)|managed (?:service|api)|saas|cloud service|"
        r"rest api|inference api|endpoint",
        ToolType.API_SERVICE,
    ),
    (
        r"datasets?|corpus|corpora|benchmark|collection of [\w\s-]{0,30}(?:examples|problems|pairs|files)",
        ToolType.DATASET,
    ),
    (
        r"(?:language |foundation |embedding |vision |safety |guard )?models?|classifiers?|llm|checkpoints?|"
        r"weights",
        ToolType.MODEL,
    ),
    (r"frameworks?|microframework", ToolType.FRAMEWORK),
    (
        r"libraries|library|packages?|toolkits?|sdk|client|module|wrappers?|bindings?|extension|plugin",
        ToolType.LIBRARY,
    ),
    (
        # A program people run rather than import: "a command-line interface for Postgres", "a CLI tool".
        r"databases?|servers?|applications?|app|platform|dashboard|search engine|vector store|engine|"
        r"self-hosted|web server|command[- ]line (?:tools?|interfaces?|clients?|utilit(?:y|ies)|programs?)|"
        r"cli(?: tools?)?|terminal (?:app|application|client)s?|desktop (?:app|application)s?",
        ToolType.APPLICATION,
    ),
]
# "X is a lightweight WSGI web application framework for …": the phrase ends at a preposition or clause.
_SELF_DESCRIPTION = re.compile(
    r"\b(?:is|are)\s+(?:a|an|the)\s+(?P<phrase>(?:[^.;:!?]|[.:](?=\S)){1,120}?)"
    r"(?=\s+(?:for|that|which|who|with|to|built|written|designed|based|focused|where|in|on|from|of|"
    r"used|providing|allowing|enabling|and\s+(?:is|it|can))\s|,\s+(?:which|that|and|but|so|while|with)\b|"
    r"[.;:!?](?:\s|$)|$)",
    re.IGNORECASE,
)
_TYPE_NOUN = re.compile("|".join(f"\\b(?:{n})\\b" for n, _ in _TYPE_NOUNS), re.IGNORECASE)
# Evidence anywhere in the text, weighted, used when the self-description is missing.
_TYPE_HINTS: list[tuple[ToolType, str, float]] = [
    (ToolType.DATASET, r"\b(?:dataset|corpus|training data|data card)\b", 1.0),
    (
        ToolType.MODEL,
        r"\b(?:\d+(?:\.\d+)?[BM][- ]param\w*|billion parameters|weights|fine-tuned|checkpoints?|"
        r"model card|context window)\b",
        1.0,
    ),
    (ToolType.LIBRARY, r"\b(?:pip install|npm install|cargo add|go get|import \w+|library|package)\b", 1.0),
    (ToolType.FRAMEWORK, r"\bframework\b", 1.5),
    (
        ToolType.API_SERVICE,
        r"\b(?:api key|sign up|per request|requests per|rate limit|dashboard|hosted)\b",
        0.8,
    ),
    (ToolType.APPLICATION, r"\b(?:self-hosted|docker run|docker compose|web interface|helm)\b", 1.0),
]

_PRICE = re.compile(
    r"(?P<cur>[$€£]|USD\s?|EUR\s?)(?P<amount>\d+(?:[.,]\d+)?(?:e-?\d+)?)\s*(?P<unit>(?:/|per|an?|each)\s*"
    r"(?:(?:1|one)\s?(?:[KM]|million|thousand|billion)\s+|\d+[KkMm]?\s+|million\s+|thousand\s+)?"
    r"(?:(?:input|output|prompt|completion)\s+)?(?:tokens?|requests?|calls?|months?|mo|users?|seats?|hours?|hr|"
    r"GB|queries|query|images?|minutes?|min|years?|yr|vectors?|characters?|pages?|documents?|month|executions?))?",
    re.IGNORECASE,
)
_FREEMIUM = re.compile(
    r"\bfree (?:tier|plan|forever plan|quota|allowance)\b|\bfree up to\b|\bfirst [\d,]+ \w+ (?:are )?free\b",
    re.IGNORECASE,
)
_PAID = re.compile(
    r"\b(?:paid plans?|enterprise plan|billed (?:monthly|annually)|charges? per|pay[- ]as[- ]you[- ]go)\b",
    re.IGNORECASE,
)
_FREE = re.compile(
    r"\b(?:free and open[- ]source|open[- ]source|free software|free to use|free of charge|at no cost|"
    r"open[- ]weights?|released under|licensed under|MIT licen[cs]e|BSD licen[cs]ed|Apache[- ]2\.0|"
    r"(?:BSD|MIT|Apache|GPL|LGPL|AGPL|MPL)[- ]licensed|CC[- ]BY)",
    re.IGNORECASE,
)
_LICENSES: list[tuple[str, str]] = [
    (r"\bApache(?: License)?[ ,-]*(?:v(?:ersion)?\s?)?2(?:\.0)?\b", "Apache-2.0"),
    (r"\bMIT(?: License)?\b", "MIT"),
    (r"\bBSD[- ]3[- ]Clause\b|\b3-clause BSD\b", "BSD-3-Clause"),
    (r"\bBSD[- ]2[- ]Clause\b|\b2-clause BSD\b", "BSD-2-Clause"),
    (r"\bBSD(?: licen[cs]e[ds]?)?\b", "BSD"),
    (r"\bAGPL(?:[- ]?v?3(?:\.0)?)?\b", "AGPL-3.0"),
    (r"\bLGPL(?:[- ]?v?[23](?:\.\d)?)?\b", "LGPL"),
    (r"\bGPL[- ]?v?3(?:\.0)?\b|GNU General Public License v3", "GPL-3.0"),
    (r"\bGPL[- ]?v?2(?:\.0)?\b", "GPL-2.0"),
    (r"\bMPL[- ]?2(?:\.0)?\b|Mozilla Public License", "MPL-2.0"),
    (r"\bCC[- ]BY[- ]SA[- ]4\.0\b", "CC-BY-SA-4.0"),
    (r"\bCC[- ]BY[- ]4\.0\b", "CC-BY-4.0"),
    (r"\bCC0\b", "CC0-1.0"),
    (r"\bUnlicense\b", "Unlicense"),
    (r"\bISC licen[cs]e\b", "ISC"),
]
_NAMED_LICENSE = re.compile(
    r"\b(?:under|licensed under|released under)\s+(?:the\s+)?(?P<name>(?:[A-Z][\w.-]*\s+){1,5}Licen[cs]e)\b"
)
_LICENSE_CONTEXT = re.compile(r"licen[cs]|released under|distributed under", re.IGNORECASE)


@dataclass(frozen=True)
class ToolFacts:
    type: Inference
    pricing: Inference
    price: Price | None
    license: str | None
    summary: str


def rule_facts(text: str, blocks: list[Block], name: str | None = None) -> ToolFacts:
    pricing, price = infer_pricing(own_statements(text, name))
    return ToolFacts(infer_type(text, blocks), pricing, price, infer_license(text), summary(blocks, name))


def unsettled(facts: ToolFacts, text: str) -> list[str]:
    """The facts the rules leave open, which a model may still read from the page: the type or the
    pricing when Unknown, the starting price of a paid or freemium tool when none was found, the
    licence when none was read but a line speaks of one ("See the license file", a "License" heading).
    Empty: the rules settle the facts, and the LLM backend asks the model for capabilities only."""
    left = []
    if facts.type.value == ToolType.UNKNOWN.value:
        left.append("type")
    if facts.pricing.value == Pricing.UNKNOWN.value:
        left.append("pricing")
    elif facts.pricing.value != Pricing.FREE.value and facts.price is None:
        left.append("price")
    if facts.license is None and _license_sentences(text):
        left.append("license")
    return left


def tool_name(title: str | None, url: str) -> str:
    """The page's title up to its first separator, else a name made from the URL.

    A title that reads as a slogan or a notice ("The Multimodal AI Lakehouse", "Async http
    client/server framework", "CONTRIBUTIONS ONLY") gives way to the repository or file name."""
    from_url = _url_name(url)
    if title:
        head = re.split(r"\s+[|·•—–]\s+|\s+--?\s+|:\s+", title, maxsplit=1)[0].strip()
        # An image's alt text ("dynaconf. new logo", "Acme official logo"): the name is before the logo words
        # and never runs on past a full stop.
        head = re.sub(r"(?:[\s.]+(?:new|official|project|the|main))*[\s.]+logo$", "", head, flags=re.IGNORECASE)
        head = re.split(r"\.\s", head, maxsplit=1)[0].strip()
        # "DeepDiff v 9.1.0", "PyInstaller Overview": a release number or a document word after the name.
        head = re.sub(r"\s+(?:v\s?)?\d+(?:\.\d+)+\S*$", "", head, flags=re.IGNORECASE)
        head = re.sub(r"\s+(?:overview|documentation|docs|readme|introduction|manual)$", "", head, flags=re.IGNORECASE)
        if 1 <= len(head) <= 60 and not (from_url and (_slogan(head) or _not_a_name(head))):
            return head
    return from_url or (urlsplit(url).hostname or "tool").removeprefix("www.")


_GENERIC_STEMS = {"readme", "index", "docs", "overview", "features", "introduction", "home", "about"}


def _url_name(url: str) -> str | None:
    """The repository's name, or the last specific file or folder name of the URL."""
    parts = urlsplit(url)
    path = [p for p in PurePosixPath(unquote(parts.path)).parts if p not in ("/", "")]
    if parts.hostname in ("github.com", "raw.githubusercontent.com", "gitlab.com") and len(path) >= 2:
        return path[1]
    stems = [PurePosixPath(p).stem for p in path if PurePosixPath(p).stem.lower() not in _GENERIC_STEMS]
    # A downloaded release's file ("pgcli-4.7.1.rst") names the tool, not its version.
    return re.sub(r"[-_]v?\d+(?:\.\d+)+$", "", stems[-1]) if stems else None


# A title that is a section heading ("Key Features") or a badge's call to action ("Join chatroom",
# "Read the docs"): the page opened with something other than the tool's name.
_CALL_TO_ACTION = re.compile(
    r"^(?:join|read|try|get|download|install|see|visit|click|follow|chat|sponsor|donate|star)\b", re.IGNORECASE
)


# A navigation label ("Quick links", "Table of contents", "Useful resources"): a README that opens with
# badges and then its link list has no title line, and the first heading is not the tool.
_NAVIGATION = re.compile(
    r"^(?:(?:quick|useful|related|important|external|other)\s+)?(?:links?|(?:table of )?contents|toc|navigation|"
    r"menu|resources|index|documentation|docs)\W*$",
    re.IGNORECASE,
)


# An image's alt text that is only the logo words ("Logo", "Project logo"): nothing is left of a name.
_LOGO = re.compile(r"^(?:(?:the|project|main|official|new)\s+)*logo\W*$", re.IGNORECASE)


def _not_a_name(head: str) -> bool:
    return is_generic_heading(head) or bool(_CALL_TO_ACTION.match(head) or _NAVIGATION.match(head) or _LOGO.match(head))


def _slogan(head: str) -> bool:
    """A phrase about the tool rather than its name: four or more words, or a shouted notice."""
    words = head.split()
    return len(words) >= 4 or (len(words) >= 2 and head.isupper())


def infer_type(text: str, blocks: list[Block]) -> Inference:
    intro = _intro(blocks)
    for sentence in intro:
        for match in _SELF_DESCRIPTION.finditer(sentence):
            phrase = match.group("phrase")
            nouns = list(_TYPE_NOUN.finditer(phrase))
            if not nouns:
                continue
            # The head noun is the last one: "web application framework" is a framework.
            noun = nouns[-1].group(0).lower()
            if re.search(r"\bself-hosted\b", phrase, re.IGNORECASE):
                return Inference(value=ToolType.APPLICATION.value, rule="self-description: self-hosted", quote=sentence)
            if re.search(r"\b(?:managed|hosted|serverless)\b", phrase, re.IGNORECASE) and not re.search(
                r"model|dataset", noun
            ):
                return Inference(
                    value=ToolType.API_SERVICE.value, rule="self-description: managed/hosted", quote=sentence
                )
            for pattern, tool_type in _TYPE_NOUNS:
                if re.fullmatch(pattern, noun, re.IGNORECASE):
                    return Inference(value=tool_type.value, rule=f"self-description: '{noun}'", quote=sentence)
    scores: dict[ToolType, float] = {}
    for tool_type, pattern, weight in _TYPE_HINTS:
        scores[tool_type] = weight * len(re.findall(pattern, text, re.IGNORECASE))
    best = max(scores, key=lambda t: scores[t])
    ranked = sorted(scores.values(), reverse=True)
    if ranked[0] >= 3 and ranked[0] >= 1.5 * ranked[1]:
        return Inference(value=best.value, rule=f"keyword count {ranked[0]:g} vs {ranked[1]:g}")
    return Inference(value=ToolType.UNKNOWN.value, rule="no self-description and no clear keyword majority")


# Sentences about someone else: a testimonial ("Netflix is pleased to announce the open-source …"),
# a sponsor's offer ("The maintainers of X and thousands of other packages are working with Tidelift").
_NOT_OURS = re.compile(
    r"^\W*[\"“'*_]|\btidelift\b|\bmaintainers of\b|\bthousands of other\b|\bsponsor|\bsubscription\b.*\bcompan",
    re.IGNORECASE,
)


def own_statements(text: str, name: str | None) -> str:
    """The page's sentences minus those about other parties, so pricing rests only on what the page
    says about this tool (a licence line counts: it is about the project's own code)."""
    kept = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
        if sentence.strip() and not _NOT_OURS.search(sentence):
            kept.append(sentence)
    return "\n".join(kept)


def infer_pricing(text: str) -> tuple[Inference, Price | None]:
    price = starting_price(text)
    freemium = _FREEMIUM.search(text)
    paid = _PAID.search(text)
    free = _FREE.search(text)
    if freemium:
        return Inference(
            value=Pricing.FREEMIUM.value, rule="free tier or plan stated", quote=_around(text, freemium)
        ), price
    if (price or paid) and free:
        trigger = paid or free
        return (
            Inference(
                value=Pricing.FREEMIUM.value,
                rule="free/open option and paid option both stated",
                quote=_around(text, trigger),
            ),
            price,
        )
    if price or paid:
        quote = price.quote if price else _around(text, paid)  # type: ignore[arg-type]
        return Inference(value=Pricing.PAID.value, rule="prices or paid plans stated", quote=quote), price
    if free:
        return Inference(
            value=Pricing.FREE.value, rule="open-source or free licence stated", quote=_around(text, free)
        ), None
    return Inference(value=Pricing.UNKNOWN.value, rule="no pricing or licence statement found"), None


def starting_price(text: str) -> Price | None:
    best: Price | None = None
    for match in _PRICE.finditer(text):
        amount = float(match.group("amount").replace(",", ""))
        if amount <= 0:
            continue
        currency = {"$": "USD", "€": "EUR", "£": "GBP"}.get(
            match.group("cur").strip().upper()[:1], match.group("cur").strip().upper()
        )
        unit = " ".join((match.group("unit") or "").split())
        unit = re.sub(r"^(?:/|an?|each)\s*", "per ", unit).replace("per mo", "per month") if unit else ""
        unit = re.sub(r"\bper month(?:nth)?s?\b", "per month", unit)
        candidate = Price(amount=amount, currency=currency, unit=unit, quote=_sentence_at(text, match.start()))
        if not unit:
            continue  # "$10" alone is as often an example value as a price
        if best is None or amount < best.amount:
            best = candidate
    return best


def infer_license(text: str) -> str | None:
    for sentence in _license_sentences(text):
        for pattern, spdx in _LICENSES:
            if re.search(pattern, sentence, re.IGNORECASE if spdx.startswith("Apache") else 0):
                return spdx
        named = _NAMED_LICENSE.search(sentence)
        if named:
            return " ".join(named.group("name").split())
    return None


_SELF = re.compile(r"\b(?:is|are)\s+(?:a|an|the)\b")


def summary(blocks: list[Block], name: str | None = None) -> str:
    """The page's own sentence saying what the tool is: one naming the tool with "is a/an", else any
    "is a/an" sentence, else the first. Sponsor, install and similar sections are not read."""
    intro = _intro(blocks)
    short = (name or "").lower().split(" ")[0]
    preferences = [
        lambda s: bool(short) and short in s.lower() and _SELF.search(s) is not None,
        lambda s: _SELF.search(s) is not None and len(s.split()) >= 5,
        lambda s: not s.endswith(":"),  # "To get something from the web:" introduces, it does not describe
    ]
    for prefer in preferences:
        for sentence in intro:
            if prefer(sentence):
                return sentence
    return intro[0] if intro else ""


def _intro(blocks: list[Block]) -> list[str]:
    """Sentences of the first paragraphs: where a page says what the tool is."""
    out: list[str] = []
    for block in blocks:
        if block.kind == "paragraph" and classify_section(block) != "skip":
            for span in sentences(block.span):
                text = " ".join(span.text.split())
                if len(text.split()) >= 4 and not text.startswith(("$", "pip ", ">>>", "|")) and not text.endswith("?"):
                    out.append(text)
        if len(out) >= 40:
            break
    return out


def _license_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if _LICENSE_CONTEXT.search(s)]


def _around(text: str, match: re.Match[str]) -> str:
    return _sentence_at(text, match.start())


def _sentence_at(text: str, index: int) -> str:
    start = max(text.rfind("\n", 0, index), text.rfind(". ", 0, index) + 1)
    end_candidates = [i for i in (text.find("\n", index), text.find(". ", index)) if i != -1]
    end = min(end_candidates) + 1 if end_candidates else len(text)
    return " ".join(text[start:end].split())[:300]


# ---- does a quote state a value? (used to accept an LLM's classification) --------------------
_PRICING_WORDS = {
    "Free": re.compile(
        r"\bfree\b|open[- ]source|open[- ]weights?|no cost|at no charge|licen[cs]e[ds]?\b|"
        r"\b(?:MIT|Apache|BSD|GPL|LGPL|AGPL|MPL|CC[- ]BY)\b",
        re.IGNORECASE,
    ),
    "Paid": re.compile(
        r"[$€£]\s?\d|\bUSD\b|\bEUR\b|\bpric(?:e|ing)\b|\bpaid\b|\bsubscription|\bper (?:month|"
        r"year|seat|user|token|request)|\bbill(?:ed|ing)\b|\bplans?\b|\bcharges?\b",
        re.IGNORECASE,
    ),
}


def states_pricing(pricing: str, quote: str | None) -> bool:
    quote = quote or ""
    if pricing == "Freemium":
        return bool(_PRICING_WORDS["Free"].search(quote) or re.search(r"\bfree (?:tier|plan|trial)", quote, re.I))
    pattern = _PRICING_WORDS.get(pricing)
    return bool(pattern and pattern.search(quote))


def states_type(tool_type: str, quote: str | None) -> bool:
    quote = quote or ""
    for pattern, candidate in _TYPE_NOUNS:
        if candidate.value == tool_type and re.search(rf"\b(?:{pattern})\b", quote, re.IGNORECASE):
            return True
    return False


def currency_in(quote: str | None) -> str | None:
    """The currency a price quote states, by code or symbol ("$0.18", "9 EUR"), or None."""
    quote = quote or ""
    for code, symbol in _CURRENCY_SYMBOLS.items():
        if symbol in quote or re.search(rf"\b{code}\b", quote, re.IGNORECASE):
            return code
    return None


_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def states_price(amount: float, currency: str | None, quote: str | None) -> bool:
    quote = (quote or "").replace(",", "")
    numbers = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", quote)}
    if amount not in numbers:
        return False
    symbols = {"USD": "$", "EUR": "€", "GBP": "£"}
    code = (currency or "USD").upper()
    return code in quote.upper() or symbols.get(code, "\x00") in quote


def states_license(name: str, quote: str | None) -> bool:
    """The licence's distinctive word (MIT, Apache, BSD, GPL, CC, or the name's first word) is in the quote."""
    quote = (quote or "").lower()
    words = re.findall(r"[a-z0-9]+", name.lower())
    key = next((w for w in words if w not in ("the", "license", "licence", "v", "version")), "")
    return bool(key) and key in quote
