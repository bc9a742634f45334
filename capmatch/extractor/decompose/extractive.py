"""Offline extractive decomposer: no LLM, no network, deterministic.

It reads the document's structure, not just its words:
1. Sections are classed by heading: feature sections ("Features", "Highlights", "Why X?"), skipped
   ones (installation, license, contributing, …) and the rest.
2. Candidates come from bullets (each bullet of a feature list; a run of short bullets under a
   descriptive heading becomes one capability named after the heading), from descriptive headings
   with their first sentences, and from sentences that describe what the tool does.
3. Candidates are ranked (section class, structure, wording), near-duplicates are merged by embedding
   similarity, and 3-15 survive in document order.
Names are noun phrases made by rules (extractor.naming); descriptions and quotes are source text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from wordfreq import zipf_frequency

from capmatch.embeddings.model import Embedder
from capmatch.errors import NoCapabilities
from capmatch.extractor.classify import ToolFacts, rule_facts
from capmatch.extractor.coordination import feature_items
from capmatch.extractor.decompose.admit import AdmitModel, structural
from capmatch.extractor.decompose.base import CapabilityDraft, ContrastLines, Neighbour, SourceDocument
from capmatch.extractor.decompose.merge import MAX_QUOTES, MERGE_SIMILARITY, group_near_duplicates
from capmatch.extractor.injection import addresses_a_model
from capmatch.extractor.lists import announces_features, identity_intro, last_clause, points_to_reading
from capmatch.extractor.naming import (
    STOPWORDS,
    after_framing_phrase,
    clean_heading,
    dedupe_names,
    domain_noun,
    expand_label,
    is_generic_heading,
    is_good_name,
    is_identity_name,
    keyphrase_candidates,
    name_from_sentence,
    split_lead,
)
from capmatch.extractor.sections import (
    FEATURE_SECTION,
    LOW_VALUE_SECTION,
    SKIP_SECTION,
    TOPIC_SECTION,
    classify_section,
)
from capmatch.extractor.segment import Block, Span, segment, sentences

MIN_CAPABILITIES = 3
MAX_CANDIDATES = 200
# Real READMEs state 15 capabilities on average and up to about 35 (the gold set in fixtures/gold):
# a cap of 15 dropped headline features of long pages.
EXTRACTIVE_MAX = 25
MAX_DESCRIPTION_CHARS = 480

CAPABILITY_CUE = re.compile(
    r"\b(?:support(?:s|ed|ing)?|provid(?:es?|ing)|offer(?:s|ing)?|includ(?:es?|ing)|enabl(?:es?|ing)|"
    r"allow(?:s|ing)?|lets?|comes? with|ships? with|built[- ]in|out of the box|automatic(?:ally)?|"
    r"native(?:ly)?|integrat\w+|compatible|designed (?:for|to)|handles?|exposes?|scales?|detects?|"
    r"classif\w+|generat\w+|filter\w*|dedup\w*|redact\w*|stores?|index\w*|search\w*|retriev\w*|"
    r"schedul\w+|validat\w+|serializ\w+|pars\w+|async\w*|stream\w*|runs?|returns?|translat\w+|convert\w*|"
    r"encod\w*|decod\w*|cach\w+|retr(?:y|ies)|queue\w*|replicat\w+|quantiz\w+|compress\w*|monitor\w*|"
    r"track\w*|export\w*|import\w*|sync\w*|authenticat\w*|encrypt\w*|deploy\w*|fast(?:er|est)?|"
    r"performance|scalable|concurren\w+|parallel\w*|can\b|(?:is|are) an? |wraps?\b|wrapper|bindings?\b)",
    re.IGNORECASE,
)
NOISE = re.compile(
    r"(?:https?://|www\.|pip install|npm install|docker run|conda install|brew install|git clone|"
    r"\bstar us\b|\bstar(?:red)? on github\b|\bsponsor|\bcontribut|\bpull requests?\b|\bissue tracker\b|"
    r"\bcode of conduct\b|\bread the docs\b|\bsee the (?:docs|documentation)\b|\bcheck out\b|"
    r"\bjoin (?:us|our)\b|\bdiscord\b|\bslack\b|\btwitter\b|\bnewsletter\b|\bcopyright\b|©|"
    r"\blicen[cs]ed? under\b|\ball rights reserved\b|\bthank(?:s| you)\b|\bsubscribe\b|"
    # A site's cookie notice, not HTTP cookies, which clients and frameworks handle as a feature
    # ("Sessions with Cookie Persistence").
    r"\b(?:we|this (?:site|website)) uses? cookies\b|\bcookie (?:policy|settings|consent|banner|preferences)\b|"
    r"\baccept (?:all )?cookies\b|"
    # Pointers to other material, not claims: "Full documentation can be found here".
    r"\bcan be found\b|\bfull documentation\b|\b(?:learn|read) more\b|\bblog\b|\bwebinars?\b|\bpodcasts?\b|"
    r"\byoutube\b|\bsupport(?:ing)? (?:this|the) project\b|\bconsider supporting\b|\bgive (?:us|it) a star\b|"
    r"\bwe(?:'re| are) hiring\b|\bhead (?:over )?to\b|\b(?:first|next) steps\b|\bget(?:ting)? started\b|"
    r"\bquick ?(?:tour|start)\b|\btutorials?\b|\breport (?:a )?bugs?\b|\bcit(?:e|ing|ation)\b|\byour logo\b|"
    r"\bschedule a (?:call|meeting|demo)\b|\bdocumentation (?:gives|is available|explains|describes)\b|"
    # The project's versioning policy ("maintained according to semantic versioning", "Current Version:
    # 2.1", "The API has been stable since 1.0"): meta, not a feature.
    r"\bsemantic versioning\b|\bsemver\b|\bcurrent version\b|\bstable since\b|"
    # An announcement ("the results will be posted") and a repository or template pointed at ("the X
    # fullstack repository can give you a good impression …").
    r"\bwill be (?:posted|published|announced|shared)\b|"
    r"^(?:additionally,?\s+|also,?\s+)?(?:the|this|our|a|an)\s+[\w -]{0,30}?\b(?:repository|repo|template|starter|"
    r"boilerplate|cookiecutter)\s+(?:can|will|shows?|gives?|contains?|demonstrates?|has)\b|"
    # The release policy ("a major release sheds off the old …, minor releases ship …") and the issue
    # page: how the project is run, not what the tool does.
    r"\b(?:major|minor|micro|patch) releases?\b|\bissues? page\b|"
    # Which release supports which runtime ("the last version of X which will support Python 3.9").
    r"\b(?:last|older|newer|previous|earlier) versions?\b|"
    # Setting up a working copy of the project ("Cloning the repository"): a contributor's step.
    r"\bclon(?:e|ing) the repo|"
    # A pointer to examples elsewhere ("example code", "a full example of how to use …").
    r"\bexample (?:code|apps?|applications|projects)\b|\bfull example\b|"
    # The reader pointed at something to try or read ("You can also try out their modes!").
    r"^\s*you (?:can|could|may|might) (?:also )?(?:try|check|find|read|see|visit|watch|join|follow)\b|"
    # The document talking about itself or the project's history ("The figure below shows …", "There is
    # a CHANGELOG", "This can be reproduced using the script", "Prior to version 2 it was known as …").
    r"\b(?:figure|table|chart|graph|plot|diagram|image)s? (?:below|above)\b|\bbelow (?:is|are) (?:the|a)\b|"
    r"\bchangelog\b|\breproduc(?:e|ed|ing) (?:using|with|by)\b|\bprior to (?:version|v?\d)|"
    r"\b(?:was|were|formerly) (?:known|called|named) as\b|"
    # A shell command line set as prose ("export FOO_PATH=bin", "python path/to/tests/run.py").
    r"^\s*(?:export\s+\w+=|(?:python3?|sudo|bash|sh|make|cd)\s+\S*[/=])|"
    # Navigation: a pointer to an example, guide or video ("here's a simple concurrency example"); a placeholder
    # of a command's syntax documented ("`<check_id>` is one of the available check scanners"); an install note
    # ("All extras (curses, glib, …) can be installed").
    r"\bhere(?:'s| is| are) (?:a|an|the|some|our)\b[^.]{0,40}?\b(?:examples?|tutorials?|guides?|demos?|videos?|"
    r"introductions?|walkthroughs?)\b|"
    r"^\W*<[\w.:-]+>`?\s+(?:is|are|[:=–—-])|\bcan (?:also )?be (?:pip[- ])?installed\b|"
    # Where the project is discussed and its source and bugs kept ("Use StackOverflow to ask questions",
    # "The source can be browsed at GitHub", "A bug tracker is provided by GitHub", "GitHub Discussions"):
    # venues, not features.
    r"\bstack ?overflow\b|\bgithub (?:discussions|issues)\b|\b(?:bug|issue) tracker\b|\bmailing lists?\b|"
    r"\bgitter\b|\bforums?\b|\b(?:browsed|hosted|found|available) (?:at|on) github\b|"
    r"\bsecurity (?:contact|reporting|vulnerabilit)|\b(?:ask|post) (?:your )?questions\b|"
    # Donations and the authors' contact lines ("Daniel Bader - @dbader_org - mail@dbader.org"): sponsor, meta.
    r"\bdonat(?:e|es|ed|ions?)\b|[\w.+-]+@[\w-]+\.[\w.]+|"
    # How a benchmark was run ("The above results are a geometric mean of benchmarks obtained with …"):
    # method, not a claim; the claim is the result it supports.
    r"\bgeometric mean\b|\bbenchmarks? (?:were |was )?(?:run|obtained|measured|performed|conducted)\b|"
    r"\bbenchmark(?:ing)? (?:setup|methodology|machine|hardware|script)s?\b)",
    re.IGNORECASE,
)
# Licensing and pricing are read by extractor.classify; they are not capabilities.
COMMERCIAL = re.compile(
    # "per seat"/"per user" alone is not a price: "partition an index per customer or per user" is a feature;
    # a price per seat names its amount or its billing and is caught by those.
    r"(?:[$€£]\s?\d|\bper (?:month|year)\b|\bfree (?:tier|plan|trial)\b|\bpricing\b|"
    r"\blicen[cs]e[ds]?\b|\bsubscription\b|\bmaintainers?\b|\bcharges? (?:per|by)\b|\bper (?:1m )?tokens?\b|"
    r"\bcommercial use\b|\bbilled\b|\bpaid (?:service|plans?|tiers?|version)\b|\bsells?\b|\bsupport contracts?\b)",
    re.IGNORECASE,
)
# Instructions to the reader ("Click …", "Then run …") describe a tutorial step, not the tool.
# "Open-source …", "Type-safe …" open on a compound adjective, not an imperative.
INSTRUCTION = re.compile(
    r"^(?:(?:then|now|next|first|finally|also|to start|to begin),?\s+)?(?:click|go to|open|run|create|type|visit|"
    r"navigate|check|see|join|ask|email|contact|download|clone|fork|pick|choose|specify|set the|get the|"
    r"add|edit|modify|copy|paste|save|start|try|note|import|install|read|learn|head over|take|follow|refer|"
    r"get started|report|cite|book|sign up|register|watch|want|have a look|make|write|define|call|pass|put|"
    r"utili[sz]e|"
    r"let's|imagine|consider|say|suppose|make sure|don't forget|remember|please)\b(?!-)",
    re.IGNORECASE,
)
# An example's set-up ("Imagine you have a table called hero with:", "Suppose your app has:"): the list
# after it is the example's data, not features.
SCENARIO = re.compile(r"^(?:(?:now|so|but|and),?\s+)?(?:imagine|suppose|assume|say|let's say|let us say)\b", re.I)
# Sentences about the reader's situation ("You need to …", "Most options …") rather than the tool.
READER_SUBJECT = re.compile(
    r"^(?:(?:or|and|if|when|so|next|then|now|first|finally),?\s+)?(?:you|your|most|many|some|other|we|let's|let us)\b",
    re.IGNORECASE,
)
# Polarity: a sentence that denies or limits a feature is not a capability ("X does not retry").
# Only the main clause counts: "so large bodies don't have to fit in memory" states a benefit.
NEGATED = re.compile(
    r"^(?:\S+\s+){0,6}?(?:does not|doesn't|do not|don't|did not|cannot|can't|can not|won't|will not|isn't|"
    r"is not|aren't|are not|no longer|not (?:yet )?(?:supported|available|possible|suitable|recommended|"
    r"designed|intended|meant|guaranteed|thread-?safe)|"
    # What the tool leaves out is listed as a denial: "What X deliberately leaves out: async, cookies".
    r"leaves out|omits|lacks)\b"
    r"|^no\s+(?:\w+\s+){1,3}(?:is|are)\s+(?:currently\s+|yet\s+)?(?:available|supported|provided)\b"
    # The project's news in the first person ("We've launched X to …") announces, it does not describe.
    r"|^we(?:'ve| have)? (?:launched|released|announced|introduced|added|built|created|made|wrote|published)\b"
    # Plans, not features: "We're working with select partners to develop …".
    r"|^we(?:'re| are) (?:working|planning|looking|hoping)\b"
    # The project's policies and requests in its own voice: "We follow the official support cycle of
    # Python", "We ask users to pin the revision", "We welcome contributions".
    r"|^we (?:follow|ask|encourage|welcome|invite|request|urge)\b",
    re.IGNORECASE,
)
# A denial after a long subject ("Reading from and writing to files, line-delimited JSON files, and so on
# is not provided by the library"): the passive verb comes after the commas that end a main clause.
DENIED_PASSIVE = re.compile(
    r"^(?!.*(?:,\s*so|\bso that|\bwhich|\bthat|\bbecause|\bwhile|\bif|\bwhen|\bunless)\b.*\b(?:is|are) not\b)"
    r".*\b(?:is|are) not (?:provided|supported|included|implemented|available|offered)\b",
    re.IGNORECASE,
)
# A denial in a clause after "but" ("X guarantees the format, but it does not guarantee …", "This was
# the dream, but … it wasn't possible") or the project declining support ("so we don't support Windows"):
# the sentence's point is the limit. After "so" a pronoun's negation usually states a benefit ("so it
# doesn't block"), so only "but" clauses and a refused "support" count there.
NEGATED_CLAUSE = re.compile(
    r"\bbut\b[^.]*?\b(?:it|we|they|this)\s+(?:does not|doesn't|do not|don't|did not|didn't|cannot|can't|"
    r"won't|wasn't|was not|isn't|is not)\b|\b(?:we|it)\s+(?:do not|don't|does not|doesn't|no longer)\s+"
    r"(?:officially\s+)?support\b"
    # Scope denied outright: "X is kept small and doesn't solve everything out of the box".
    r"|\b(?:does not|doesn't|do not|don't|cannot|can't|won't)\s+(?:solve|do|cover|handle|support|fit|address)\s+"
    r"(?:everything|every (?:use )?case|all (?:use )?cases)\b",
    re.IGNORECASE,
)
# A main clause in the conditional mood ("Without the `None` it would be required", "one would expect"):
# a hypothetical or a wish, not what the tool does.
COUNTERFACTUAL = re.compile(r"\bwould\b", re.IGNORECASE)
# The author in the first person singular ("I no longer use X personally", "So I use those records …",
# "Huey is named in honor of my cat"): the maintainer's story or notes, not what the tool does. "I" in
# quoted text ("a fallback “I don't know” answer") or "I/O" is not the author.
AUTHOR_VOICE = re.compile(
    r"(?<![“\"'‘])\b(?:(?-i:I)(?:'m|'ve|'d|'ll|’m|’ve)?|my|me|myself)\b(?![/”\"’-])", re.IGNORECASE
)
# The project's story, not the tool: "This work started as a PhD project", "Initially launched to create
# …", "It was created by the same author", "The name is an Italian word for …", "X is an Apache Foundation
# project". Past events and names describe the project; a capability is stated in the present tense.
HISTORY = re.compile(
    r"^(?:\S+\s+){0,5}?(?:started|began|begun)\s+(?:as|in|at|out|life)\b|"
    r"\b(?:initially|originally|first)\s+(?:launched|created|developed|written|built|started|released|conceived)\b|"
    r"\b(?:was|were)\s+(?:born|founded|started|launched|conceived|first released|created (?:in|at|by|as))\b|"
    r"\bname\s+(?:comes|derives|is derived|stems)\s+from\b|\bnamed (?:after|in hono(?:u)?r of)\b|"
    r"\b(?:is|means)\s+(?:an?\s+)?(?:[\w-]+\s+){0,2}word\s+(?:for|meaning)\b|"
    r"\b(?:is|are)\s+(?:an?\s+)?(?:[\w-]+\s+){0,3}(?:foundation|consortium|incubator)\s+project\b",
    re.IGNORECASE,
)
# Struck-through text ("~~10x faster than built-in logging~~"): a claim the page withdraws.
STRUCK = re.compile(r"^\W{0,3}~~[^~].*~~\W*$|^\W{0,3}<(?:s|del|strike)>", re.IGNORECASE)
# A pointer to a fuller list elsewhere: "For the complete list of supported rules, see Rules."
POINTER = re.compile(
    r"^(?:for|to see)\s+(?:the|a|more)\s+(?:complete|full|detailed|comprehensive|exhaustive|more)?\s*"
    r"(?:list|reference|overview|set|details|information|documentation|examples?)\b[^.]{0,80}?\b(?:see|refer|check|visit|read)\b",
    re.IGNORECASE,
)
_MAIN_CLAUSE = re.compile(r"[,;:(]|\s[-–—]\s|\s(?:so|which|that|because|while|but|unless|if|when|until)\s", re.I)
LIMITATION = re.compile(
    r"\b(?:limitations?|caveats?|known issues?|drawbacks?|downsides?|beware|unfortunately|at the cost of|"
    r"comes at (?:a|the) cost|(?:can|may|might|will) (?:lose|drop|corrupt)|deprecated|"
    r"(?:can|may|might|will|could) be (?:lost|dropped|corrupted)|(?:is|are|gets?|was|were) lost|data loss|"
    # A recommendation of something else: "look at a PostgreSQL-backed queue", "X is a better fit".
    r"(?:is|are|would be) (?:a |the )?better (?:fit|choice|option|suited|match)|look at|consider using|instead of us|"
    # Advice to use another tool: "or use a smaller client like Pliant", "run a server such as X".
    r"(?:use|run|try|pick|choose) (?:a|an)\b[\w -]{0,40}?\b(?:such as|like) (?-i:[A-Z])\w*|"
    # A harm the reader may run into: "vectors from one tenant can affect recall for other tenants".
    r"(?:can|may|might|will|could) (?:negatively )?(?:affect|hurt|degrade|slow(?: down)?|impact|harm)|"
    # An analogy that explains, not a feature: "`add_character()` can be seen as a traversal method".
    r"(?:seen|thought of|viewed|regarded) as|"
    r"varies (?:widely|greatly|significantly|a lot)|competitors can|"
    # A likeness to another product: "X might remind you of dataclasses", "it's intended to be the FastAPI
    # of CLIs": about the other product (or another tool of the same authors), not a feature.
    r"remind(?:s|ed)? (?:you|one|us) of|(?:also )?powers (?-i:[A-Z])\w*|"
    r"the (?-i:[A-Z])[\w.-]+ of (?:the )?(?:[\w-]+ ){0,2}[\w-]+s|"
    r"not (?:for|meant for) production|bottleneck|breaking changes?|"
    # A problem named as one ("This is an inherent problem with kqueue", "… just makes this a pain").
    r"(?:inherent|known|major|serious|big|fundamental) problems?|(?:is|makes \w+) a (?:real )?pain(?:ful)?|"
    # A known issue or a scope limit: "X incorrectly handles mouse input", "it is limited by its analysis
    # scope", "Windows support is limited to Windows 10+" (but "including but not limited to" lists).
    r"incorrectly|(?<!not )limited (?:by|to)|"
    # A cap on the input ("only handles passwords up to 72 characters, any characters beyond that are
    # ignored", "longer values are silently truncated").
    r"only (?:handles?|supports?|accepts?|reads?|allows?|works? (?:with|on))\b[^.;]{0,40}?\bup to|"
    r"(?:beyond|past|above|over) (?:that|this|which|the limit)\b[^.;]{0,30}?\b"
    r"(?:ignored|truncated|dropped|discarded|lost)|"
    r"silently (?:truncated|ignored|dropped|discarded)|"
    # A cost or a degraded result stated as the problem a feature answers: "Since scanning a large part of
    # the index is expensive, …", "queries with filtering can return fewer results".
    r"(?:is|are|gets?|can be|becomes?) (?:very |quite |too )?(?:expensive|costly|slow)|"
    r"(?:can|may|might|will|could) (?:return|give|find) (?:less|fewer|no|incomplete|incorrect|wrong)|"
    # A trade-off's cost: "… give you full control, but you have to host and scale them yourself".
    r"but (?:then )?you (?:have|need|must) to)\b",
    re.IGNORECASE,
)
# An item marked as denied or limited in a support matrix ("❌ Unsupported: glib, zmq", "⚠️ Limited: twisted",
# "✗ No streaming") or a restriction stated as the only option ("Only UTF-8 mode is supported.").
DENIED_ITEM = re.compile(
    r"^\W{0,3}(?:❌|✗|✘|✖|🚫|⛔|⚠|❎|👎)|^\W{0,3}(?:not supported|unsupported|limited|broken|no)\s*[:–—-]\s|"
    r"^only\b[^.,;:]{0,60}\b(?:is|are) (?:supported|available|allowed|possible)\b",
    re.IGNORECASE,
)
# A vacuous promotional line: a subject and praise, no feature ("It is designed to be intuitive, easy to
# use, highly compatible, and robust.", "It's extremely fast, cost-effective, scalable and painless.",
# "The constraint system is extremely powerful.") or support of everything unnamed ("Full support for all
# optional features."). "X is a fast, robust library" names what it is and is not vacuous.
_PRAISE = (
    r"(?:(?:very|extremely|highly|really|incredibly|super|blazingly|insanely|truly|quite|pretty|fully|so|"
    r"reasonably|fairly|relatively|remarkably|surprisingly)\s+)?"
    r"(?:fast|quick|speedy|easy(?: to (?:use|learn|read|write|extend))?|simple|intuitive|powerful|flexible|robust|"
    r"reliable|scalable|lightweight|light|elegant|painless|cost-effective|cheap|efficient|performant|compatible|"
    r"extensible|modern|clean|friendly|user-friendly|developer-friendly|production-ready|battle-tested|stable|"
    r"secure|safe|awesome|great|amazing|beautiful|fun|small|tiny|lean|minimal|pythonic|composable|customi[sz]able|"
    r"configurable|expressive|productive|versatile|convenient|straightforward|solid|fantastic|excellent)"
)
VACUOUS = re.compile(
    rf"^(?:it|this|they|these|the\s+[\w-]+(?:\s+[\w-]+){{0,5}}?)(?:'s|\s+(?:is|are))\s+"
    rf"(?:(?:also|designed|meant|built|made)\s+(?:to\s+be\s+)?|(?:aims|tries|strives)\s+to\s+be\s+)?"
    rf"{_PRAISE}(?:\s*,\s*(?:and\s+)?{_PRAISE}|\s+and\s+{_PRAISE})*\W*$"
    r"|^(?:full\s+)?support\s+for\s+all\s+(?:the\s+)?(?:optional\s+|other\s+|available\s+|standard\s+)?"
    r"(?:features|functionality|capabilities|options)\W*$",
    re.IGNORECASE,
)
# "RQ requires Redis >= 5", "Python 3.10+ is required": what the tool needs, not what it does.
REQUIREMENT = re.compile(
    # "It assumes that the vectors …", "X assumes messages can be delivered twice": a precondition.
    r"^(?:\S+\s+){0,4}?(?:requires?|depends on|assumes?)\b|\b(?:is|are) (?:required|needed)\b|"
    r"\brequires? (?:python|redis|postgres\w*|node|java|go|rust|\w+ ?>=)|"
    r"\b(?:runs|works|is tested) on\b[^.]{0,20}\b(?:python|pypy|cpython)\b\W*\d|"
    # "Celery version 5.6.x runs on:" + a list: the platforms it needs.
    r"\b(?:runs|works|is tested) on:?\s*$|"
    # The interpreter versions it needs ("Supported Python versions are cPython 3.6+", "Compatible with
    # Python 3.10 to 3.14", "Python 3.9 or newer"): a requirement, whatever the verb.
    # Only where the sentence is about support: "a Python 3.10+ web server" says what the tool is.
    r"^(?=.*\b(?:support\w*|compatib\w*|versions?|tested)\b).*\b(?:c?python|pypy)\s*v?\d+(?:\.\d+)*"
    r"(?:\+|\s*(?:or|and) (?:later|newer|higher|above)|\s*(?:-|–|to|through)\s*\d+(?:\.\d+)*)|"
    r"\bsupported python versions?\b",
    re.IGNORECASE,
)
# Text about a tutorial's own commands rather than the tool: "This command starts a worker".
TUTORIAL_REFERENCE = re.compile(
    r"\b(?:this|the above|the following|the previous|our|that) (?:command|example|snippet|code|script|"
    r"tutorial|guide|walkthrough|use case|notebook|demo)\b|^the (?:notebook|snippet|tutorial|walkthrough|demo)\b|"
    r"\bin this (?:example|tutorial|guide|section)\b|"
    # An example's code narrated: "the code enables automated routing", "… illustrating how structured
    # outputs can …".
    r"\bthe (?:code|script|program|snippet)\s+(?:above\s+|below\s+)?(?:enables|creates|defines|shows|uses|prints|"
    r"does|will|then|first|calls|returns|outputs)\b|\billustrat(?:es|ing) how\b|"
    r"\bwe(?:'ll| will)\b",
    re.IGNORECASE,
)
# A tutorial narrating its own steps: "Now, let us create the page header", "We start with a simple
# function", "Notice that the type inferred is …". The authors walk through an example; the tool's
# capability is stated elsewhere, in the present tense about the tool. A sentence opening on a condition
# ("Especially if your mouse selection …") qualifies the one before it; it states nothing itself.
NARRATION = re.compile(
    r"^(?:(?:now|next|then|first|finally|here|so|but|and),?\s+)?(?:let(?:'s| us)\b|"
    r"we(?:'ll| will| can| start| begin| come| now| then| first| next| need| want| have to| are going)\b|"
    r"notice\b|note that\b|(?:especially|particularly|even) (?:if|when)\b|"
    # A step's outcome told to the reader: "Now when you import X, it should be able to find the DLLs."
    r"now,?\s+(?:when|once|that|if)\s+you\b|"
    # A lineage, not a feature: "Inspired by the 12-factor application guide", "Draws inspiration from …".
    r"(?:heavily |loosely |largely )?inspired by\b|draws? inspiration from\b)",
    re.IGNORECASE,
)
# A subject that generalises over a category ("Most guard models …", "Various prompt engineering
# techniques …", "Generic LLM prompting …") or names another product by example ("A single-backend queue
# such as EmberQ …") talks about the alternatives, not this tool. A partitive ("Most of the indexes")
# is about the tool's own parts.
GENERIC_SUBJECT = re.compile(
    r"^(?:(?:but|however|and|yet),?\s+)?(?:most|many|generic|traditional|existing|typical|conventional|competing|"
    r"various)\s+(?!of\b)[\w-]+|^(?:an?|the)\s[\w\s-]{0,40}?\b(?:such as|like)\s+[A-Z]",
    re.IGNORECASE,
)
# The reader's needs or duties ("You need to screen text before …", "You should set an API key",
# "You want a cheap first pass …"): the situation a tool is for, or a step, not what the tool does.
READER_NEED = re.compile(
    r"^(?:(?:or|and|so|but|also|sometimes|often|usually|typically),?\s+)?(?:you|your\s+[\w-]+)\s+"
    r"(?:only\s+|just\s+|really\s+|also\s+)?"
    # "you might need to run the command with sudo": a step the reader may have to take.
    r"(?:(?:might|may|will|would|could)\s+(?:also\s+)?(?=need))?"
    r"(?:need|needs|want|wants|should|must|have to|has to|would rather|'d rather)\b",
    re.IGNORECASE,
)
# The reader acting, in the present tense ("You process millions of short messages and …", "You scale out by
# starting more workers", "You put a function call on a queue"): the reader's situation or a step. What the
# tool lets the reader do is said with a modal ("You can …") or as "you get …", which stay.
READER_ACTS = re.compile(
    r"^(?:(?:and|so|then|now|first|next),?\s+)?you\s+(?:just\s+|simply\s+|only\s+)?"
    r"(?!can\b|could\b|may\b|might\b|get\b|gets\b|will\b|won't\b|'ll\b|are\b|have\b|don't\b|no longer\b)[a-z]+\b",
    re.IGNORECASE,
)
# A leading condition ("If you need those features, …", "When querying, …"): the claim, if any, is the
# main clause after it, which gets the same checks ("…, run a server such as X" is advice).
LEADING_CONDITION = re.compile(
    r"^(?:(?:also|but|and|so),?\s+)?(?:if|when|whenever|unless|once|while|although|though)\b[^,]{1,120},\s+",
    re.IGNORECASE,
)
# A sentence explaining the one before it ("This means that …", "In this case, …", "Afterwards, …")
# elaborates a point already made; the point itself is the capability.
ELABORATION = re.compile(
    r"^(?:(?:this|that|which|it) means\b|in (?:this|that|which) case\b|afterwards\b|"
    r"this is (?:possible|done|achieved|why|because)\b|"
    # Advice to the reader about the example: "This is a hint for the prompt engineer, to change …".
    r"(?:this is|here is|here's) (?:a|an|the) (?:hint|tip|note|reminder|trick)\b)",
    re.IGNORECASE,
)
# A definition of a concept by an indefinite generic subject ("A task is a Python function decorated
# with …", "A worker is a process that …"): it explains a term of the tool's model, not a feature.
# A parenthetical may follow the term ("A universal function (or ufunc for short) is a function that …").
DEFINITION = re.compile(r"^(?:an?)\s+(?:[\w'-]+\s+){1,3}?(?:\([^)]{1,40}\)\s+)?(?:is|are)\s+(?:an?|the)\s", re.I)
_SUBJECT_VERB = re.compile(
    r"^(?:the\s+)?(?P<subject>[A-Z][\w.+-]*(?:\s+[A-Z][\w.+-]*){0,2})\s+(?:is|are|was|were|can|could|has|have|"
    r"does|do|provides?|supports?|offers?|uses?|lets?|gives?|will|may|might|loses?|stores?|keeps?|runs?|"
    r"recommends?|needs?|requires?|sends?|writes?|handles?|claims?)\b"
)
_COMMON = {"it", "this", "that", "these", "those", "each", "every", "all", "both", "most", "many", "some", "any"}


@dataclass(frozen=True)
class ClaimContext:
    """What tells a page's claims about its own tool from claims about other things."""

    tool: str
    proper_names: frozenset[str] = frozenset()


