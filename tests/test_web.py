"""The pages in a real browser: Debian's Chromium driven by Playwright against a server started
here with the fixture catalog. Search → tool → compare → submit with live progress → graph, plus
pages without JavaScript, a narrow screen, and vendor markup rendered as text.

Screenshots of every page go to the test's tmp dir (or CAPMATCH_SCREENSHOTS when set)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings

from .conftest import PAGES, RunningServer, ingest_demo

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

if not CHROMIUM.exists():
    reason = "Debian's chromium is not installed: apt-get install -y chromium (make test does it when it can)"
    if os.environ.get("CAPMATCH_REQUIRE_BROWSER") == "1":
        raise RuntimeError(reason)  # CI installs it: a missing browser must fail there, not skip
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

# Tools the demo catalog holds, by kind (fixtures/demo.jsonl).
TASK_QUEUES = {"emberq", "pgtide", "relaywork"}


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("CAPMATCH_SCREENSHOTS")
    folder = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder, docs_server: str
) -> Iterator[str]:
    """The fixture catalog served on a real port; private URLs allowed so the docs server works."""
    settings = Settings(home=tmp_path_factory.mktemp("web-home"), allow_private_urls=True)
    core = Runtime(settings, embedder=embedder)
    ingest_demo(core)
    # A vendor page with a <script> in a feature line (plain text keeps it through cleaning).
    core.ingest(Source(path=PAGES / "quillpad.txt"))
    with RunningServer(settings) as server:
        yield server.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_search_tool_and_compare(page: Page, site: str, shots: Path) -> None:
    page.goto(site + "/")
    expect(page.get_by_role("heading", name="What do you need?")).to_be_visible()
    page.get_by_label("Describe what you need").fill("retry failed background jobs")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"\?q=retry"))
    hits = page.locator("ol.hits > li")
    expect(hits.first).to_be_visible()
    top = [h.split("/tools/")[1] for h in hits.locator("h3 a").evaluate_all("els => els.map(e => e.href)")][:3]
    assert top[0] in TASK_QUEUES and len(set(top) & TASK_QUEUES) >= 2, f"task queues answer a job-retry need: {top}"
    # Each hit shows the capabilities that matched, with their similarity and description.
    expect(hits.first.locator("ul.matched li").first).to_contain_text(re.compile(r"0\.\d\d"))
    page.screenshot(path=shots / "1-home-search.png", full_page=True)

    # Filters narrow the results and keep the query.
    page.select_option("#type", "Model")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"type=Model"))
    expect(page.get_by_label("Describe what you need")).to_have_value("retry failed background jobs")
    expect(page.locator("#type")).to_have_value("Model")
    filtered = page.locator("ol.hits > li")
    assert filtered.count() >= 1, "the demo catalog has models"
    assert filtered.count() == filtered.locator(".badge.type-model").count()

    # A tool page: header, rank with sub-scores, capabilities with evidence, similar tools.
    page.goto(site + f"/tools/{top[0]}")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("section.rank table tbody tr")).to_have_count(4)
    caps = page.locator("article.capability")
    assert caps.count() >= 3
    first = caps.first
    evidence = first.locator("details.evidence")
    expect(evidence.locator("blockquote").first).to_be_hidden()
    evidence.locator("summary").click()
    expect(evidence.locator("blockquote").first).to_be_visible()
    source_link = evidence.get_by_role("link", name="in the stored snapshot").first
    assert source_link.get_attribute("href") == f"/api/tools/{top[0]}/source"
    similar = page.locator("section[aria-labelledby=similar-h] li.card")
    assert similar.count() >= 2
    page.screenshot(path=shots / "2-tool.png", full_page=True)

    # "Compare with…" leads to a shareable compare URL.
    other = sorted(TASK_QUEUES - {top[0]})[0]
    page.select_option("#b", other)
    page.get_by_role("button", name="Compare").last.click()
    page.wait_for_url(f"{site}/compare/{top[0]}/{other}")
    check_compare_page(page, top[0], other)
    page.screenshot(path=shots / "3-compare.png", full_page=True)

    # The downloads are the API's Markdown and JSON for the same pair.
    markdown = page.request.get(
        site + (page.get_by_role("link", name="Markdown", exact=True).get_attribute("href") or "")
    )
    assert markdown.ok and markdown.headers["content-type"].startswith("text/markdown")
    assert markdown.text().startswith("# ")
    as_json = page.request.get(
        site + (page.get_by_role("link", name="JSON", exact=True).get_attribute("href") or "")
    ).json()
    assert {as_json["a"]["id"], as_json["b"]["id"]} == {top[0], other}


def check_compare_page(page: Page, a: str, b: str) -> None:
    features = [t.strip() for t in page.locator("table.features tbody th").all_inner_texts()]
    for row in ("Type", "Rank", "Adoption", "Quality", "Ecosystem", "Match Graph", "Pricing", "Starting price"):
        assert row in features, f"the feature table lacks {row}: {features}"
    assert "Capabilities" in features and "Times matched" in features
    expect(page.locator("#verdict p.verdict")).not_to_be_empty()
    pairs = page.locator("table.pairs tbody tr")
    assert pairs.count() >= 1, "two task queues share at least one capability"
    expect(pairs.first.locator("meter")).to_have_count(1)
    expect(page.locator("#only-a h3")).to_be_visible()
    expect(page.locator("#only-b h3")).to_be_visible()
    sides = page.locator("#capabilities .side")
    expect(sides).to_have_count(2)
    assert sides.nth(0).locator("article.capability").count() >= 3
    assert sides.nth(1).locator("article.capability").count() >= 3
    # Alignment entries link to the capability cards further down.
    target = pairs.first.locator("a").first.get_attribute("href") or ""
    expect(page.locator(target)).to_have_count(1)
    expect(page.locator("#similar li a").first).to_be_visible()


def test_compare_collapses_long_sides_and_ends_with_the_graph_link(page: Page, site: str) -> None:
    """Each side shows its first capabilities; "+N more capabilities" opens the rest in one click; the
    Markdown export lists them all; the page ends with a link to search the match graph."""
    a, b = "emberq", "pgtide"
    totals = [len(page.request.get(f"{site}/api/tools/{t}").json()["capabilities"]) for t in (a, b)]
    assert max(totals) > 5, f"the demo task queues have more than five capabilities: {totals}"
    page.goto(f"{site}/compare/{a}/{b}")
    sides = page.locator("#capabilities .side")
    for i, total in enumerate(totals):
        side = sides.nth(i)
        assert side.locator("article.capability").count() == total, "every capability is on the page"
        shown = side.locator(":scope > article.capability")
        assert shown.count() == min(total, 5)
        more = side.locator("details.more-capabilities")
        if total <= 5:
            expect(more).to_have_count(0)
            continue
        expect(more.locator(":scope > summary")).to_have_text(f"+{total - 5} more capabilities")
        hidden = more.locator("article.capability")
        expect(hidden.first).to_be_hidden()
        more.locator(":scope > summary").click()
        expect(hidden.last).to_be_visible()
    markdown = page.request.get(f"{site}/api/compare/{a}/{b}?format=markdown").text()
    assert markdown.count("\n### ") == sum(totals), "the Markdown export lists every capability"
    link = page.get_by_role("link", name="Search the match graph →")
    expect(link).to_be_visible()
    # The last thing on the page, as in the reference.
    assert page.locator("article.compare > section").last.get_attribute("id") == "search-graph"
    link.click()
    page.wait_for_url(re.compile(rf"/graph\?tool={a}$"))
    expect(page.locator(f'#graph a.node[data-id="{a}"]')).to_have_count(1)


def test_submit_shows_live_progress_then_the_new_tool_is_on_the_graph(
    page: Page, site: str, docs_server: str, shots: Path
) -> None:
    page.goto(site + "/submit")
    page.get_by_label("Page address").fill(f"{docs_server}/slow-pages/hostile.html")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f-]+$"))
    # Rendered while the page is still being fetched (the server takes 1.5 s to answer).
    assert page.locator("#job").get_attribute("data-status") in ("queued", "running")
    page.evaluate("window.__sameDocument = true")
    page.screenshot(path=shots / "4-job-running.png", full_page=True)
    expect(page.locator("#job-done")).to_be_visible(timeout=90_000)
    # Updated in place by the page script, not by reloading.
    assert page.evaluate("window.__sameDocument") is True
    assert page.locator("#job-status").inner_text() == "done"
    states = page.locator("#stages .stage .state").all_inner_texts()
    assert states and all(s == "done" for s in states), states
    page.screenshot(path=shots / "5-job-done.png", full_page=True)

    page.locator("#job-tool").click()
    page.wait_for_url(re.compile(r"/tools/[a-z0-9-]+$"))
    new_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("article.capability").first).to_be_visible()
    # The page's own scripts were dropped when it was cleaned: none redirected this one.
    assert page.url.startswith(site)

    page.goto(site + "/graph")
    node = page.locator(f'#graph a.node[data-id="{new_id}"]')
    expect(node).to_have_count(1)
    assert page.locator("#graph line").count() >= 5
    page.screenshot(path=shots / "6-graph.png", full_page=True)
    # Searching the graph centres the tool and its neighbourhood; nodes are links to tool pages.
    page.get_by_label("Centre on").fill("pgtide")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/graph\?tool=pgtide"))
    expect(page.locator('#graph a.node.centre[data-id="pgtide"]')).to_have_count(1)
    assert page.locator("#graph a.node").count() < page.locator("#tool-names option").count()
    page.locator('#graph a.node[data-id="pgtide"]').hover()
    assert "focused" in (page.locator("#graph").get_attribute("class") or "")
    page.screenshot(path=shots / "7-graph-centred.png", full_page=True)
    page.locator('#graph a.node[data-id="pgtide"]').click()
    page.wait_for_url(f"{site}/tools/pgtide")


def test_a_failed_job_says_why(page: Page, site: str, docs_server: str, shots: Path) -> None:
    page.goto(site + "/submit")
    page.get_by_label("Page address").fill(f"{docs_server}/status/404")
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url(re.compile(r"/jobs/"))
    expect(page.locator("#job-failed")).to_be_visible(timeout=60_000)
    expect(page.locator("#job-error")).to_contain_text("404")
    expect(page.locator("#stages .stage.failed")).to_have_count(1)
    page.screenshot(path=shots / "8-job-failed.png", full_page=True)


def test_the_submit_form_refuses_bad_input_and_keeps_what_was_typed(page: Page, site: str) -> None:
    page.goto(site + "/submit")
    page.get_by_label("Page address").fill("ftp://example.com/tool")  # a valid URL to the browser
    page.get_by_label("Name").fill("Kept <b>name</b>")
    response_status = []
    page.on("response", lambda r: response_status.append(r.status) if r.url.endswith("/submit") else None)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("alert")).to_contain_text("http:// or https://")
    assert 422 in response_status
    expect(page.get_by_label("Page address")).to_have_value("ftp://example.com/tool")
    expect(page.get_by_label("Name")).to_have_value("Kept <b>name</b>")


def test_pages_read_without_javascript(browser: Browser, site: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site + "/?q=flag+hate+speech+in+images")
    expect(page.locator("ol.hits > li").first).to_be_visible()
    page.goto(site + "/compare/emberq/pgtide")
    check_compare_page(page, "emberq", "pgtide")
    page.goto(site + "/graph")
    assert page.locator("#graph a.node").count() >= 15
    page.goto(site + "/tools/nope")
    expect(page.get_by_role("alert")).to_contain_text("nope")
    context.close()


def test_narrow_screen_has_no_sideways_scrolling(browser: Browser, site: str, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    for path, name in (
        ("/", "home"),
        ("/tools/wardline-guard", "tool"),
        ("/compare/wardline-guard/clearsignal", "compare"),
        ("/graph", "graph"),
        ("/submit", "submit"),
    ):
        page.goto(site + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{path} is {width}px wide on a 360px screen"
        page.screenshot(path=shots / f"9-narrow-{name}.png", full_page=True)
    context.close()


def test_pages_are_html_and_api_errors_stay_json(site: str, docs_server: str) -> None:
    with httpx.Client(base_url=site) as client:
        page = client.get("/tools/nope")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        bad = client.get("/graph?depth=9")
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
        assert "depth" in bad.text
        # An API client that happens to accept HTML still gets JSON errors.
        api = client.get("/api/tools/nope", headers={"Accept": "text/html"})
        assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
        assert client.get("/api/search?q=x&k=0", headers={"Accept": "text/html"}).json()["error"]["code"]
        assert api.headers["x-content-type-options"] == "nosniff"
        # "Compare with…" takes names; a name that fits no single tool says so.
        picked = client.get("/compare?a=EmberQ&b=pgtide")
        assert picked.status_code == 303 and picked.headers["location"] == "/compare/emberq/pgtide"
        vague = client.get("/compare?a=e&b=pgtide")
        assert vague.status_code == 404 and "No single tool" in vague.text
        # Without JavaScript an open job's page refreshes itself.
        job = client.post("/api/tools", json={"url": f"{docs_server}/slow-pages/tiny.md"}).json()
        html = client.get(f"/jobs/{job['job_id']}").text
        assert '<noscript><meta http-equiv="refresh"' in html and "job.js" in html
        assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
        # Nothing is loaded from outside the server (links to vendor pages are fine).
        for path in ("/", "/tools/pgtide", "/compare/emberq/pgtide", "/graph", "/submit"):
            html = client.get(path).text
            assert not re.search(r"""src=["']?(https?:)?//""", html), path
            assert not re.search(r"""<link[^>]+href=["']?(https?:)?//""", html), path


