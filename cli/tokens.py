"""Access tokens of demo accounts through the real login flow (`fpb token`, demo drivers).

The flow is the one a browser takes, as the public client `fpb-cli`: GET /authorize,
POST the login form with PKCE (S256), read the code from the redirect's Location header
(never followed: nothing listens on http://127.0.0.1/callback), POST /token.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Annotated, Any, Optional
from urllib.parse import parse_qs, urlsplit

import httpx
import typer

CLI_CLIENT = "fpb-cli"
CLI_REDIRECT = "http://127.0.0.1/callback"
DEMO_ACCOUNTS_FILE = "demo-accounts.json"
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


class LoginFailed(Exception):
    pass


class NoDemoAccount(LookupError):
    """No demo account matches; `option` names the option that could not be matched."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def password_login(http: httpx.Client, issuer: str, username: str, password: str, scope: str = "openid profile") -> dict[str, Any]:
    """The token response (access_token, refresh_token, id_token, expires_in) for one account."""
    base = issuer.rstrip("/")
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    params = {"response_type": "code", "client_id": CLI_CLIENT, "redirect_uri": CLI_REDIRECT, "scope": scope,
              "state": state, "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256"}
    form = http.get(f"{base}/authorize", params=params)
    if form.status_code != 200:
        raise LoginFailed(f"GET /authorize answered {form.status_code}: {_page_error(form.text)}")
    answer = http.post(f"{base}/authorize", data={**params, "username": username, "password": password}, follow_redirects=False)
    if answer.status_code != 302:
        raise LoginFailed(f"{username}: {_page_error(answer.text)}")
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    if query.get("state") != [state] or "code" not in query:
        raise LoginFailed(f"{username}: unexpected redirect {query.get('error', ['no code'])[0]}")
    token = http.post(f"{base}/token", data={"grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": CLI_REDIRECT,
                                              "client_id": CLI_CLIENT, "code_verifier": verifier})
    if token.status_code != 200:
        raise LoginFailed(f"{username}: /token answered {token.status_code} {token.text}")
    return token.json()


def refresh(http: httpx.Client, issuer: str, refresh_token: str) -> dict[str, Any]:
    response = http.post(f"{issuer.rstrip('/')}/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": CLI_CLIENT})
    if response.status_code != 200:
        raise LoginFailed(f"refresh refused: {response.status_code} {response.text}")
    return response.json()


def _page_error(text: str) -> str:
    found = _ERROR.search(text)
    return html.unescape(found.group(1)) if found else text[:200]


