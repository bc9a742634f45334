"""The tool page in a real browser (Debian's Chromium): the summary (type, rank, pricing, capability
names, most similar tools with "compare with" links) is in the first screen, the capability cards
after the first few are folded, and Markdown code spans show as code, never as raw backticks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from capmatch.embeddings.model import SentenceTransformerEmbedder
from capmatch.pipeline.ingest import Source
from capmatch.runtime import Runtime
from capmatch.settings import Settings
from capmatch.web.pages import OPEN_CAPABILITY_CARDS

from .conftest import FIXTURES, RunningServer

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    reason = "Debian's chromium is not installed: apt-get install -y chromium (make test does it when it can)"
    if os.environ.get("CAPMATCH_REQUIRE_BROWSER") == "1":
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Iterator[str]:
    settings = Settings(home=tmp_path_factory.mktemp("tool-page"))
    core = Runtime(settings, embedder=embedder)
    for name in ("emberq.md", "pgtide.html", "relaywork.md", "fetchwire.md"):
        core.ingest(Source(path=FIXTURES / "docs" / name))
    with RunningServer(settings) as server:
        yield server.url


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def test_the_summary_and_similar_tools_are_in_the_first_screen(page: Page, site: str) -> None:
    page.goto(site + "/tools/emberq")
    glance = page.locator("#glance")
    expect(glance).to_contain_text("Library")
    expect(glance).to_contain_text("Free")
    expect(glance).to_contain_text("rank ")
    total = page.locator("article.capability").count()
    assert total > OPEN_CAPABILITY_CARDS, "EmberQ has more capabilities than are shown open"
    expect(glance.locator(".glance-facts")).to_contain_text(f"{total} capabilities")
    expect(glance.locator("ol.cap-index li")).to_have_count(total)
    compare = glance.get_by_role("link", name="compare with PgTide")
    expect(compare).to_be_visible()
    box = compare.bounding_box()
    assert box is not None and box["y"] + box["height"] < 900, f"'compare with' is below the first screen: {box}"
    assert compare.get_attribute("href") == "/compare/emberq/pgtide"


def test_cards_after_the_first_few_are_folded_and_open_from_the_index(page: Page, site: str) -> None:
    page.goto(site + "/tools/emberq")
    cards = page.locator("article.capability")
    expect(cards.nth(OPEN_CAPABILITY_CARDS - 1)).to_be_visible()
    expect(cards.nth(OPEN_CAPABILITY_CARDS)).to_be_hidden()
    expect(page.locator("details.more-caps > summary")).to_have_text(
        f"The other {cards.count() - OPEN_CAPABILITY_CARDS} capabilities"
    )
    # A folded capability's name in the summary leads to its card: the browser opens the <details>.
    page.locator("ol.cap-index a").nth(OPEN_CAPABILITY_CARDS).click()
    expect(cards.nth(OPEN_CAPABILITY_CARDS)).to_be_in_viewport()


def test_code_spans_show_as_code(page: Page, site: str) -> None:
    page.goto(site + "/tools/emberq")
    code = page.locator("article.capability p code", has_text="retries=5")
    expect(code.first).to_be_attached()
    text = page.locator("main").inner_text()
    assert "`" not in text, "a raw backtick is shown on the page"