_TOKEN = re.compile(r"(?<![\w.])([A-Za-z][\w+-]*)")


def proper_names(texts: list[str]) -> frozenset[str]:
    """Words the page writes capitalised inside sentences and never in lower case ("Redis",
    "Celery", "Postgres"): names of things, as opposed to common nouns that merely start a sentence
    ("Timeouts can be set …", "Schemas are …")."""
    upper: set[str] = set()
    lower: set[str] = set()
    for text in texts:
        for match in _TOKEN.finditer(text):
            word = match.group(1)
            before = text[: match.start()].rstrip()
            if not before or before[-1] in ".!?:\n#*-•|>":
                continue  # a sentence or item start says nothing about the word
            (upper if word[0].isupper() else lower).add(word.lower())
    return frozenset(upper - lower)


def about_another_product(text: str, context: ClaimContext) -> bool:
    """A sentence whose subject is a named thing other than the tool ("Redis can lose queued jobs",
    "Celery is heavier"): a claim about that thing, not a capability of this tool."""
    match = _SUBJECT_VERB.match(text.strip())
    if not match:
        return False
    subject = match.group("subject")
    first = subject.split()[0].lower()
    if first in _COMMON or first in STOPWORDS or first not in context.proper_names:
        return False
    name = context.tool.lower()
    lowered = subject.lower()
    return not (name and (name in lowered or first in name or name.split()[0] in lowered))


