"""Browser login for the pages a service serves (the dashboard): OpenID Connect
authorization code with PKCE (S256), the code exchanged by the service itself, so no
token ever reaches the page's scripts.

- GET /login?next=/dashboard: a fresh state and PKCE verifier go into a short-lived
  HttpOnly cookie; the browser goes to the issuer's login form.
- GET /login/callback: the state must match the cookie's (a login started elsewhere is
  refused); the service exchanges the code with the verifier and keeps the access token
  in an HttpOnly, SameSite=Strict session cookie for its lifetime.
- GET /logout: the session cookie is cleared.

The session cookie authenticates reads (GET, HEAD), and changes only with the CSRF token
of the login echoed in X-CSRF-Token (shared/identity/access.py), so a page on another site
cannot make the browser change anything with it; every request still passes the same
policy table as a bearer token. When the session expires
the page's next read answers 401 and the page sends the browser to /login again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

SESSION_COOKIE = "fpb_session"
CSRF_COOKIE = "fpb_csrf"  # readable by the page, which echoes it in X-CSRF-Token on a change
CSRF_HEADER = "x-csrf-token"
LOGIN_COOKIE = "fpb_login"
LOGIN_SECONDS = 600  # a login left on the form longer than this starts again


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def safe_next(target: str | None) -> str:
    """Only a path of this service: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def add_browser_login(http: FastAPI, issuer: str | None, client_id: str) -> None:
    endpoints: dict[str, Any] = {}

    async def discovered() -> dict[str, Any]:
        if not endpoints:
            async with httpx.AsyncClient(timeout=5) as client:
                endpoints.update((await client.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")).json())
        return endpoints

    def callback_uri(request: Request) -> str:
        return str(request.url_for("login_callback"))

    @http.get("/login", include_in_schema=False)
    async def login(request: Request, next: str | None = Query(None, max_length=500)) -> Response:  # noqa: A002 - the usual name
        if not issuer:
            return problem_page(503, "本服务未配置登录 / this service has no token issuer configured (FPB_OIDC_ISSUER)")
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        query = {"response_type": "code", "client_id": client_id, "redirect_uri": callback_uri(request), "scope": "openid profile",
                 "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
        response = RedirectResponse(f"{(await discovered())['authorization_endpoint']}?{urlencode(query)}", status_code=303)
        started = json.dumps({"state": state, "verifier": verifier, "next": safe_next(next)})
        # Lax: the issuer's redirect back is a top-level navigation, which Strict would leave cookieless.
        response.set_cookie(LOGIN_COOKIE, started, max_age=LOGIN_SECONDS, httponly=True, samesite="lax", path="/login")
        return response

    @http.get("/login/callback", include_in_schema=False, name="login_callback")
    async def callback(request: Request, code: str | None = Query(None, max_length=512), state: str | None = Query(None, max_length=256),
                       error: str | None = Query(None, max_length=200)) -> Response:
        try:
            started = json.loads(request.cookies.get(LOGIN_COOKIE, ""))
        except ValueError:
            started = None
        if error:
            return problem_page(401, f"登录未完成 / the login did not finish: {error}")
        if not isinstance(started, dict) or not state or not secrets.compare_digest(str(started.get("state")), state) or not code:
            return problem_page(400, "登录请求无效或已过期，请重新登录 / this login was not started here or has expired; log in again")
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.post((await discovered())["token_endpoint"], data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": callback_uri(request), "client_id": client_id,
                "code_verifier": started["verifier"]})
        if answer.status_code != 200:
            return problem_page(401, f"登录失败 / the issuer refused the login: {answer.json().get('error_description', answer.status_code)}")
        tokens = answer.json()
        response = RedirectResponse(safe_next(started.get("next")), status_code=303)
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        lifetime, secure = int(tokens.get("expires_in", 900)), request.url.scheme == "https"
        response.set_cookie(SESSION_COOKIE, tokens["access_token"], max_age=lifetime, httponly=True, samesite="strict", path="/", secure=secure)
        response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), max_age=lifetime, httponly=False, samesite="strict", path="/", secure=secure)
        return response

    @http.get("/logout", include_in_schema=False)
    async def logout() -> Response:
        response = HTMLResponse(PAGE.format(title="已退出 Logged out", message="已退出登录。 You are logged out.", link="/login?next=/dashboard",
                                            action="重新登录 Log in again"))
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response


PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 4em auto"><h1>{title}</h1><p>{message}</p>
<p><a href="{link}">{action}</a></p></body></html>"""


def problem_page(status: int, message: str) -> Response:
    return HTMLResponse(PAGE.format(title="登录 Login", message=message, link="/login?next=/dashboard", action="重新登录 Log in again"),
                        status_code=status)


def cookies_of(cookie_header: str) -> dict[str, str]:
    found = {}
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name and value:
            found[name] = value.strip('"')
    return found


def session_token(cookie_header: str, method: str = "GET", csrf_header: str | None = None) -> str | None:
    """The session cookie's token from a Cookie header: for a read as it is; for a change
    only beside a matching CSRF token (double submit: another site can neither read this
    site's cookie nor send a custom header without the browser asking this site first)."""
    cookies = cookies_of(cookie_header)
    token = cookies.get(SESSION_COOKIE)
    if token is None or method in ("GET", "HEAD"):
        return token
    expected = cookies.get(CSRF_COOKIE)
    if expected and csrf_header and secrets.compare_digest(expected, csrf_header):
        return token
    return None

