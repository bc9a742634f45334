"""The page templates and helpers without a browser: hostile vendor values in every field come out
as text, links are only ever http(s), and the job page's stages follow the pipeline's progress."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from markupsafe import Markup

from capmatch.extractor.inline_code import collapse_code_spans
from capmatch.matching.graph import MatchGraph
from capmatch.matching.rank import FORMULA, rank
from capmatch.models import Alternative, Capability, Evidence, Job, JobOutcome, JobStatus, Stage, Tool
from capmatch.web.progress import STEPS, step_states
from capmatch.web.templating import (
    HERE,
    describe_inputs,
    inline_code,
    leader,
    safe_url,
    templates,
    text_fragment_url,
)

HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def hostile_tool(url: str = "javascript:alert(3)") -> Tool:
    cap = Capability(
        id=1,
        name=f"Name {HOSTILE}",
        description=f"Description {HOSTILE}",
        unique=f"Unique {HOSTILE}",
        vs_alternatives=f"Versus {HOSTILE}",
        alternatives=[
            Alternative(tool_id="other", tool_name=HOSTILE, capability_id=2, capability_name=HOSTILE, similarity=0.7)
        ],
        evidence=[Evidence(quote=f"Quote {HOSTILE}", start=0, end=10)],
        grounded=True,
    )
    return Tool(
        id="evil",
        name=f"Evil {HOSTILE}",
        url=url,
        summary=f"Summary {HOSTILE}",
        category=HOSTILE,
        license=HOSTILE,
        content_hash="0" * 64,
        source_format="html",
        fetched_at=datetime.now(UTC),
        extractor="extractive",
        extractor_version="1",
        capabilities=[cap],
    )


def assert_inert(html: str) -> None:
    main = html.split("<main", 1)[1]
    assert "<script" not in main and "<img" not in main
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in main
    assert not re.search(r"""href=["']?\s*(javascript|data):""", html, re.IGNORECASE)


def test_tool_page_renders_every_vendor_field_as_text() -> None:
    tool = hostile_tool()
    html = templates.get_template("tool.html").render(
        tool=tool, rank=rank(tool, MatchGraph([], [])), formula=FORMULA, similar=[], others=[], open_cards=4
    )
    assert_inert(html)
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 8  # name, summary, each line, quote, licence…
    assert "javascript:" in html  # shown as text: the URL is still visible…
    assert 'href="javascript' not in html  # …but never a link


def test_job_page_renders_source_and_error_as_text() -> None:
    job = Job(
        id="j1",
        source=f"http://example.com/{HOSTILE}",
        extractor="auto",
        status=JobStatus.FAILED,
        stage=Stage.FETCHING,
        progress=0.02,
        error=f"HTTP 500 from {HOSTILE}",
        error_code="fetch_failed",
    )
    html = templates.get_template("job.html").render(
        job=job, tool=None, deleted=False, steps=step_states(job), open_job=False, skip_after=0.15
    )
    assert_inert(html)
    assert "job.js" not in html  # a finished job needs no polling


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/docs", True),
        ("http://example.com", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        (" javascript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox", False),
        ("/etc/passwd", False),
        ("fixtures/docs/pliant.rst", False),
        ("//evil.example/x", False),
    ],
)
def test_only_http_links_are_rendered(url: str, safe: bool) -> None:
    assert (safe_url(url) == url) is safe
    assert text_fragment_url(url, "some quoted words").startswith("http") is safe


def test_text_fragment_links_scroll_to_the_quote() -> None:
    short = text_fragment_url("https://x.dev/docs#intro", "Retries - with backoff, jitter")
    assert short == "https://x.dev/docs#:~:text=Retries%20%2D%20with%20backoff%2C%20jitter"
    long = text_fragment_url("https://x.dev/", "one two three four five six seven eight nine ten")
    assert long == "https://x.dev/#:~:text=one%20two%20three%20four,seven%20eight%20nine%20ten"


def job_at(progress: float, status: JobStatus = JobStatus.RUNNING) -> Job:
    return Job(id="j", source="http://x", extractor="auto", status=status, progress=progress)