# A clause that goes on about what came before its comma ("Streaming uploads, so bodies don't have to
# fit in memory", "X offers suggestions, but doesn't …"), not a main clause after a framing phrase.
_CONTINUATION = re.compile(
    r"^(?:but|and|or|so|which|that|because|while|where|when|if|unless|though|although|yet|as)\b", re.IGNORECASE
)


def not_a_claim(text: str, context: ClaimContext | str) -> bool:
    """Sentences that look like features but are not: negated in their main clause, limiting,
    requirements, tutorial talk, or about another product."""
    if isinstance(context, str):
        context = ClaimContext(context)
    stripped = text.strip()
    condition = LEADING_CONDITION.match(stripped)
    if condition and _main_clause_not_a_claim(stripped[condition.end() :], context):
        return True
    clauses = [_MAIN_CLAUSE.split(text, maxsplit=1)[0]]
    # "In essence, kqueue is not a scalable way …": after a framing phrase of a few words and a comma,
    # the main clause is what follows it.
    rest = after_framing_phrase(stripped, max_words=4)
    if rest is not None and not _CONTINUATION.match(rest):
        clauses.append(_MAIN_CLAUSE.split(rest, maxsplit=1)[0])
    # "However, it is not a cross-compiler: …": one discourse word and a comma frame the main clause too.
    marker = _DISCOURSE.match(stripped)
    if marker:
        clauses.append(_MAIN_CLAUSE.split(stripped[marker.end() :], maxsplit=1)[0])
    return bool(
        READER_NEED.match(stripped)
        or READER_ACTS.match(stripped)
        or ELABORATION.match(stripped)
        or DEFINITION.match(stripped)
        or any(NEGATED.search(clause) for clause in clauses)
        or NEGATED_CLAUSE.search(stripped)
        or any(COUNTERFACTUAL.search(clause) for clause in clauses)
        or AUTHOR_VOICE.search(stripped)
        or DENIED_PASSIVE.match(stripped)
        or DENIED_ITEM.search(stripped)
        or VACUOUS.match(stripped)
        or LIMITATION.search(text)
        or REQUIREMENT.search(text)
        or TUTORIAL_REFERENCE.search(text)
        or NARRATION.match(text.strip())
        or GENERIC_SUBJECT.match(text.strip())
        or HISTORY.search(stripped)
        or STRUCK.match(stripped)
        or POINTER.match(stripped)
        or about_another_product(text, context)
    )


_DISCOURSE = re.compile(
    r"^(?:however|but|still|yet|also|unfortunately|currently|today|now|additionally|moreover|furthermore|"
    r"instead|otherwise|indeed|admittedly|importantly|notably|historically),\s+",
    re.IGNORECASE,
)


def _main_clause_not_a_claim(clause: str, context: ClaimContext) -> bool:
    """The main clause after a leading condition: an instruction ("…, read the deployment guide"), a
    claim about other products ("…, an embeddable library such as X costs nothing") or one that fails
    the sentence checks is not a capability of the tool."""
    clause = clause[:1].upper() + clause[1:]
    return bool(INSTRUCTION.match(clause)) or not_a_claim(clause, context)


VAGUE = re.compile(
    r"^(?:and (?:much )?more|plus all|more\b|etc|see below|the following|as follows|for example)\b",
    re.IGNORECASE,
)


@dataclass
class Candidate:
    spans: list[Span]
    score: float
    order: float  # document position: block index, plus a fraction for a sentence within the block
    name_hint: str | None = None
    description_spans: list[Span] = field(default_factory=list)
    text: str = ""
    section: tuple[str, ...] = ()  # the heading path the candidate's text sits under
    prose: bool = False  # a sentence of running text (not a list item or a heading)
    identity: bool = False  # the opening's tagline or "<tool> is a …": what the tool is

    def embed_text(self) -> str:
        return f"{self.name_hint or ''} {self.text}".strip()


