"""The league-table, cases-summary, scorecard and publication panels in a real headless
Chromium, on the reporting service alone (its HTTP app over a SQLite store filled with
the hand-computed fixtures of the unit tier): no broker is needed to read reports."""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.identity_support import token_issuer
import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))  # the fixtures live with the unit tests
from performance_support import S2, T1, T2, Timeline, cases_2025, march_2025, project  # noqa: E402

from services.reporting.adapters.read_models import ReadModelStore  # noqa: E402
from services.reporting.bootstrap import bootstrap  # noqa: E402
from services.reporting.settings import ReportingSettings  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture
def reporting_url(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed: apt-get install chromium fonts-wqy-zenhei")
    store_url = f"sqlite:///{tmp_path / 'reporting.db'}"
    timeline = cases_2025(march_2025())
    timeline.births(T2, "2025-05-01", "M", 36).births(T2, "2025-05-02", "F", 24)
    read_models = ReadModelStore(store_url)
    asyncio.run(project(read_models, timeline.messages))
    read_models.close()
    service = bootstrap(ReportingSettings(nats_url="nats://127.0.0.1:1", store_url=store_url))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(service.http, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "reporting did not start"
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)
    for close in service.closers:
        close()


def test_the_panels_show_the_notice_the_scorecard_with_vetoes_in_red_and_a_correction(reporting_url, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(viewport={"width": 1400, "height": 2400})
        # Logged in as the statistician (the login itself is tested in test_dashboard.py, on the platform's provider).
        token = token_issuer().token("TJ-001", ["statistician"], ["统计科"])
        context.add_cookies([{"name": "fpb_session", "value": token, "url": reporting_url},
                             {"name": "fpb_csrf", "value": "csrf-of-this-login", "url": reporting_url}])
        page = context.new_page()
        page.goto(reporting_url + "/dashboard")
        page.wait_for_selector("body[data-performance-ready=true]", timeout=30_000)
        page.fill("#league-from", "2025-03-01")
        page.fill("#league-to", "2025-03-31")
        page.click("#league-go")
        page.wait_for_selector("#league-table tr:has-text('槐阳镇')")
        assert "66.7" in page.locator("#league-table tr", has_text="槐阳镇").inner_text()

        page.fill("#scorecard-year", "2025")
        page.click("#scorecard-go")
        page.wait_for_selector("#scorecard-table tr.veto")
        vetoed = page.locator("#scorecard-table tr.veto")
        # 北褚乡: a petition answered late; 黑水坊乡: a substantiated two-illegals case and its sex ratio.
        assert vetoed.count() == 2 and "北褚乡" in vetoed.first.inner_text() and "黑水坊乡" in vetoed.last.inner_text()
        assert page.locator("#cases-summary table").count() == 4

        page.select_option("#publish-report", "league-tables")
        page.fill("#publish-from", "2025-03-01")
        page.fill("#publish-to", "2025-03-31")
        page.click("#publish-go")
        page.wait_for_selector("#publication-caption:has-text('校验通过')")
        assert page.locator("#publications-table tr.clickable").count() == 1
        page.screenshot(path=str(tmp_path / "performance.png"), full_page=True)
        browser.close()

    # A rating given in March arrives late: the publication shows it as a correction.
    read_models = ReadModelStore(f"sqlite:///{tmp_path / 'reporting.db'}")
    asyncio.run(project(read_models, Timeline().rating("A3", T1, S2, "2025-03-28", 5).messages, first_sequence=10_000))
    read_models.close()
    statistician = token_issuer().headers("TJ-001", ["statistician"], ["统计科"])
    publication = httpx.get(reporting_url + "/reports/publications", headers=statistician).json()["rows"][0]
    assert publication["officer"] == "TJ-001", "the publisher is who was logged in"
    shown = httpx.get(f"{reporting_url}/reports/publications/{publication['publication_id']}", headers=statistician).json()
    assert shown["corrected"] and any(d["row"] == "槐阳镇" and d["column"] == "satisfaction_mean" for d in shown["differences"])
