"""Which sections of a page describe what a tool does: classed by their headings.

- feature: "Features", "Highlights", "Why X?", "Key capabilities", …
- skip: installation, licence, contributing, sponsors, pricing, … (never capabilities)
- low: usage, examples, quick start, tutorials (described, but as steps)
- neutral: everything else
"""

from __future__ import annotations

import re

from capmatch.extractor.naming import clean_heading
from capmatch.extractor.segment import Block

FEATURE_SECTION = re.compile(
    r"\b(?:features?|highlights?|capabilit(?:y|ies)|why\b|what (?:it|you) (?:does|do|get|can)|benefits?|"
    r"advantages?|at a glance|batteries|what'?s included|key\b|core\b|main\b|functionality|overview)",
    re.IGNORECASE,
)
# Headings whose section never describes capabilities. Words that also open descriptive headings
# ("Build fast", "Support for X") only count at the start of a short heading.
SKIP_SECTION = re.compile(
    r"\b(?:install\w*|licen[cs]\w*|contribut\w*|sponsor\w*|backers?|donat\w*|funding|acknowledg\w*|"
    r"citations?|citing|change ?log|release notes|table of contents|code of conduct|star history|"
    r"dependenc\w*|enterprise|tidelift|troubleshoot\w*|"
    r"pricing|billing|newsletter|copyright|deprecat\w*|known issues|who uses|used by|adopters|"
    r"testimonials?|get in touch|stay in touch|follow us|"
    # Pointers elsewhere and talk about the project rather than the tool: not what it does.
    r"demo projects?|showcase|case stud\w*|further reading|external links|blog posts?|talks|videos?|webinars?|"
    r"podcasts?|related (?:projects|work|libraries|tools)|other (?:libraries|projects|tools)|inspirations?|"
    r"security (?:disclosures?|policy|issues|contact)|disclosures?|test matrix|automated tests|"
    r"where do i go|what'?s next|next steps|learn more|professional support|commercial support|"
    r"governance|collaborators|partners|about \.?\w+|contacts?|get involved|project (?:info\w*|links|status)|"
    r"thanks)\b"
    r"|^\W*(?:set ?up|credits?|authors?|maintainers?|cite|history|contents|toc|community|contact|"
    r"support|faq|questions|discussions?|chat|help|requirements?|prerequisites|getting help|"
    r"documentation|docs|links|resources|related|see also|tests?|testing|running tests|development|"
    r"developing|building|build from source|security|team|roadmap|badges?|thanks|versioning|migrat\w*|"
    r"upgrad\w*|stats|status|news|blog|papers?|publications?|references?|legal|disclaimer|privacy|terms|"
    r"plans?|sign ?up|contributors?|users|showcase|social|footer|navigation|menu|changes|limitations|"
    r"license|opinions?|about (?:us|the (?:authors?|team))|sponsors?)\W*$",
    re.IGNORECASE,
)
# Sections the extractive decomposer also skips: what the tool is not or should not be used for ("When
# not to use X", "What X is not"), others' bindings of it ("Third-party bindings") and example apps kept
# elsewhere: limits, other products and links. Kept apart from SKIP_SECTION so the condensed page the LLM
# backend reads (extractor.condense), whose replayed answers are keyed by the prompt, stays as it was.
# Also the page's limits ("Known limitations", "Caveats", "Not supported"), screenshots (their captions
# name a picture, not a feature), where to get the tool ("Ok, how do I get it?": packages and installs) and
# headings in the authors' voice ("We stand with …", "We're hiring"): notices, not the tool.
ASIDE_SECTION = re.compile(
    r"\b(?:when not to|what [\w.-]+ (?:is|does) not|third[- ]party|"
    r"why (?:not|shouldn'?t|should not|wouldn'?t|would not|you (?:shouldn'?t|should not))\b|"
    r"example (?:apps?|applications|projects|repositories)|"
    r"limitations|caveats|known (?:issues|bugs|limitations|problems)|gotchas|pitfalls|not supported|unsupported|"
    r"screenshots?|how (?:do|can) (?:i|you|we) (?:get|install|obtain|download)|where (?:to|can i) (?:get|download)|"
    # Adopters and the reader's support of the project ("Who's using X", "In the wild", "Show your
    # support", "Spread the word"): other projects' names and badges, not the tool.
    r"who(?:'s| is| are)? using|(?:they|who) use|in the wild|powered by|trusted by|show (?:your|some) (?:support|love)|"
    r"spread the word|support (?:the|this|our) project|"
    # Pointers to other pages and other tools ("Quick links", "Useful resources", "Similar projects",
    # "Alternatives"): link lists and other products, not this tool's features.
    r"(?:quick|useful|helpful|handy|important|other|more|external|further|additional)\s+(?:links|resources)|"
    r"similar (?:projects|tools|libraries|packages|software))\b|"
    r"^\W*alternatives?\b|\balternatives\W*$|"
    # Caveats under other words ("Security considerations", "Additional issues"), the maintainers' release
    # routine ("Making releases", "Release process"), the interpreter versions it needs ("Python
    # support") and how it relates to other projects ("Relation to other datasets"): limits, meta,
    # requirements and other products.
    r"\bconsiderations\b|\b(?:additional|other|open|remaining) issues\b|"
    r"\brelation(?:ship)? to other\b|"
    r"\b(?:making|cutting) (?:a )?releases?\b|\breleasing\b|\brelease (?:process|checks|workflow|procedure)\b|"
    r"^\W*(?:supported )?python (?:support|versions?|compatibility)\W*$|^\W*talks?\W*$|"
    # The project's story ("Context", "Background", "Origins", "The name"): history and meta. Only as the
    # whole heading: "Background jobs" is a feature.
    r"^\W*(?:context|background|origins?|etymology|(?:the )?name|story|(?:project )?history)\W*$|"
    r"^\W*we(?:'re|'ve| are| have)?\s|"
    # The maintainers' own business: a user survey, a contributor's local set-up ("Local dev").
    r"^\W*(?:user |community )?surveys?\W*$|\blocal dev\w*|\bdev(?:elopment)? (?:set ?up|environment)\b|"
    # A release's news ("What is new?", "What's new in 2.0"): a changelog under another name.
    r"^\W*what(?:'s| is) new\b|\brelease highlights\b",
    re.IGNORECASE,
)
LOW_VALUE_SECTION = re.compile(
    r"\b(?:usage|examples?|samples?|sample code|quick ?start|get(?:ting)? started|tutorial|demo|hello world|"
    r"how to|guide|configuration|configuring|api reference|reference|cli|command[- ]line|running|deploy\w*)\b",
    re.IGNORECASE,
)
# Low-value words that name a topic rather than a walkthrough: under a feature section,
# "Features > Distributed Deployment" or "Features > CLI" is a feature, not a tutorial step.
TOPIC_SECTION = re.compile(
    r"\b(?:configuration|configuring|api reference|reference|cli|command[- ]line|deploy\w*)\b",
    re.IGNORECASE,
)