class ExtractiveDecomposer:
    name = "extractive"
    # Bumped whenever what the rules produce changes: a page already stored by an older version is
    # re-extracted when resubmitted, not kept as "unchanged" (pipeline.ingest).
    version = "1.11"
    model: str | None = None
    prompt_version: str | None = None

    def __init__(self, embedder: Embedder, admit: AdmitModel | None = None) -> None:
        self.embedder = embedder
        self.admit = admit  # None: every candidate the rules propose is considered

    def decompose(self, doc: SourceDocument) -> list[CapabilityDraft]:
        blocks = doc.blocks or segment(doc.text)
        candidates = _candidates(blocks, doc.name, relaxed=False)
        if len(candidates) < MIN_CAPABILITIES:
            seen = {c.spans[0].start for c in candidates}
            candidates += [c for c in _candidates(blocks, doc.name, relaxed=True) if c.spans[0].start not in seen]
        if not candidates:
            candidates = _description_sentences(blocks)
        if not candidates:
            raise NoCapabilities(
                "no capability-bearing text found: the page has no feature lists, descriptive headings or "
                "sentences saying what the tool does. Submit the tool's README or product/docs page instead."
            )
        chosen = self._select(candidates, len(blocks))
        prose = [b.text for b in blocks if b.kind != "code"]
        # The opening line, not a "Current Version: 1.2" or a link line above it.
        lines = (b.text for b in blocks if b.kind == "paragraph" and _words(b.text) >= 4 and "://" not in b.text)
        opening = next(lines, "")
        drafts = self._drafts(chosen, doc.name, domain_noun(doc.text, doc.name, opening), proper_names(prose))
        return self._merge_named_alike(drafts, doc.name)

    def classify(self, doc: SourceDocument) -> ToolFacts:
        return rule_facts(doc.text, doc.blocks or segment(doc.text), doc.name)

    def contrast(
        self, tool_name: str, capabilities: list[CapabilityDraft], neighbours: list[list[Neighbour]]
    ) -> list[ContrastLines] | None:
        return None  # matching.contrast writes the lines from the catalog

    def _select(self, candidates: list[Candidate], blocks: int) -> list[Candidate]:
        # Embedding is the costly step: only the best-scored candidates are embedded and merged.
        if len(candidates) > MAX_CANDIDATES:
            best = sorted(candidates, key=lambda c: (-c.score, c.order))[:MAX_CANDIDATES]
            candidates = sorted(best, key=lambda c: c.order)
        vectors = self.embedder.embed_batch([c.embed_text() for c in candidates])
        if self.admit is not None:
            candidates, vectors = self._admitted(candidates, vectors, blocks)
        order = sorted(range(len(candidates)), key=lambda i: (-candidates[i].score, candidates[i].order))
        chosen = []

        def threshold_for(kept: int, item: int) -> float:
            return _merge_threshold(candidates[kept], candidates[item])

        for keeper, duplicates in group_near_duplicates(
            vectors, order, MERGE_SIMILARITY, EXTRACTIVE_MAX, threshold_for
        ):
            cand = candidates[keeper]
            # A near-duplicate's text becomes extra evidence for the capability it repeats.
            cand.spans.extend(candidates[d].spans[0] for d in duplicates[: max(0, MAX_QUOTES - len(cand.spans))])
            chosen.append(cand)
        return sorted(chosen, key=lambda c: c.order)

    def _admitted(
        self, candidates: list[Candidate], vectors: np.ndarray, blocks: int
    ) -> tuple[list[Candidate], np.ndarray]:
        """The candidates the learned model admits; the likeliest one when it admits none, since the
        rules found nothing better to say what the tool does."""
        assert self.admit is not None
        features = np.array([candidate_features(c, blocks) for c in candidates])
        p = self.admit.probability(vectors, features)
        keep = np.flatnonzero(p >= self.admit.threshold)
        if len(keep) == 0:
            keep = np.array([int(p.argmax())])
        return [candidates[int(i)] for i in keep], vectors[keep]

    def _drafts(
        self,
        chosen: list[Candidate],
        tool_name: str,
        domain: str | None = None,
        proper: frozenset[str] = frozenset(),
    ) -> list[CapabilityDraft]:
        names: list[str] = []
        taken: set[str] = set()
        for cand in chosen:
            sentence = cand.description_spans[0].text
            name = cand.name_hint
            # A second capability under the same heading gets a name from its own text.
            if not name or name.lower() in taken:
                name = name_from_sentence(sentence, tool_name)
                if not is_good_name(name):
                    name = self._keyphrase(sentence) or name
            name = name or clean_heading(cand.text[:40])
            name = name.split(". ", 1)[0]  # a name never runs into the next sentence
            name = _widen(name[:1].upper() + name[1:], " ".join(x.text for x in cand.description_spans))
            name = _refined(name, sentence, tool_name, self._keyphrase)
            name = _particle_end(name)
            name = expand_label(name, sentence, tool_name, domain, proper)
            phrase = _phrase_for_word(name, sentence, tool_name, self._keyphrase)
            name = name if phrase.lower() in taken else phrase
            taken.add(name.lower())
            names.append(name)
        drafts = []
        sentences_of = [c.description_spans[0].text for c in chosen]
        for cand, name in zip(chosen, dedupe_names(names, sentences_of, tool_name), strict=True):
            description = _description(cand.description_spans)
            quotes = list(dict.fromkeys(s.text for s in cand.spans))
            drafts.append(CapabilityDraft(name=name, description=description, quotes=quotes, score=cand.score))
        return drafts

    def _merge_named_alike(self, drafts: list[CapabilityDraft], tool_name: str) -> list[CapabilityDraft]:
        """One capability for two drafts when one's name words are all in the other's and their texts
        are close: the feature stated twice, e.g. in an overview list and again in its own section
        ("Route Guards based Authorization" / "Route Guards"), or as a heading and a sentence naming it.

        The candidate merge (_select) cannot see this: the two sit in different sections, or one is a
        heading and the other a sentence, and MiniLM scores them below MERGE_SIMILARITY. Their names,
        made from each text, meet on the feature's words. Only names of two or more words count, and
        the similarity floor stays high: distinct features of one kind share a word or differ by one
        modifier ("Schedule tasks" / "Schedule recurring tasks", 0.66) and must stay apart.
        The duplicate's quotes become extra evidence; nothing is rewritten.
        """
        if len(drafts) < 2:
            return drafts
        vectors = self.embedder.embed_batch([f"{d.name}: {d.description}" for d in drafts])
        # What the tool is ("Library for filtering log lines") shares its words with the features that
        # serve that purpose ("Filters log lines by regular expression"), which stay capabilities.
        words = [set() if is_identity_name(d.name) else _name_words(d.name, tool_name) for d in drafts]

        def threshold_for(kept: int, item: int) -> float:
            a, b = words[kept], words[item]
            alike = min(len(a), len(b)) >= 2 and (a <= b or b <= a)
            return NAMED_ALIKE_SIMILARITY if alike else _NEVER

        order = sorted(range(len(drafts)), key=lambda i: (-drafts[i].score, i))
        merged: list[tuple[int, CapabilityDraft]] = []
        for keeper, others in group_near_duplicates(vectors, order, _NEVER, len(drafts), threshold_for):
            draft = drafts[keeper]
            quotes = list(dict.fromkeys([*draft.quotes, *(q for o in others for q in drafts[o].quotes)]))
            merged.append((keeper, CapabilityDraft(draft.name, draft.description, quotes[:MAX_QUOTES], draft.score)))
        return [draft for _, draft in sorted(merged, key=lambda pair: pair[0])]

    def _keyphrase(self, sentence: str) -> str | None:
        """Fallback name: the sentence's phrase closest in meaning to the whole sentence."""
        phrases = keyphrase_candidates(sentence)
        if not phrases:
            return None
        vectors = self.embedder.embed_batch([sentence, *phrases])
        lengths = np.array([min(len(p.split()), 4) for p in phrases])
        scores = vectors[1:] @ vectors[0] + 0.04 * lengths
        best = phrases[int(scores.argmax())]
        return best[0].upper() + best[1:]


# A prose sentence in the same section as a capability already taken, and close to it in meaning, goes
# on about that capability ("Tasks are …", then "A task's input is …"): it restates or explains it.
# Embedding similarity alone does not separate such a restatement (0.4-0.7) from a distinct feature;
# sharing the section does.
SAME_SECTION_SIMILARITY = 0.6


def _merge_threshold(kept: Candidate, item: Candidate) -> float:
    if kept.identity and item.identity:
        # The tagline and "<tool> is a …" restate what the tool is, in other words each time ("The
        # little ASGI framework that shines", "Starlette is a lightweight ASGI framework"): one
        # capability, whatever their embedding similarity.
        return -1.0
    if (
        item.prose
        # Not the page's opening section: its sentences each state a different headline feature.
        and len(item.section) >= 2
        and kept.section == item.section
        # Not two features named in one sentence ("retries, scheduling and rate limits").
        and kept.description_spans[:1] != item.description_spans[:1]
    ):
        return SAME_SECTION_SIMILARITY
    return MERGE_SIMILARITY


# Two drafts whose names agree (_merge_named_alike) are one capability from this similarity of their
# "name: description" texts; below it, on vendor-docs, they were distinct features of one kind.
NAMED_ALIKE_SIMILARITY = 0.68
_NEVER = 2.0  # above any cosine similarity: the pair is not merged
_NAME_WORD = re.compile(r"[A-Za-z0-9][\w./+-]*[\w+]|[A-Za-z]")
# Words that do not tell one feature from another ("HNSW support" / "IVFFlat support").
_GENERIC_NAME_WORDS = frozenset({"support", "feature", "library", "framework", "tool", "model", "system", "api"})
_GENERIC_NAME_WORDS |= {"data", "way", "option"}


def _stem(word: str) -> str:
    """A crude singular / bare form, so "rate limits" meets "Rate Limiting"."""
    word = word.lower()
    if word.endswith("ing") and len(word) > 6:
        word = word[:-3]
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        word = word[:-1]
    return word


def _name_words(name: str, tool_name: str) -> set[str]:
    """A name's content words, stemmed, without the tool's own name and words too generic to compare."""
    tool = {_stem(w) for w in _NAME_WORD.findall(tool_name)}
    content = {_stem(w) for w in _NAME_WORD.findall(name) if w.lower() not in STOPWORDS}
    return content - tool - _GENERIC_NAME_WORDS


def candidate_features(candidate: Candidate, blocks: int) -> list[float]:
    return structural(candidate.score, candidate.order, blocks, len(candidate.text.split()))


# A one-word label that does not name a feature: an adjective ("Fast", "Intuitive", "Composable",
# "Standards-based"), or a word too generic to compare ("Output", "Methods", "Run").
_ADJECTIVE = re.compile(
    r"^(?:\w+(?:ive|able|ible|ful|ous|less|ic|[^e]ed|al)|\w+-(?:based|ready|friendly|enabled|focused|first|safe|free)|"
    r"fast|easy|short|simple|robust|quick|light|small|smart|safe|secure|clean|modern|minimal|tiny|lean)$",
    re.IGNORECASE,
)
_GENERIC_WORD = frozenset(
    {"output", "input", "work", "words", "methods", "method", "server", "control", "run", "schedule", "scale"}
    | {"usage", "misc", "other", "more", "general", "basics", "overview", "details", "example", "examples"}
    # A lone verb left by a sentence's opening ("These include: apt-get …").
    | {"include", "includes", "provides", "supports", "offers", "features", "runs", "uses", "has", "allows"}
)


# A determiner not after a preposition, or "to" + verb, inside a phrase: it spans two phrases.
_LOOSE_PHRASE = re.compile(r"(?<!\bof)(?<!\bin)(?<!\bon)(?<!\bfor)(?<!\bwith) (?:the|a|an) |\bto \w+", re.IGNORECASE)


def _refined(name: str, sentence: str, tool_name: str, keyphrase: Callable[[str], str | None]) -> str:
    """ "Fast: very high performance …", "Output", "Redis": a one-word label that is an adjective, a
    generic noun or the tool's name says less than the noun phrase its own text gives: the phrase
    the sentence's syntax names, else its phrase closest in meaning to the whole sentence."""
    if _names_a_feature(name, tool_name):
        return name
    lead = re.match(rf"\W*{re.escape(name)}\W*?\s*(?:[:–—-]\s+|\n)(?P<rest>.+)", sentence, re.I | re.DOTALL)
    text = lead.group("rest") if lead else sentence

    better = name_from_sentence(text, tool_name)
    if not _phrase_fits(better):  # the embedding is only asked when the syntax gives nothing
        better = keyphrase(text) or ""
        # "GPUs the GPU indexes", "Raw vectors to make searching": words, not a phrase.
        better = "" if _LOOSE_PHRASE.search(better) else better
    return better[:1].upper() + better[1:] if _phrase_fits(better) else name


