"""The dashboard in a real headless Chromium (Debian's `chromium`): Chinese labels that
really render, a figure followed to its records, and a record followed to its history."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from cli.demo.records import generate_demo_records
from cli.platform import Platform
from cli.publishing import Outgoing, publish_records
from tests.identity_support import platform_accounts, platform_officers

def open_logged_in(browser, platform, path: str, username: str = "sj-auditor", **page_options):
    """A page of the dashboard, after logging in as a staff member does: the dashboard sends
    the browser to the platform's own login form, and back."""
    password = {a["username"]: a["password"] for a in json.loads(platform_accounts(platform).read_text())}[username]
    page = browser.new_page(**page_options)
    page.goto(platform.services["reporting"].url + path)
    page.wait_for_selector("input[name=username]", timeout=30_000)
    assert page.url.startswith(platform.oidc_issuer), "the login form is the platform's own provider's"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(platform.services["reporting"].url + path + "*", timeout=30_000)
    return page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    if CHROMIUM is None:
        if os.environ.get("FPB_REQUIRE_DEPLOY_TOOLS"):
            pytest.fail("chromium is not installed (apt-get install chromium fonts-wqy-zenhei)")
        pytest.skip("chromium is not installed: apt-get install chromium fonts-wqy-zenhei")
    running = Platform(tmp_path_factory.mktemp("dashboard"))
    running.start()
    records = [
        Outgoing(subject, envelope["record_id"], json.dumps(envelope, ensure_ascii=False).encode())
        for subject, envelope in generate_demo_records(seed=11, year=2025, births=120)
    ]
    results = asyncio.run(publish_records(running.nats_url, records, receipt_timeout=60, credentials=running.credentials))
    accepted = sum(1 for r in results if r.receipt and r.receipt["accepted"])
    reporting = running.services["reporting"].url
    deadline = time.monotonic() + 60
    while httpx.get(f"{reporting}/reports/totals", auth=platform_officers(running, "sj-auditor")).json()["accepted"] < accepted:
        assert time.monotonic() < deadline, "the demo records did not reach reporting"
        time.sleep(0.2)
    yield running
    running.stop()


def test_the_dashboard_follows_a_figure_to_its_records_and_a_record_to_its_history(platform, tmp_path):
    from playwright.sync_api import sync_playwright

    url = platform.services["reporting"].url + "/dashboard"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = open_logged_in(browser, platform, "/dashboard", viewport={"width": 1280, "height": 1600})
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert page.title() == "元氏县人口和计划生育局 · 数据看板"
        assert page.locator("#sex-ratio-table tr").count() == 1 + 15  # a heading row, then every township
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

        # A figure to the records behind it: 黑水坊乡's births.
        page.locator("#sex-ratio-table tr", has_text="黑水坊乡").click()
        page.wait_for_selector("#drill-table tr.clickable")
        assert "黑水坊乡" in page.locator("#drill-caption").inner_text()
        records = page.locator("#drill-table tr.clickable")
        assert records.count() > 0 and "police.birth.registered" in records.first.inner_text()

        # A record to its history (from intake, through reporting's audit view).
        records.first.click()
        page.wait_for_selector("#history h3")
        assert "intake" in page.locator("#history h3").first.inner_text()
        assert "Submission.Accepted" in page.locator("#history").inner_text()
        assert "[encrypted]" in page.locator("#history").inner_text()  # personal data stays closed
        browser.close()
    # Everything the page loaded came from the reporting service itself: no CDN.
    assert requests and all(request.startswith(platform.services["reporting"].url) for request in requests)


def test_chinese_text_really_renders_and_is_not_tofu(platform, tmp_path):
    """With no CJK font every character draws as the same empty box: two different
    Chinese strings would then render identically."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = open_logged_in(browser, platform, "/dashboard")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        page.evaluate(
            """() => { for (const [id, text, top] of [["probe-a", "出生人口", 0], ["probe-b", "审计历史", 80]]) {
                 const span = document.createElement("span"); span.id = id; span.textContent = text;
                 span.style.cssText = `font-size:40px;position:fixed;top:${top}px;left:0;background:#fff;color:#000;z-index:9`;
                 document.body.appendChild(span); } }"""
        )
        first = page.locator("#probe-a").screenshot(path=str(tmp_path / "a.png"))
        second = page.locator("#probe-b").screenshot(path=str(tmp_path / "b.png"))
        browser.close()
    assert first != second, "different Chinese strings rendered identically: no CJK font (install fonts-wqy-zenhei)"
    blank = _blank_png_like(tmp_path)
    assert first != blank and second != blank


def test_the_subsidy_reconciliation_panel_lists_every_township_and_the_county(platform):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = open_logged_in(browser, platform, "/dashboard", viewport={"width": 1280, "height": 1600})
        page.wait_for_selector("body[data-subsidies-ready=true]", timeout=30_000)
        assert page.locator("#subsidies h2").inner_text() == "扶助资金对账（奖励扶助、特别扶助）"
        rows = page.locator("#subsidy-table tr")
        assert rows.count() == 1 + 15 + 1  # a heading row, every township, the county total
        assert "应发金额" in rows.first.inner_text() and "全县合计" in rows.last.inner_text()
        rows.last.click()  # the county's figure to the payments behind it
        page.wait_for_selector("#subsidy-caption:has-text('全县合计')")
        browser.close()


def test_the_dashboard_switches_to_english(platform):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = open_logged_in(browser, platform, "/dashboard?lang=en")
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
        assert page.locator("h1").inner_text() == "Yuanshi County Family Planning Bureau · Dashboard"
        browser.close()


def _blank_png_like(tmp_path: Path) -> bytes:
    """What an empty white box of the same kind screenshots as (nothing drawn at all)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.set_content('<span id="probe" style="font-size:40px;color:#fff;background:#fff">出生人口</span>')
        blank = page.locator("#probe").screenshot(path=str(tmp_path / "blank.png"))
        browser.close()
    return blank


def test_an_anonymous_browser_is_sent_to_the_login_and_a_login_not_started_here_is_refused(platform):
    from playwright.sync_api import sync_playwright

    reporting = platform.services["reporting"].url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(reporting + "/dashboard")
        page.wait_for_selector("input[name=username]", timeout=30_000)
        assert page.url.startswith(platform.oidc_issuer + "/authorize") and "code_challenge_method=S256" in page.url
        forged = page.goto(reporting + "/login/callback?code=stolen&state=guessed")
        assert forged.status == 400
        browser.close()


def test_logging_out_ends_the_session(platform):
    from playwright.sync_api import sync_playwright

    reporting = platform.services["reporting"].url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = open_logged_in(browser, platform, "/dashboard")
        assert page.request.get(reporting + "/reports/totals").status == 200
        page.click("#logout")
        page.wait_for_url(reporting + "/logout")
        assert page.request.get(reporting + "/reports/totals").status == 401
        browser.close()