# A changelog's entries are versions and dates ("5.0.0", "2024-01-02", "Unreleased"). A heading of other
# words one level under it ("Usage", "Compatibility") is a section of its own that the author gave the
# entries' underline: RST levels follow the order underlines first appear, so a README that puts its
# changelog before "Usage" files "Usage" under it (bcrypt's README does).
CHANGELOG_SECTION = re.compile(
    r"^\W*(?:change ?log|changes|release (?:notes|history)|history|version history|what(?:'s| is) new)\W*$",
    re.IGNORECASE,
)
_CHANGELOG_ENTRY = re.compile(r"\d|\b(?:unreleased|upcoming|next|master|main|head|dev\w*)\b", re.IGNORECASE)


def _without_misfiled_changelog(path: list[str]) -> list[str]:
    """``path`` without a changelog heading whose child on the path is not one of its entries."""
    for depth, heading in enumerate(path[:-1]):
        if CHANGELOG_SECTION.search(heading) and not _CHANGELOG_ENTRY.search(path[depth + 1]):
            return path[:depth] + path[depth + 1 :]
    return path


def classify_section(block: Block, asides: bool = False) -> str:
    """The block's section class; with ``asides``, ASIDE_SECTION headings skip too, and a section
    misfiled under a changelog is classed by its own heading."""
    path = [clean_heading(h) for h in block.section]
    if asides:
        # Only with asides: the condensed page the LLM backend reads keeps its sections as they were.
        path = _without_misfiled_changelog(path)
    # A skipped ancestor (e.g. "Installation > Windows") skips too.
    if any(SKIP_SECTION.search(h) or (asides and ASIDE_SECTION.search(h)) for h in path):
        return "skip"
    # The nearest heading that says anything decides: "Features > Hybrid Search" is a feature, and so
    # is "Features" itself; "Usage > Advanced" is a tutorial.
    for depth in range(len(path) - 1, -1, -1):
        heading = path[depth]
        if FEATURE_SECTION.search(heading):
            return "feature"
        if LOW_VALUE_SECTION.search(heading):
            tutorial = bool(LOW_VALUE_SECTION.search(TOPIC_SECTION.sub(" ", heading)))
            if not tutorial and any(FEATURE_SECTION.search(h) for h in path[:depth]):
                return "feature"
            return "low"
    return "neutral"