def _phrase_fits(phrase: str) -> bool:
    """A phrase that can replace a one-word label: a good name of 2-6 words not ending on a function word."""
    words = phrase.split()
    return is_good_name(phrase) and 2 <= len(words) <= 6 and words[-1].lower() not in STOPWORDS


def _phrase_for_word(name: str, sentence: str, tool_name: str, keyphrase: Callable[[str], str | None]) -> str:
    """A name still one word after the label rules ("Quick", "Used", "Default", "Time") is a keyword, not
    a feature a comparison page prints: its own sentence's noun phrase names it, when the sentence says
    more than the word ("Because it is parallel, it's quick, …"). A heading alone stays as it is."""
    if len(name.split()) != 1 or len(sentence.split()) < 4:
        return name
    word = re.escape(name.strip(".,;:"))
    if re.search(rf"(?:,|\band|\bor)\s+{word}\b|\b{word}(?:\s+(?:and|or)\s|,\s+[\w-]+(?:\s+[\w-]+)?,)", sentence, re.I):
        return name  # one item of a sentence's list of features ("periodic tasks, retries, …"): it is the name

    def fits(phrase: str) -> bool:
        return _phrase_fits(phrase) and not _LOOSE_PHRASE.search(phrase) and phrase.lower() != tool_name.lower()

    better = name_from_sentence(sentence, tool_name)
    if better.lower().startswith(f"{name.lower()}:") and not _ADJECTIVE.match(name):
        return name  # a noun labelling its own text ("Dashboards: shareable dashboards …"): the page named it
    if not fits(better):
        better = keyphrase(sentence) or ""
    return better[:1].upper() + better[1:] if fits(better) else name


def _particle_end(name: str) -> str:
    """ "Retries built in" -> "Built-in retries", "Plugins opt in" -> "Plugins opt-in": a phrasal
    adjective after the noun is one word, so the name does not end on a particle."""
    built = re.fullmatch(r"(?P<noun>\w.*?) built[- ]in", name, re.IGNORECASE)
    if built:
        noun = built.group("noun")
        return f"Built-in {noun[:1].lower() + noun[1:] if not noun[:2].isupper() else noun}"
    return re.sub(r"(?<=\w) (in|out|on|up)$", r"-\1", name) if len(name.split()) >= 3 else name


def _names_a_feature(name: str, tool_name: str) -> bool:
    words = name.split()
    if len(words) != 1:
        return True
    word = words[0].strip(".:;,")
    return not (word.lower() == tool_name.lower() or _ADJECTIVE.match(word) or word.lower() in _GENERIC_WORD)


def _widen(name: str, text: str) -> str:
    """A one-word name takes the noun the page puts after it ("REST" -> "REST API" from "provides a
    REST API"), so it reads as a feature rather than a keyword."""
    if len(name.split()) != 1:
        return name
    match = re.search(rf"\b{re.escape(name)}\s+([A-Za-z][\w-]+)", text, re.IGNORECASE)
    word = match.group(1) if match else ""
    # A lower-case noun or an acronym ("API"); a capitalised word is the next sentence's name.
    if word and (word.islower() or word.isupper()) and word.lower() not in STOPWORDS and not NOT_A_NOUN.match(word):
        return f"{name} {word}"
    return name


# Words that continue a sentence rather than a noun phrase ("Faceting aggregates …").
NOT_A_NOUN = re.compile(
    r"^(?:is|are|was|were|be|been|can|could|will|would|should|may|might|must|has|have|had|does|do|"
    r"\w+(?:s|ed|ly))$",
    re.IGNORECASE,
)


def _description(spans: list[Span]) -> str:
    """Source sentences joined; items after an intro ending in ':' are joined with ';' as a list."""
    out = ""
    listing = False
    for span in spans:
        text = " ".join(span.text.split()).rstrip(";,")
        if out and len(out) + len(text) > MAX_DESCRIPTION_CHARS:
            break
        if listing:
            out = out.rstrip(".") + "; " + text.rstrip(".") + "."
        elif text.endswith(":"):
            out = f"{out} {text}".strip()
            listing = True
        else:
            out = f"{out} {text if text[-1] in '.!?' else text + '.'}".strip()
    if listing and out.endswith(":"):
        out = out[:-1] + "."
    return out.replace(": ;", ":").replace(":; ", ": ")


SECTION_WEIGHT = {"feature": 3.0, "neutral": 1.6, "low": 0.6, "skip": 0.0}


# List-level polarity: a list the page introduces as what the tool does not do or does badly ("Not
# supported:", "Known issues:", "Some extras, display modules, and the Terminal widget are not:", "Some
# extras may have compatibility issues:") lists denials and limits, one per item, however affirmative
# each item reads on its own ("Terminal widget and all related render API").
DENIED_INTRO = re.compile(
    r"\b(?:not|un)[- ]?(?:supported|available|implemented|included|provided|working)\b|\blimitations?\b|"
    r"\bcaveats?\b|\bknown (?:issues|bugs|problems)\b|\bgotchas\b|\bpitfalls\b|\bdrawbacks\b|"
    r"\b(?:does|do|will|can|may|might)(?:n't| not)\b|\bcannot\b|\bwon't\b|\b(?:is|are)(?:n't| not)\s*$|"
    r"\b(?:issues|problems|bugs)\s*$|"
    # What the tool is not for ("X is probably not what you want if you need to:", "X is not a good fit
    # for:"): the items are others' jobs, often with the product to use instead.
    r"\b(?:is|are)(?:n't|\s+(?:\w+ly\s+)?not)\s+(?:what|for|a good|the right|the best|suited|suitable|"
    r"recommended|meant|designed|intended|ideal)\b|"
    # Adopters ("X is used in major open-source projects like:", "Trusted by:", "Companies using X
    # include:"): a list of other projects' names, not features.
    r"\b(?:is|are)\s+(?:\w+\s+){0,3}?used\s+(?:in|by)\b(?!.*\b(?:to|for)\b)|\bused in production\b|"
    r"\b(?:trusted|relied on|loved|powered) by\b|"
    r"\b(?:companies|organi[sz]ations|projects|teams|users|adopters)\s+(?:that\s+|who\s+)?"
    r"(?:use|using|rely on|relying on|include)\b",
    re.IGNORECASE,
)

_RELATIVE = re.compile(r"\s(?:that|which|who|whose)\s", re.IGNORECASE)


def _denied_lists(blocks: list[Block]) -> tuple[set[int], set[int]]:
    """Indices of denied lists' items (with a bullet intro, which is only their label), and of their
    paragraph intros (DENIED_INTRO). The intro is a line ending in ":" (a paragraph, or a list item
    heading a run of items: "* Not supported:" then "1. …", "2. …"); its items run to the next such
    intro or to the end of the list."""
    found: set[int] = set()
    intros: set[int] = set()
    for block in blocks:
        text = " ".join(block.text.split())
        if block.kind not in ("paragraph", "bullet") or not text.endswith(":"):
            continue
        # The main clause denies, not a relative one: "many critical features that are missing from the
        # standard library:" announces what the tool adds.
        clause = _RELATIVE.split(last_clause(text), maxsplit=1)[0]
        if not DENIED_INTRO.search(clause):
            continue
        items = []
        for j in range(block.index + 1, len(blocks)):
            item = blocks[j]
            if item.kind != "bullet" or item.section != block.section:
                break
            if block.kind == "bullet" and item.level <= block.level and item.text.rstrip().endswith(":"):
                break  # the next intro of the same list ("* Special requirements:")
            items.append(item.index)
        if items:
            # A bullet intro is only the label; a paragraph's earlier sentences may still state features.
            found |= {*items, *([block.index] if block.kind == "bullet" else [])}
            intros.add(block.index)
    return found, intros


def _other_products_sections(
    blocks: list[Block], by_section: dict[tuple[str, ...], list[Block]], context: ClaimContext
) -> set[int]:
    """Indices of the blocks of sections whose subject is another product: the section's first sentence
    is about a named thing other than the tool ("## Hosted load testing" / "Azure offers a managed
    service that runs X tests …", a vendor's extension, a partner's platform). Its features are that
    product's, even where they mention the tool. A heading that names the tool is about the tool."""
    found: set[int] = set()
    tool = context.tool.lower()
    for block in blocks:
        if block.kind != "heading" or (tool and tool in block.text.lower()):
            continue
        path = (*block.section, block.text)
        # Only a "Why X?" / "What is X?" heading needs its whole section read here.
        if _WHY.match(clean_heading(block.text)) and _argues_for_another_thing(
            block.text, _within(blocks, path), context
        ):
            found |= {b.index for b in _within(blocks, path)} | {block.index}
            continue
        if not block.section:
            continue
        body = [b for b in by_section.get(path, []) if b.kind in ("paragraph", "bullet")]
        first = sentences(body[0].span)[:1] if body else []
        if not first or not about_another_product(" ".join(first[0].text.split()), context):
            continue
        if any(_tool_is_subject(" ".join(s.text.split()), context) for b in body for s in sentences(b.span)):
            # "MessagePack is an efficient binary serialization format. … This package provides CPython
            # bindings for reading and writing MessagePack data.": the thing the tool works with is
            # introduced, then the tool; each sentence is judged on its own.
            continue
        found |= {b.index for b in _within(blocks, path)} | {block.index}
    return found


def _within(blocks: list[Block], path: tuple[str, ...]) -> list[Block]:
    """The blocks under the heading path ``path``, its sub-sections included."""
    return [b for b in blocks if b.section[: len(path)] == path]


_WHY = re.compile(r"^\W*(?:why|what (?:is|are)(?: an?)?)\s+(?P<thing>[^?]+?)\W*$", re.IGNORECASE)
# "Why use it?", "Why this library?", "Why not X?": questions about the tool itself.
_ABOUT_THE_TOOL = re.compile(
    r"^(?:use|using|choose|pick|should|would|do|does|is|are|not|another|yet another|a new|it\b|this|us\b|we\b|our\b)",
    re.IGNORECASE,
)


def _argues_for_another_thing(heading: str, inside: list[Block], context: ClaimContext) -> bool:
    """A "Why X?" or "What is X?" section where X is not the tool and no sentence names the tool ("Why
    ASGI?" on a server's page, "What is a QR code?" on a QR library's): it argues for or explains a
    standard, a format or an approach the tool builds on, whose merits are not the tool's features,
    though "Why" headings otherwise introduce them."""
    match = _WHY.match(clean_heading(heading))
    tool = context.tool.lower()
    if not match or not tool or _ABOUT_THE_TOOL.match(match.group("thing")):
        return False
    return not any(tool in b.text.lower() for b in inside if b.kind != "code")


# A list item that introduces a named thing by what it is or does ("dbm is part of …", "klepto extends
# …", "joblib.Memory provides …").
_ITEM_SUBJECT = re.compile(
    r"^\W{0,3}(?P<subject>[A-Za-z][\w.+-]*)\W{0,3}\s+(?:is|are|was|provides|extends|implements|offers|wraps|"
    r"supports|uses|stores|adds|brings|includes)\b"
)
# A common English word ("Data is encrypted", "Storage is replicated") is a feature's topic, not a name.
_NAME_ZIPF = 3.0


def _named_subject(text: str, context: ClaimContext) -> str | None:
    """The name an item is about when it is a thing other than the tool, else None."""
    match = _ITEM_SUBJECT.match(" ".join(text.split()))
    if not match:
        return None
    subject = match.group("subject").strip(".").lower()
    tool = context.tool.lower()
    if not subject or subject in _COMMON or subject in STOPWORDS or (tool and (subject in tool or tool in subject)):
        return None
    name_like = subject in context.proper_names or bool(re.search(r"[._\d]", subject))
    return subject if name_like or zipf_frequency(subject, "en") < _NAME_ZIPF else None


