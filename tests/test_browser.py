"""The example project's HTML report in a real browser: headless Chromium (Debian's
`chromium`, driven by Playwright without its own browser download) at desktop and phone
widths, with JS on and off. Fails on any console error, page error or network request,
and on any test of the JSON report missing from the rendered page."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pytest_voicetest.report.html import write_html

from .test_html_report import run_example

CHROMIUM = next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None)
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed: apt-get install -y chromium (the browser test needs a real browser)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install playwright (it drives the system Chromium)"
    )
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    folder = tmp_path_factory.mktemp("browser")
    report = run_example(folder)
    return report, write_html(report, folder / "report.html")


class Problems:
    """Console errors, uncaught exceptions and any request that leaves the file."""

    def __init__(self, page: Any) -> None:
        self.found: list[str] = []
        page.on(
            "console", lambda message: self.found.append(f"console {message.type}: {message.text}") if message.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda error: self.found.append(f"page error: {error}"))
        page.on("request", lambda request: None if request.url.startswith("file:") else self.found.append(f"request: {request.url}"))


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_every_test_renders_without_console_errors(browser: Any, example: tuple[dict[str, Any], Path], width: str, tmp_path: Path) -> None:
    report, html = example
    page = browser.new_page(viewport=VIEWPORTS[width])
    problems = Problems(page)
    page.goto(html.as_uri())
    page.screenshot(path=str(tmp_path / f"{width}.png"))
    page.screenshot(path=str(tmp_path / f"{width}-full.png"), full_page=True)
    rendered = page.eval_on_selector_all("article.test", "all => all.filter(a => a.getBoundingClientRect().height > 0).map(a => a.dataset.nodeid)")
    assert sorted(rendered) == sorted(r["nodeid"] for r in report["results"])
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"], "the page scrolls sideways"
    assert page.evaluate("[...document.querySelectorAll('svg.vt-graph use')].every(u => u.getBBox().width > 100)"), "a path drawing lost its graph"
    assert (tmp_path / f"{width}.png").stat().st_size > 10_000
    assert problems.found == []
    page.close()


def test_filters_search_and_folding_work(browser: Any, example: tuple[dict[str, Any], Path]) -> None:
    report, html = example
    page = browser.new_page(viewport=VIEWPORTS["desktop"])
    problems = Problems(page)
    page.goto(html.as_uri())
    visible = "() => [...document.querySelectorAll('article.test')].filter(a => !a.hidden).map(a => a.dataset.nodeid)"
    total = len(report["results"])
    skipped = [r["nodeid"] for r in report["results"] if r["status"] == "skipped"]
    assert skipped and page.locator("#shown").inner_text() == f"{total} of {total} tests shown"
    assert page.evaluate("[...document.querySelectorAll('article.test > details')].every(d => !d.open)"), "passing and skipped tests start folded"
    page.locator("#controls input[value=skipped]").uncheck()
    assert sorted(page.evaluate(visible)) == sorted(r["nodeid"] for r in report["results"] if r["status"] != "skipped")
    page.locator("#search").fill("HOURS")
    wanted = sorted(r["nodeid"] for r in report["results"] if r["status"] != "skipped" and "hours" in r["nodeid"].lower())
    assert wanted and sorted(page.evaluate(visible)) == wanted
    assert page.locator("#shown").inner_text() == f"{len(wanted)} of {total} tests shown"
    assert page.evaluate("[...document.querySelectorAll('section.file-group')].filter(s => !s.hidden).length") == len(
        {n.split("::")[0] for n in wanted}
    )
    page.locator("#expand").click()
    assert page.evaluate("[...document.querySelectorAll('article.test:not([hidden]) > details')].every(d => d.open)")
    page.locator("#collapse").click()
    page.goto(html.as_uri() + "#" + page.locator("article.test[data-status=pass]").last.get_attribute("id"))
    assert page.evaluate("document.querySelector(location.hash + ' > details').open"), "a linked test opens"
    assert problems.found == []
    page.close()


def test_with_js_off_every_test_is_shown_expanded(browser: Any, example: tuple[dict[str, Any], Path]) -> None:
    report, html = example
    context = browser.new_context(java_script_enabled=False, viewport=VIEWPORTS["phone"])
    page = context.new_page()
    page.goto(html.as_uri())
    assert page.evaluate("document.querySelectorAll('details:not([open])').length") == 0
    assert not page.locator("#controls").is_visible()
    texts = dict(page.eval_on_selector_all("article.test", "all => all.map(a => [a.dataset.nodeid, a.innerText])"))
    assert sorted(texts) == sorted(r["nodeid"] for r in report["results"])
    assert all(nodeid in text for nodeid, text in texts.items()), "a test's id is not visible"
    context.close()