def test_vendor_markup_is_text_in_every_view(page: Page, site: str) -> None:
    """quillpad.txt has `<script>window.__capmatch_pwned = 1</script>` in a feature line."""
    needle = "<script>window.__capmatch_pwned = 1</script>"
    for path in ("/tools/quillpad", "/?q=show+markup+inside+notes+as+visible+text", "/compare/quillpad/pliant"):
        page.goto(site + path)
        expect(page.get_by_text(needle).first).to_be_visible()
        assert page.evaluate("typeof window.__capmatch_pwned") == "undefined", path
        assert page.locator("main script").count() == 0, path
    html = httpx.get(site + "/tools/quillpad").text
    assert "&lt;script&gt;window.__capmatch_pwned" in html and needle not in html


def test_the_api_docs_render_with_every_other_host_blocked(site: str, page: Page) -> None:
    """/docs must work offline: its Swagger UI assets come from this server, not a CDN."""
    from urllib.parse import urlsplit

    elsewhere: list[str] = []

    def only_loopback(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlsplit(url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()  # type: ignore[attr-defined]
        else:
            elsewhere.append(url)
            route.abort()  # type: ignore[attr-defined]

    page.route("**/*", only_loopback)
    page.goto(f"{site}/docs")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible(timeout=20_000)
    assert operations.count() >= 10, "every endpoint is listed"
    expect(page.get_by_text("/api/tools/{tool_id}/similar").first).to_be_visible()
    assert elsewhere == [], f"/docs asked other hosts for {elsewhere}"