def _catalogue_lists(blocks: list[Block], context: ClaimContext) -> set[int]:
    """Indices of the items of a list that catalogues other things: three or more items of one list (or
    every item of a shorter one, at least two), each introducing a different named thing by what it is
    ("dbm is part of the standard library …", "shelve implements …", "sqlitedict is a wrapper …"). A
    comparison with other projects or a list of related tools: each item states that thing's features,
    not this tool's."""
    found: set[int] = set()
    for run in _bullet_runs(blocks):
        named = {b.index: _named_subject(b.text, context) for b in run}
        subjects = {n for n in named.values() if n}
        # Two items suffice when each names a different thing ("joblib.Memory provides …", "klepto extends …").
        if len(subjects) >= 3 or (len(subjects) >= 2 and all(named.values())):
            found |= {i for i, n in named.items() if n}
    return found


def _bullet_runs(blocks: list[Block], item: Callable[[Block], bool] = lambda _: True) -> Iterator[list[Block]]:
    """Runs of consecutive list items of one section for which ``item`` holds: one list, or one stretch of it."""
    run: list[Block] = []
    for block in blocks:
        if block.kind == "bullet" and item(block):
            if run and block.section != run[0].section:
                yield run
                run = []
            run.append(block)
        elif run:
            yield run
            run = []
    if run:
        yield run


# A list item that documents one function or callback: "on_connect(): called when …", "`socket()`: returns …".
API_ITEM = re.compile(r"^\W{0,2}[A-Za-z_][\w.]*\([^)]{0,40}\)`?\s*(?:[:–—]|\s-\s)")


def _api_listings(blocks: list[Block]) -> set[int]:
    """Indices of the items of an API reference listing after its first: a run of three or more items of one
    list, each naming a function or callback and what it does ("on_connect(): called when …",
    "on_disconnect(): called when …"). The listing documents one interface; its first item stands for it,
    and the rest would make one capability per function."""
    found: set[int] = set()
    for run in _bullet_runs(blocks, lambda b: API_ITEM.match(b.text) is not None):
        if len(run) >= 3:
            found |= {b.index for b in run[1:]}
    return found


def _tables_of_contents(blocks: list[Block], headings: set[str]) -> set[int]:
    """Indices of lists that are a table of contents: three or more items, most of them the page's own
    headings (a README's linked outline "Usage / Install / Quickstart / Types"). Each entry is read in
    its section; the outline itself states nothing."""
    found: set[int] = set()
    run: list[Block] = []
    for block in [*blocks, None]:
        if block is not None and block.kind == "bullet":
            run.append(block)
            continue
        if len(run) >= 3 and _outline(run, headings):
            found |= {b.index for b in run}
        run = []
    return found


def _outline(items: list[Block], headings: set[str]) -> bool:
    """Whether most items of a list repeat the page's own headings: an outline, not content."""
    return sum(_label(b.text) in headings for b in items) >= 0.6 * len(items)