def test_job_stages_follow_the_progress_the_pipeline_reports() -> None:
    def states(job: Job) -> dict[str, str]:
        return {step.key: state for step, state in step_states(job)}

    assert set(states(job_at(0.0, JobStatus.QUEUED)).values()) == {"pending"}
    at = states(job_at(0.72))  # the pipeline's contrast call (capmatch/pipeline.py)
    assert at["contrasting"] == "current" and at["embedding"] == "done" and at["indexing"] == "pending"
    assert states(job_at(0.88))["updating"] == "current"
    failed = states(job_at(0.35, JobStatus.FAILED))
    assert failed["extracting"] == "failed" and failed["cleaning"] == "done" and failed["verifying"] == "pending"
    assert set(states(job_at(1.0, JobStatus.DONE)).values()) == {"done"}
    assert [s.starts_at for s in STEPS] == sorted(s.starts_at for s in STEPS)


def test_the_page_script_uses_the_steps_rendered_in_the_markup() -> None:
    """job.js has no thresholds of its own: it reads data-starts from the server's list."""
    text = (HERE / "static" / "job.js").read_text(encoding="utf-8")
    assert "dataset.starts" in text and not re.search(r"0\.\d\d", text)


def test_subscore_inputs_read_as_words() -> None:
    text = describe_inputs({"stars": 9650.0, "grounded_share": 0.875, "license_stated": True, "degree": 8})
    assert text == "stars 9,650 · grounded share 0.875 · license stated yes · degree 8"


def test_feature_table_marks_the_leader_only_on_scores() -> None:
    from capmatch.matching.compare import TableRow

    assert leader(TableRow(feature="Rank", a="75/100", b="70/100")) == "a"
    assert leader(TableRow(feature="Quality", a="no data", b="40")) == ""
    assert leader(TableRow(feature="Times matched", a="1", b="3")) == "b"
    assert leader(TableRow(feature="Pricing", a="Free", b="Paid")) == ""


def test_code_spans_render_as_code_and_stay_escaped() -> None:
    assert inline_code("set `retries=5` and go") == Markup("set <code>retries=5</code> and go")
    # A span the vendor wrapped over two lines: no stray newline inside the <code>.
    wrapped = inline_code("call `enqueue_in(delay,\n    job)` later")
    assert wrapped == Markup("call <code>enqueue_in(delay, job)</code> later")
    assert inline_code("``a `tick` b`` and <b>") == Markup("<code>a `tick` b</code> and &lt;b&gt;")
    assert inline_code("`<script>alert(1)</script>`") == Markup("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>")
    assert inline_code("one ` lone backtick") == Markup("one ` lone backtick")
    assert inline_code("`a\n\nb`") == Markup("`a\n\nb`")  # a blank line ends a span (CommonMark)


def test_stored_descriptions_keep_a_code_span_on_one_line() -> None:
    assert collapse_code_spans("pass `max_\n  retries=3` to it") == "pass `max_ retries=3` to it"
    assert collapse_code_spans("no spans\nhere") == "no spans\nhere"


def test_tool_page_puts_a_summary_first_and_folds_cards_after_the_first_few() -> None:
    tool = hostile_tool("https://example.com/")
    base = tool.capabilities[0]
    tool.capabilities = [base.model_copy(update={"id": i, "name": f"Cap {i}"}) for i in range(1, 8)]
    html = templates.get_template("tool.html").render(
        tool=tool, rank=rank(tool, MatchGraph([], [])), formula=FORMULA, similar=[], others=[], open_cards=4
    )
    glance = html.index('id="glance"')
    assert glance < html.index('id="rank-h"') < html.index('id="caps-h"')
    assert html.count('<li><a href="#cap-') == 7
    folded = html[html.index('<details class="more-caps"') :]
    assert "The other 3 capabilities" in folded and folded.count('<article class="capability') == 3


def test_an_unchanged_job_marks_the_steps_after_cleaning_skipped() -> None:
    job = job_at(1.0, JobStatus.DONE).model_copy(update={"outcome": JobOutcome.UNCHANGED})
    states = {step.key: state for step, state in step_states(job)}
    assert states["fetching"] == states["cleaning"] == "done"
    assert {states[k] for k in ("segmenting", "extracting", "embedding", "storing")} == {"skipped"}
    created = job.model_copy(update={"outcome": JobOutcome.CREATED})
    assert {state for _, state in step_states(created)} == {"done"}