def demo_accounts(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / DEMO_ACCOUNTS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoDemoAccount("--data-dir", f"{path} not found: start the platform with `fpb up --demo --data-dir {data_dir}`") from None


def pick_account(accounts: list[dict[str, Any]], role: str | None, section: str | None = None, township: str | None = None,
                 agency: str | None = None, username: str | None = None) -> dict[str, Any]:
    """The first demo account matching every criterion given; NoDemoAccount names the
    first option that narrowed the candidates to none."""
    candidates = accounts
    for option, matches in (
        ("--user", lambda a: username is None or a["username"] == username),
        ("--role", lambda a: role is None or role in a["roles"]),
        ("--section", lambda a: section is None or section in a["sections"]),
        ("--township", lambda a: township is None or a.get("township") == township),
        ("--agency", lambda a: agency is None or a.get("agency") == agency),
    ):
        narrowed = [a for a in candidates if matches(a)]
        if not narrowed:
            given = {"--user": username, "--role": role, "--section": section, "--township": township, "--agency": agency}[option]
            raise NoDemoAccount(option, f"没有匹配的演示账户 no demo account matches {option} {given}"
                                        + ("" if option in ("--user", "--role") else " (with the options before it)"))
        candidates = narrowed
    return candidates[0]


def issuer_of(data_dir: Path) -> str:
    path = data_dir / "endpoints.json"
    try:
        return json.loads(path.read_text())["oidc_issuer"]
    except (FileNotFoundError, KeyError):
        raise NoDemoAccount("--data-dir", f"no oidc_issuer in {path}: is the platform running (`fpb up --data-dir {data_dir}`)?") from None


def token_for(data_dir: Path, role: str | None, section: str | None = None, township: str | None = None,
              agency: str | None = None, username: str | None = None) -> str:
    """An access token of the demo account matching these, logged in for real."""
    account = pick_account(demo_accounts(data_dir), role, section, township, agency, username)
    with httpx.Client(timeout=10) as http:
        return password_login(http, issuer_of(data_dir), account["username"], account["password"])["access_token"]


class DemoLogin(httpx.Auth):
    """Bearer auth for one account that stays logged in: the access token is refreshed
    (refresh token, rotated each time) a minute before it expires, and the account logs
    in again if the refresh is refused. Safe to share between threads."""

    def __init__(self, issuer: str, username: str, password: str, margin: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, http: httpx.Client | None = None) -> None:
        self.issuer, self.username = issuer, username
        self._password = password
        self._margin = margin
        self._clock = clock
        self._http = http or httpx.Client(timeout=10)
        self._lock = threading.Lock()
        self._tokens: dict[str, Any] | None = None
        self._expires_at = 0.0

    @classmethod
    def for_demo(cls, data_dir: Path, role: str | None, section: str | None = None, township: str | None = None,
                 agency: str | None = None, username: str | None = None) -> DemoLogin:
        account = pick_account(demo_accounts(data_dir), role, section, township, agency, username)
        return cls(issuer_of(data_dir), account["username"], account["password"])

    def access_token(self, force: bool = False) -> str:
        with self._lock:
            if force or self._tokens is None or self._clock() >= self._expires_at - self._margin:
                self._renew()
            assert self._tokens is not None
            return self._tokens["access_token"]

    def _renew(self) -> None:
        started = self._clock()
        tokens = None
        if self._tokens and self._tokens.get("refresh_token"):
            try:
                tokens = refresh(self._http, self.issuer, self._tokens["refresh_token"])
            except LoginFailed:
                tokens = None  # expired, revoked or logged out: log in again
        self._tokens = tokens or password_login(self._http, self.issuer, self.username, self._password)
        self._expires_at = started + float(self._tokens.get("expires_in", 300))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        response = yield request
        if response.status_code == 401:  # e.g. the provider's key rotated and restarted: try once more, fresh
            request.headers["Authorization"] = f"Bearer {self.access_token(force=True)}"
            yield request


def token_command(
    role: Annotated[Optional[str], typer.Option("--role", help="township_officer, section_staff, section_head, enforcement_officer, auditor, statistician, agency_liaison, administrator, operations")] = None,
    section: Annotated[Optional[str], typer.Option("--section", help="责任科室, e.g. 扶助中心")] = None,
    township: Annotated[Optional[str], typer.Option("--township", help="9-digit township code")] = None,
    agency: Annotated[Optional[str], typer.Option("--agency", help="police, health or drug")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="A demo account's username, e.g. FZ-01")] = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", envvar="FPB_DATA_DIR", help="Where `fpb up` keeps its state")] = Path(".fpb-data"),
) -> None:
    """Print an access token of a demo account with that role (for scripts and tests)."""
    if role is None and user is None:
        typer.echo("--role: 需要 --role 或 --user  give --role (or --user)", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(token_for(data_dir, role, section, township, agency, user))
    except NoDemoAccount as error:
        typer.echo(f"{error.option}: {error}", err=True)
        raise typer.Exit(2) from None
    except (LoginFailed, httpx.HTTPError) as error:
        typer.echo(f"登录失败 login failed: {error}", err=True)
        raise typer.Exit(1) from None


class DemoOfficers(httpx.Auth):
    """Bearer auth for the demo drivers: each request carries the token of the demo account
    its JSON body names as `officer` (each officer logged in as themselves), else the
    default account's. The services record the token's subject, so the demo's history
    names the same officers a real county's would."""

    def __init__(self, issuer: str, accounts: list[dict[str, Any]], default: str) -> None:
        self.issuer = issuer
        self._passwords = {a["username"]: a["password"] for a in accounts}
        self._default = default
        self._logins: dict[str, DemoLogin] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_demo(cls, data_dir: Path, default: str) -> DemoOfficers:
        return cls(issuer_of(data_dir), demo_accounts(data_dir), default)

    def login_of(self, username: str) -> DemoLogin:
        with self._lock:
            if username not in self._logins:
                if username not in self._passwords:
                    raise NoDemoAccount("officer", f"没有演示账户 {username} / no demo account {username!r} (cli/demo/accounts.json)")
                self._logins[username] = DemoLogin(self.issuer, username, self._passwords[username])
            return self._logins[username]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        username = self._default
        if request.content:
            try:
                named = json.loads(request.content).get("officer")
            except (ValueError, AttributeError):
                named = None
            if isinstance(named, dict) and named.get("id"):
                username = named["id"]
        yield from self.login_of(username).auth_flow(request)


class BearerToken(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


def caller_auth(data_dir: Path, role: str, username: str | None = None) -> httpx.Auth:
    """Who the `fpb` commands act as: the access token in FPB_TOKEN when set (any issuer's,
    e.g. from `fpb token` or the bureau's own login), else the demo account of this role
    on a platform started with `fpb up --demo`."""
    token = os.environ.get("FPB_TOKEN", "").strip()
    if token:
        return BearerToken(token)
    try:
        return DemoLogin.for_demo(data_dir, role, username=username)
    except NoDemoAccount as error:
        typer.echo(f"{error.option}: {error}; or set FPB_TOKEN to an access token", err=True)
        raise typer.Exit(2) from None