def _label(text: str) -> str:
    """A heading or list item reduced to its words, to tell when one repeats the other."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z][\w'+/.-]*", text))


# An API reference entry: a snake_case or dotted code name and its gloss ("max_size: the pool's upper
# bound", "loop.run_until_complete: …"), or a call and what it does ("connect(): opens …", "recv() returns
# …"). It documents one parameter or function of an interface, not a feature. A capitalised dotted name
# ("Node.js: …") is a product, and an option with its default ("timeout=30: …") stays: options are features.
API_ENTRY = re.compile(
    r"^\W{0,2}(?:[a-z_][a-z0-9]*_\w*|[a-z_]\w*(?:\.[A-Za-z_]\w*)+)`?\s*:\s|"
    r"^\W{0,2}[A-Za-z_][\w.]*\([^)]{0,40}\)`?\s*(?::\s|\s(?:returns?|which|is called|called|raises?|raised)\b)"
)


def _is_noise(text: str, tool_name: ClaimContext | str | None = None) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    return (
        (tool_name is not None and not_a_claim(text, tool_name))
        or letters < 0.55 * max(len(text), 1)
        or text.count(",") > max(4, len(text.split()) // 2)  # keyword lists
        or (len(re.findall(r"\d+\.\d+", text)) >= 2 and _words(text) < 10)  # version support matrices
        or text.rstrip().endswith((":", "?"))
        or bool(NOISE.search(text))
        or bool(API_ENTRY.match(text.strip()))
        or bool(COMMERCIAL.search(text))
        or bool(INSTRUCTION.match(text.strip()))
        or addresses_a_model(text)
        or bool(VAGUE.match(text.strip()))
        or text.strip().startswith(("$", ">>>", "```", "import ", "from ", "{", "<"))
    )


def _candidates(blocks: list[Block], name_of_tool: str, relaxed: bool) -> list[Candidate]:
    tool_name = ClaimContext(name_of_tool, proper_names([b.text for b in blocks if b.kind != "code"]))
    out: list[Candidate] = []
    consumed: set[int] = set()
    by_section: dict[tuple[str, ...], list[Block]] = {}
    for block in blocks:
        by_section.setdefault(block.section, []).append(block)
    headings = {_label(b.text) for b in blocks if b.kind == "heading"}
    consumed |= _tables_of_contents(blocks, headings)
    consumed |= _api_listings(blocks)
    consumed |= _catalogue_lists(blocks, tool_name)
    denied, denied_intros = _denied_lists(blocks)
    consumed |= denied | _other_products_sections(blocks, by_section, tool_name)
    beyond_lead: dict[int, list[Span]] = {}  # a section's first paragraph: sentences after its lead

    for block in blocks:
        if block.kind != "heading" or block.index in consumed:
            continue
        section_class = classify_section(Block("heading", 0, 0, "", section=(*block.section, block.text)), asides=True)
        # A feature-section heading ("Supported Features") names a list whose items are the capabilities;
        # a heading under one ("Features > Hybrid Search") is a capability itself.
        own_heading = clean_heading(block.text)
        if (
            section_class == "skip"
            or FEATURE_SECTION.search(own_heading)
            or is_generic_heading(block.text, name_of_tool)
        ):
            continue
        body = by_section.get((*block.section, block.text), [])
        content = [b for b in body if b.kind in ("paragraph", "bullet") and b.index not in consumed]
        name = own_heading
        if not (1 <= len(name.split()) <= 8) or name.endswith("?") or not_a_claim(name, tool_name):
            continue
        if _not_a_feature_heading(block.text, name, name_of_tool):
            continue
        opening_block = content[0] if content and content[0].kind == "paragraph" else None
        if opening_block and LIMITATION.search(" ".join(sentences(opening_block.span)[0].text.split())):
            # "Maximum Password Length" over "The algorithm only handles passwords up to 72 characters …":
            # a heading whose section opens on a limit names the limit, not a feature.
            continue
        if not content or all(_is_noise(s.text, tool_name) for b in content[:1] for s in sentences(b.span)):
            # A section that is only code, or one intro line ("Scheduling jobs is also easy:"): the
            # descriptive heading itself states the feature ("Repeating Jobs").
            topic = section_class == "low" and _topic_under_usage(block.text, name)
            if (
                (section_class != "low" or topic)
                # One word only as a topic over nothing but code ("Usage > Sessions"), named as a feature
                # later; with an intro line ("To get something from the web:") it is a walkthrough's part.
                and (1 if topic and not content else 2) <= len(name.split()) <= 6
                and any(b.kind == "code" for b in body)
                # "Run it", "Cite X" over a code block: a step or a citation, not a feature.
                and not (INSTRUCTION.match(name) or NOISE.search(name))
            ):
                intro_line = [s for b in content[:1] for s in sentences(b.span)][:1]
                out.append(
                    Candidate(
                        [block.span, *intro_line],
                        # A topic under usage counts as a neutral section's heading, not as a step.
                        1.8 * _weight("neutral" if section_class == "low" else section_class),
                        block.index,
                        name,
                        intro_line or [block.span],
                        name,
                        section=(*block.section, block.text),
                    )
                )
            continue
        bullets = [b for b in content if b.kind == "bullet" and b.level == 0]
        first = content[0]
        lead = (
            [s for s in sentences(first.span) if not (_is_noise(s.text, tool_name) or _fragment(s.text, name_of_tool))][
                :2
            ]
            if first.kind == "paragraph"
            else []
        )
        short_list = len(bullets) >= 3 and sum(_words(b.text) <= 8 for b in bullets) >= 0.6 * len(bullets)
        if short_list and _outline(bullets, headings):
            # A table of contents: its items are the page's own later headings ("Install",
            # "Quickstart", "Serialize"), each of which is read in its own section.
            continue
        if short_list:
            # A list of short items (categories, languages, backends) is one capability, named by the heading.
            evidence = lead[:1] + [b.span for b in bullets[: MAX_QUOTES - len(lead[:1])]]
            for b in bullets:
                consumed.add(b.index)
            if lead:
                consumed.add(first.index)
            out.append(
                Candidate(
                    evidence,
                    2.4 * _weight(section_class),
                    block.index,
                    name,
                    lead or evidence,
                    name,
                    section=(*block.section, block.text),
                )
            )
        elif lead:
            consumed.add(first.index)
            # The paragraph's later sentences often state further features of the section's topic
            # ("Backups, encryption and access control are included. Data is encrypted at rest …
            # Daily backups are kept for 7 days."): each is read on its own below; a mere
            # restatement merges back into this capability (SAME_SECTION_SIMILARITY).
            said = {s.start for s in lead}
            rest = [s for s in sentences(first.span) if s.start not in said and s.start > lead[0].start]
            if rest:
                beyond_lead[first.index] = rest
            out.append(
                Candidate(
                    lead,
                    2.0 * _weight(section_class),
                    block.index,
                    name,
                    lead,
                    " ".join(s.text for s in lead),
                    section=(*block.section, block.text),
                )
            )

    out.extend(_feature_table_rows(blocks, tool_name))
    out.extend(_title_tagline(blocks, tool_name))

    # The page's first paragraph before any second-level heading: its first sentence is the tagline.
    opening = next((b.index for b in blocks if b.kind == "paragraph" and len(b.section) <= 1), -1)
    announced: set[int] = set()  # items of a list the page presents as the tool's features
    for block in blocks:
        if block.kind == "paragraph" and block.index not in consumed and block.index not in denied_intros:
            cand = _list_with_intro(blocks, block, tool_name, consumed, announced, beyond_lead)
            if cand:
                out.append(cand)

    for index, rest in beyond_lead.items():
        block = blocks[index]
        section_class = classify_section(block)
        if section_class == "low" and not relaxed:
            continue
        code_next = _code_follows(blocks, block)
        first_start = sentences(block.span)[0].start
        for span in rest:
            before_code = code_next and span is rest[-1]
            weight = _weight(section_class)
            # The page's opening sentence is its tagline even when its paragraph ends in a list intro
            # ("This modest package contains various common humanization utilities, … It is localized to:").
            tagline = index == opening and span.start == first_start
            cand = _sentence_candidate(span, block, weight, tagline, relaxed, tool_name, tagline, before_code)
            if cand:
                out.extend(_one_per_feature(cand, span))

    for block in blocks:
        if block.index in consumed:
            continue
        section_class = classify_section(block, asides=True)
        if section_class == "skip":
            if block.kind == "paragraph" and _installation(block):
                # An installation section's prose also states what ships ("Prebuilt wheels are
                # available for Linux, macOS and Windows", "Optional GPU support is provided via
                # CUDA"): read with the usual checks, which drop the commands and requirements.
                for span in sentences(block.span):
                    cand = _sentence_candidate(span, block, _weight("low"), False, relaxed, tool_name)
                    if cand and not INSTALL_STEP.search(span.text):
                        out.extend(_one_per_feature(cand, span))
            # Not even to fill a thin page: maintainers, sponsors and install steps are never
            # capabilities; a thin page yields few and says so (pipeline notice).
            continue
        weight = _weight(section_class)
        children = _children(blocks, block)
        if block.kind == "bullet" and block.level == 0 and children and _words(block.text) <= 6:
            # "- Message Transports" with sub-items: the parent names, the children describe.
            for child in children:
                consumed.add(child.index)
            spans = [block.span, *(c.span for c in children[: MAX_QUOTES - 1])]
            described = [c.span for c in children]
            name = clean_heading(block.text)
            out.append(
                Candidate(
                    spans, 2.0 * weight + 0.6, block.index, name, described, f"{name} {_join(described)}", block.section
                )
            )
            continue
        if block.index in announced:
            # An item the page announces as a feature is one, even if short ("Connection pooling.").
            section_class, weight = "feature", max(weight, _weight("neutral"))
        if block.kind == "bullet" and block.level <= 1:
            cand = _bullet_candidate(block, weight, section_class, relaxed, tool_name)
            if cand and cand.name_hint is None and len(cand.spans[0].text) == len(block.text):
                # "Features including multiple protocol support, SSL, authentication and proxy
                # options.": an item naming several features is several, as in a sentence.
                spans = sentences(block.span)
                split = [c for span in spans for c in _one_per_feature(cand, span) if c is not cand]
                out.extend(split)
                if not split or len(spans) > 1:
                    out.append(cand)  # its other sentences still say something
            elif cand:
                out.append(cand)
        elif block.kind == "paragraph" and (section_class != "low" or relaxed):
            # Prose in a usage, example or tutorial section walks through steps; the features it
            # shows are named elsewhere on the page (its lists and descriptive headings still count).
            intro = not block.section or len(block.section) == 1
            spans = sentences(block.span)
            code_next = _code_follows(blocks, block)
            for k, span in enumerate(spans):
                tagline = block.index == opening and k == 0
                before_code = code_next and k == len(spans) - 1
                cand = _sentence_candidate(span, block, weight, intro, relaxed, tool_name, tagline, before_code)
                if cand:
                    out.extend(_one_per_feature(cand, span))
        elif block.kind == "paragraph":
            # A tutorial's steps address the reader; a sentence in it whose subject is the tool itself
            # ("Sanic can now be easily run from CLI", "Litestar also supports …") states a feature.
            for span in sentences(block.span):
                if _tool_is_subject(span.text, tool_name):
                    cand = _sentence_candidate(span, block, weight, False, relaxed, tool_name)
                    if cand:
                        out.extend(_one_per_feature(cand, span))
    return out


def _title_tagline(blocks: list[Block], context: ClaimContext) -> list[Candidate]:
    """The page title's subtitle ("Trio – a friendly Python library for async concurrency and I/O",
    "marshmallow: simplified object serialization"): the tool's own tagline, set after its name and a
    dash or colon. It says what the tool is, like the opening sentence it merges with."""
    title = next((b for b in blocks if b.kind == "heading" and not b.section), None)
    name = context.tool
    if title is None or not name:
        return []
    match = re.match(rf"^\W*{re.escape(name)}\W*?\s*(?:[:–—|]|\s-)\s*(?P<rest>\S.*?)\s*$", title.text, re.IGNORECASE)
    if not match:
        return []
    rest = match.group("rest")
    if not 3 <= _words(rest) <= 15 or _is_noise(rest, context) or NOISE.search(rest):
        return []
    span = Span(rest, title.start + match.start("rest"), title.start + match.end("rest"))
    return [
        Candidate(
            [span], 1.0 * _weight("neutral") + 1.4 + _words(rest) / 50, title.index, None, [span], rest, (), True, True
        )
    ]


# A heading that frames a walkthrough rather than naming a topic: "Using the client", "With a context
# manager", "How it works", "Creating a pool", "A minimal example", "Recap", "Your first job".
_HOW_TO = re.compile(
    r"^(?:using|use|with|without|how|why|when|what|the|a|an|my|our|basic|simple|advanced|more|another|"
    r"first|second|third|next|step|part|putting|getting|let's|other|further)\b|"
    r"^\w+(?:ing)?\s+(?:a|an|the|your|my|our|some|multiple|several|it|them|one|this|these)\b|"
    r"\b(?:examples?|recap|summary|minimum|minimal|sample|demo|tutorial|walkthrough|usage|quick ?start|"
    r"hello world|step \d+|part \d+|you|your|again|more|details?|notes?|tips?|tricks?|use|documentation|docs|"
    r"initiali[sz]ation|setup|set-up|arguments?|parameters?)\b",
    re.IGNORECASE,
)
# A heading that holds a piece of code ("`Pool.acquire()`", "connect_timeout", "ws.recv"): an API entry.
_CODE_NAME = re.compile(r"[`()=<>{}\[\]]|\w_\w|\w\.\w|^[a-z]+[A-Z]")
# A heading that is one code name: a call, or a snake_case or dotted identifier ("loop_forever()", "Loop()",
# "`client.publish`"): an API reference entry, documented one function at a time.
# A capitalised dotted name ("Node.js", "Socket.IO") is a product, not code.
_CODE_HEADING = re.compile(r"^\W*`?(?:[A-Za-z_][\w.]*\([^)]{0,40}\)|[A-Za-z_]\w*_\w*|[a-z_]\w*(?:\.\w+)+)`?\W*$")
_READER = re.compile(r"\b(?:you|your|yours|yourself)\b", re.IGNORECASE)


def _not_a_feature_heading(heading: str, name: str, tool: str = "") -> bool:
    """A heading that cannot name a capability: a walkthrough's own title ("Example usages", "An example with
    two subcommands", "Quickstart"; a topic word such as "Configuration" does name one), one addressed to the
    reader ("Use Typer in your code"), a single code name, or advice for one setting ("Using Keyring on
    Ubuntu 16.04", "Using Keyring with tox")."""
    walkthrough = LOW_VALUE_SECTION.search(TOPIC_SECTION.sub(" ", name)) is not None
    setting = bool(tool) and re.match(
        rf"(?:using|running|installing|deploying)\s+{re.escape(tool)}\s+(?:on|with|in|under|inside|behind)\s",
        name,
        re.IGNORECASE,
    )
    return walkthrough or bool(setting) or _READER.search(name) is not None or _CODE_HEADING.match(heading) is not None


def _topic_under_usage(heading: str, name: str) -> bool:
    """Whether a sub-heading of a usage or examples section names a topic ("Usage > Connection pools",
    "Examples > Custom validators"): over code only, it states a feature as a heading under
    "Features" does. A walkthrough's own framing ("Using the pool", "A minimal example"), an
    instruction ("Run it") or a code name stays a step."""
    return (
        1 <= len(name.split()) <= 6
        and not LOW_VALUE_SECTION.search(name)
        and not INSTRUCTION.match(name)
        and not _HOW_TO.search(name)
        and not _CODE_NAME.search(heading)
        and not NOISE.search(name)
    )


# The page's word for the tool itself: "This module wraps …", "This library provides …".
_SELF_REFERENCE = re.compile(
    # "This modest package contains …", "This Python library …": up to two words before the noun.
    r"^this (?:[\w-]+\s+){0,2}?(?:module|library|package|project|tool|toolkit|framework|bindings?|extension|plugin|"
    r"crate|client|server|app|application|sdk|cli|implementation|repository|software)\s",
    re.IGNORECASE,
)


# "It" opening a sentence of a README's prose is, most of the time, the tool.
_PRONOUN = re.compile(r"^It\s+(?!is\s+(?:recommended|possible|important|necessary|worth|easy to|a good idea)\b)")


def _tool_is_subject(text: str, context: ClaimContext) -> bool:
    name = context.tool.lower()
    if _SELF_REFERENCE.match(text.strip()):
        return True
    # The name may be set as code or bold ("`xmltodict` is a Python module …").
    opening = re.sub(r"^[`*_]+|(?<=\w)[`*_]+(?=['\s])", "", text.strip(), count=2).lower()
    return bool(name) and re.match(rf"(?:the\s+)?{re.escape(name)}(?:'s)?\s", opening) is not None


def _fragment(text: str, tool: str) -> bool:
    """The tail of a sentence split after an abbreviation ("… (eg. a backup) or … (eg." then
    "generating invoices for a particular company)."): it starts in lower case, and not on the tool's
    own lower-case name ("huey supports …")."""
    return text[:1].islower() and not (tool and text.lower().startswith(tool.lower()))


def _list_with_intro(
    blocks: list[Block],
    intro: Block,
    context: ClaimContext,
    consumed: set[int],
    announced: set[int],
    earlier: dict[int, list[Span]],
) -> Candidate | None:
    """ "Toxicity head: six labels scored independently:" + a list is one capability, not six; after
    "huey supports:" each item is one (they go to ``announced``). When the intro's paragraph is taken
    with its list, its earlier sentences about the tool go to ``earlier``, to be read on their own."""
    tool_name = context.tool
    text = " ".join(intro.text.split())
    section_class = classify_section(intro, asides=True)
    if not text.endswith(":") or section_class == "skip":
        return None
    # "Imagine you have a SQL table called hero with:" sets up an example; its items are its data.
    pointer = bool(NOISE.search(text) or INSTRUCTION.match(text) or not_a_claim(text.rstrip(":"), tool_name))
    items = []
    for j in range(intro.index + 1, len(blocks)):  # no copy of the rest of a long page per item
        block = blocks[j]
        if block.kind != "bullet" or block.section != intro.section:
            break
        if block.level == 0:
            items.append(block)
    if len(items) < 2:
        return None
    if points_to_reading(text):
        # "For more details, see:", "These guides may help:": a list of places to read, nested items too.
        consumed.add(intro.index)
        for j in range(intro.index + 1, len(blocks)):
            if blocks[j].kind != "bullet" or blocks[j].section != intro.section:
                break
            consumed.add(j)
        return None
    if pointer:
        # "More examples can be found at:", "To get started quickly, have a look at these tutorials:":
        # the intro points elsewhere; its items are not one capability named by it, though each may
        # still be one on its own ("the user guide includes: … a dependency injection system").
        consumed.add(intro.index)
        condition = LEADING_CONDITION.match(text)
        if (
            REQUIREMENT.search(text)
            or READER_NEED.match(text[condition.end() :] if condition else text)
            or SCENARIO.match(text)
        ):
            # "Celery version 5.6.x runs on:", "If you run X, you need to be running:": its items are what
            # the tool needs; "Imagine you have a table called hero with:": its items are the example's data.
            consumed.update(b.index for b in items)
        return None
    if announces_features(text, tool_name):
        announced.update(b.index for b in items)
        if len(sentences(intro.span)) == 1:
            consumed.add(intro.index)  # the intro line itself says nothing beyond its items …
            if identity_intro(text, tool_name) and not _is_noise(text.rstrip(":") + ".", context):
                # … unless it says what the tool is ("Ibis is the portable Python dataframe library:"),
                # a sentence like "<tool> is a …" anywhere (_sentence_candidate), though with no feature word.
                top = not intro.section or len(intro.section) == 1
                span = sentences(intro.span)[0]
                score = _weight(section_class) + (0.4 if top else 0.0) + min(_words(text), 25) / 50
                return Candidate([span], score, intro.index, None, [span], text.rstrip(":"), intro.section, True, top)
        return None
    # Only the sentence that introduces the list can name it: in "Networks fail in boring ways: a load
    # balancer drops … Pliant makes retrying the default:" the first sentence's label is not the list's.
    lead = split_lead(" ".join(sentences(intro.span)[-1].text.split()).rstrip(":"))
    short = sum(_words(b.text) <= 10 for b in items) >= 0.6 * len(items)
    if not lead and (not short or section_class == "feature"):
        return None  # long items, or the items of a feature list, stand on their own
    heading = clean_heading(intro.section[-1]) if intro.section else ""
    if lead:
        name: str | None = lead[0]
    elif heading and not is_generic_heading(heading, tool_name) and not FEATURE_SECTION.search(heading):
        name = heading
    else:
        name = None
    consumed.add(intro.index)
    consumed.update(b.index for b in items)
    *before, last_sentence = sentences(intro.span)
    # "Pliant is a retry library for Python. It backs off with jitter. Supported clocks:": the sentences
    # before the list's own intro still say what the tool does when the tool is their subject.
    stated = [s for s in before if _tool_is_subject(s.text, context) or _PRONOUN.match(s.text)]
    if stated:
        earlier[intro.index] = stated
    described = [last_sentence, *(b.span for b in items)]
    evidence = [last_sentence, *(b.span for b in items[: MAX_QUOTES - 1])]
    score = 2.4 * _weight(section_class)
    return Candidate(evidence, score, intro.index, name, described, f"{name or ''} {_join(described)}", intro.section)


# A table's header whose first column names features ("| Feature | Description |"): each row is one.
FEATURE_COLUMN = re.compile(r"^(?:features?|capabilit(?:y|ies)|functionality)$", re.IGNORECASE)


def _cells(row: Block) -> list[Span]:
    """A table row's cells as spans of the page text (the outer pipes dropped, each cell trimmed)."""
    out = []
    offset = row.start
    for raw in row.text.strip().strip("|").split("|"):
        at = row.text.index(raw, offset - row.start) + row.start if raw else offset
        text = raw.strip()
        start = at + (len(raw) - len(raw.lstrip()))
        out.append(Span(text, start, start + len(text)))
        offset = at + len(raw) + 1
    return out


def _feature_table_rows(blocks: list[Block], tool_name: ClaimContext) -> list[Candidate]:
    """ "| Feature | Description |" tables in a feature section, or whose first column is headed as
    features: each row names one capability in its first cell and describes it in the others. Spec
    sheets, benchmarks and comparison matrices elsewhere state values, not features, and a row whose
    cells are marks or numbers ("✅", "32 threads") describes nothing."""
    out: list[Candidate] = []
    tables: list[list[Block]] = []
    for block in blocks:
        if block.kind != "table_row":
            continue
        previous = blocks[block.index - 1] if block.index else None
        if tables and previous is not None and previous.kind == "table_row" and previous is tables[-1][-1]:
            tables[-1].append(block)
        else:
            tables.append([block])
    for rows in tables:
        if len(rows) < 2:
            continue
        header = _cells(rows[0])
        section_class = classify_section(rows[0])
        if section_class == "skip":
            continue
        if section_class != "feature" and not (header and FEATURE_COLUMN.match(header[0].text)):
            continue
        for row in rows[1:]:
            cells = [c for c in _cells(row) if c.text]
            if len(cells) < 2:
                continue
            label, described = cells[0], [c for c in cells[1:] if _words(c.text) >= 3 and not _is_noise(c.text)]
            name = clean_heading(label.text)
            if not described or not 1 <= _words(name) <= 6 or _is_noise(name, tool_name):
                continue
            if any(not_a_claim(c.text, tool_name) for c in described):
                continue
            score = 2.0 * _weight(section_class) + 0.3
            text = f"{name}: {_join(described)}"
            out.append(Candidate([label, *described[:2]], score, row.index, name, described[:2], text, row.section))
    return out


LINK_OR_COMMAND = re.compile(r"https?://|www\.|^\s*(?:\$|>>>|pip install|npm install|go get)", re.IGNORECASE)
# First person narrates ("We met at a bakery…"); "I" only as a word of its own, not "I/O".
FIRST_PERSON = re.compile(
    r"\b(?:we|our|us|my|me)\b|(?-i:\bI\b)(?![/'])|^(?:welcome|thanks|thank you|hello|hi|see you|bye|goodbye|cheers)\b",
    re.IGNORECASE,
)
SHORT_DOCUMENT_WORDS = 80


def _description_sentences(blocks: list[Block]) -> list[Candidate]:
    """Last resort for a short description ("Fast JSON schema validation for Python."): its
    sentences are what the tool does, even without a cue word. Narrative in the first person
    ("We met at a bakery…") is not."""
    body = [b for b in blocks if b.kind in ("paragraph", "bullet")]
    if not body or sum(_words(b.text) for b in body) > SHORT_DOCUMENT_WORDS:
        return []
    out = []
    for block in body:
        for span in sentences(block.span):
            text = " ".join(span.text.split())
            # Lighter checks than for a page: a catalog line may read "Run large language models
            # locally." or "PDF processor." — imperative or terse, but a description all the same.
            letters = sum(ch.isalpha() for ch in text)
            if (
                _words(text) >= 2
                and letters >= 0.5 * len(text)
                and not LINK_OR_COMMAND.search(text)
                and not text.endswith("!")  # exclamations greet or cheer; they do not describe
                and not FIRST_PERSON.search(text)
                and not addresses_a_model(text)
            ):
                out.append(Candidate([span], 1.0, block.index + span.start / 1e7, None, [span], text))
    return out[:5]


def _children(blocks: list[Block], parent: Block) -> list[Block]:
    if parent.kind != "bullet":
        return []
    out = []
    for j in range(parent.index + 1, len(blocks)):
        block = blocks[j]
        if block.kind != "bullet" or block.level <= parent.level or block.section != parent.section:
            break
        out.append(block)
    return out


# Wording of an installation step rather than of what is installed.
INSTALL_STEP = re.compile(
    r"\b(?:install(?:ed|ing|s)?|pip|conda|npm|brew|apt(?:-get)?|docker|build|compile|clone|download|"
    r"virtualenv|venv|extras?|requires?|required|dependenc\w+|version|pypi|anaconda|precompiled|bundles?)\b",
    re.IGNORECASE,
)


def _installation(block: Block) -> bool:
    """A block under an installation heading only (not licence, sponsors, …, which are skipped too)."""
    path = [clean_heading(h) for h in block.section]
    skipped = [h for h in path if SKIP_SECTION.search(h)]
    return bool(skipped) and all(re.search(r"\binstall\w*|\bset ?up\b", h, re.IGNORECASE) for h in skipped)


def _code_follows(blocks: list[Block], block: Block) -> bool:
    """The next block is code, or a bare link ("This module wraps the X library:" then its URL)."""
    if block.index + 1 >= len(blocks):
        return False
    after = blocks[block.index + 1]
    return after.kind == "code" or (
        after.kind == "paragraph" and re.fullmatch(r"\s*https?://\S+\s*", after.text) is not None
    )


def _join(spans: list[Span]) -> str:
    return " ".join(s.text for s in spans)


def _weight(section_class: str) -> float:
    return SECTION_WEIGHT[section_class] / SECTION_WEIGHT["neutral"]


# "Default: 10 GiB", and a default in parentheses: "Specify the number of probes (1 by default)".
PARAMETER_DEFAULT = re.compile(
    r"\b(?:default|defaults to)\s*(?:value\s*)?[:=]\s*\S|"
    r"\((?:[\d.]+\s*\w{0,5}|`[^`]{1,30}`|'[^']{1,30}'|\"[^\"]{1,30}\")\s+by default\)|"
    r"\(defaults? (?:to|is|:)[^()]{1,30}\)",
    re.IGNORECASE,
)


def _bullet_candidate(
    block: Block, weight: float, section_class: str, relaxed: bool, tool_name: ClaimContext
) -> Candidate | None:
    text = " ".join(block.text.split())
    words = _words(text)
    if words < 2 or _is_noise(text, tool_name) or len(text) > 600:
        return None
    if section_class != "feature" and words < 4 and not relaxed:
        return None
    spans = sentences(block.span)
    name = None
    description = spans
    lead = split_lead(text)
    if re.match(r"[\w.-]+/\s", text):
        return None  # "docs/ – documentation sources": the repository's layout, not the tool
    if PARAMETER_DEFAULT.search(text):
        # "hard limit – Absolute maximum output size. Default: 10 GiB.": a setting documented with its
        # default value; the feature is the section that sets it.
        return None
    # A bare lower-case word ("fast: Asyncio and no forking make …") is a label in prose; a parameter is
    # set as code or spelled as an identifier (`m`, max_retries, LMFE_MAX_JSON_ARRAY_LENGTH).
    code_label = text.startswith("`") or re.search(r"[_.]", lead[0]) is not None if lead else False
    if lead and (
        re.fullmatch(r"\S{1,2}|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", lead[0])
        or (code_label and re.fullmatch(r"[a-z_][\w.]*", lead[0]))
    ):
        # "`m` - the max number of connections", "`LMFE_MAX_JSON_ARRAY_LENGTH` - …": a parameter or an
        # environment variable documented, not a capability.
        return None
    if lead:
        name = lead[0]
        description = [s for s in spans if s.text.rstrip(".:;—–- ") != name] or spans
        if code_label and "=" in name:
            # "`full_document=True`: Include XML declaration if True.": the option is named by what it
            # does, not by its default value.
            named = name_from_sentence(lead[1])
            name = named if len(named.split()) >= 2 and is_good_name(named) else None
    score = 2.0 * weight + min(words, 25) / 25 - (0.3 if block.level else 0.0)
    if CAPABILITY_CUE.search(text):
        score += 0.3
    if READER_SUBJECT.match(text):
        score -= 2.0
    return Candidate(
        [_claim_part(block.span, tool_name)], score, block.index, name, description[:3], text, block.section
    )


# A later sentence of an item that turns to a caveat or to the reader ("Note that this cannot …", "If you
# already use X, …"): the item's claim ends before it.
_TURN = re.compile(r"^(?:note\b|if you\b|however\b|but\b)", re.IGNORECASE)


def _claim_part(span: Span, context: ClaimContext) -> Span:
    """The item's quote up to the first later sentence that is a caveat, a limit or about something else:
    "`RegexParser` - parses according to a regular expression. Note that this cannot use …" quotes only
    the claim."""
    parts = sentences(span)
    for k, part in enumerate(parts[1:], start=1):
        text = " ".join(part.text.split())
        if _TURN.match(text) or not_a_claim(text, context):
            end = parts[k - 1].end
            return Span(span.text[: end - span.start], span.start, end)
    return span


def _one_per_feature(cand: Candidate, span: Span) -> list[Candidate]:
    """ "It supports periodic tasks, retries, arbitrary task locks etc.": one capability per feature
    named, each quoting its own words and described by the whole sentence."""
    items = feature_items(span)
    if not items:
        return [cand]
    return [
        Candidate(
            [item],
            cand.score,
            cand.order + k / 1e9,
            item.text[:1].upper() + item.text[1:],
            [span],
            item.text,
            cand.section,
            cand.prose,
        )
        for k, item in enumerate(items)
    ]


def _sentence_candidate(
    span: Span,
    block: Block,
    weight: float,
    intro: bool,
    relaxed: bool,
    tool_name: ClaimContext,
    tagline: bool = False,
    before_code: bool = False,
) -> Candidate | None:
    text = " ".join(span.text.split())
    words = _words(text)
    # "RQ can send an HTTP request to a URL when a job finishes:" + a code block: the colon leads into
    # an example of the feature the sentence states, not into a list of items read elsewhere.
    # Only when the tool is the subject ("RQ can …"): "This produces output like:" shows an example.
    about_tool = _tool_is_subject(text, tool_name)
    checked = text[:-1].rstrip() + "." if before_code and about_tool and text.endswith(":") else text
    if words < (3 if tagline else 5) or words > 60 or _is_noise(checked, tool_name):
        return None
    # The page's opening line says what the tool is ("Chroma - the open-source data infrastructure for
    # AI") whether or not it uses a feature word.
    # Not when it narrates in the first person ("We met at a bakery in 2014.").
    cue = (tagline and not FIRST_PERSON.search(text)) or CAPABILITY_CUE.search(text)
    # A lowercase start is a fragment (footnote, broken wrap), unless it is the tool's own lowercase name
    # ("urllib3 is a powerful, user-friendly HTTP client"): then it is often the page's tagline.
    if not cue or _fragment(text, tool_name.tool):
        return None
    score = 1.0 * weight + (0.4 if intro else 0.0) + min(words, 25) / 50
    if tagline:
        # What the tool is for is its first capability: on a long page it must not lose its slot to
        # the many descriptive headings further down.
        score += 1.0
    if READER_SUBJECT.match(text):
        score -= 0.8
    identity = intro and (tagline or _is_identity(text, tool_name.tool))
    return Candidate([span], score, block.index + span.start / 1e7, None, [span], text, block.section, True, identity)


def _is_identity(text: str, tool: str) -> bool:
    """ "Starlette is a lightweight ASGI framework", "`msgspec` is a fast … library": the tool's name,
    perhaps with an aside ("Qdrant (read: quadrant) is …", "X, despite the name, is …"), then "is a/an"."""
    if not tool:
        return False
    name = re.escape(tool)
    return bool(
        re.match(rf"^\W*{name}\W*(?:\([^)]*\)\s*|,[^,]{{1,40}},\s*)?(?:is|'s)\s+(?:an?|the)\s", text, re.IGNORECASE)
    )
