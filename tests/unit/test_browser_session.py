"""The browser login's session cookie (shared/identity/browser.py): it reads as the
logged-in user, changes only beside the login's CSRF token, and the login's `next`
never leads off the service."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.identity.access import install_access
from shared.identity.browser import CSRF_COOKIE, SESSION_COOKIE, safe_next
from shared.identity.policy import POLICY_FILE, parse_policy
from tests.identity_support import token_issuer


@pytest.fixture
def app():
    table = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    table["routes"]["reporting"]["POST /reports/publications"] = {"right": "reports.publish"}
    http = FastAPI()
    install_access(http, "reporting", parse_policy(table), token_issuer().verifier())
    published = []

    @http.get("/reports/totals")
    async def totals() -> dict[str, int]:
        return {"accepted": 3}

    @http.post("/reports/publications")
    async def publish() -> dict[str, int]:
        published.append(1)
        return {"published": len(published)}

    client = TestClient(http)
    client.cookies.set(SESSION_COOKIE, token_issuer().token("TJ-001", ["statistician"], ["统计科"]))
    client.cookies.set(CSRF_COOKIE, "the-logins-own")
    return client, published


def test_the_session_cookie_reads_as_the_logged_in_user(app):
    client, _ = app
    assert client.get("/reports/totals").json() == {"accepted": 3}


def test_a_change_with_the_session_cookie_needs_the_logins_csrf_token(app):
    client, published = app
    assert client.post("/reports/publications").status_code == 401, "a cross-site form post carries the cookie, not the token"
    assert client.post("/reports/publications", headers={"X-CSRF-Token": "guessed"}).status_code == 401
    assert published == []
    assert client.post("/reports/publications", headers={"X-CSRF-Token": "the-logins-own"}).json() == {"published": 1}


def test_an_expired_or_forged_session_is_401(app):
    client, _ = app
    client.cookies.set(SESSION_COOKIE, token_issuer().token("TJ-001", ["statistician"], lifetime=-3600))
    assert client.get("/reports/totals").status_code == 401
    client.cookies.set(SESSION_COOKIE, "forged")
    assert client.get("/reports/totals").status_code == 401


@pytest.mark.parametrize(("asked", "went"), [
    ("/dashboard?lang=en", "/dashboard?lang=en"), ("//evil.example/x", "/"), ("https://evil.example", "/"), ("/\\evil.example", "/"),
    (None, "/"),
])
def test_the_login_returns_only_to_a_path_of_this_service(asked, went):
    assert safe_next(asked) == went
