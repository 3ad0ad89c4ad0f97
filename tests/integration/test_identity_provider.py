"""The built-in OpenID provider end to end, in-process (Starlette's test client), its user
directory on SQLite and on PostgreSQL."""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from cli.tokens import CLI_CLIENT, CLI_REDIRECT, LoginFailed, password_login, pkce_pair, refresh
from services.identity.application.accounts import AccountAdmin
from services.identity.bootstrap import IdentityService, bootstrap, passwords_of
from services.identity.domain import events as ev
from services.identity.domain.accounts import Grants
from services.identity.settings import IdentitySettings

ISSUER = "http://127.0.0.1:8321"
PASSWORD = "correct horse battery"
EXPECTED_CLAIMS = {"iss", "aud", "sub", "exp", "iat", "nbf", "jti", "client_id", "scope", "name", "roles", "sections", "township", "agency"}


class Clock:
    """Real time plus an offset the test can move (lockouts expire without waiting)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset


def settings_for(tmp_path: Path, directory_url: str) -> IdentitySettings:
    return IdentitySettings(
        identity_store_url=directory_url, identity_key_dir=tmp_path / "keys-identity",
        identity_secrets_dir=tmp_path, oidc_issuer=ISSUER,
        password_hash_time_cost=1, password_hash_memory_cost=8, password_hash_parallelism=1,  # fast, tests only
    )


@pytest.fixture
def settings(tmp_path: Path, store_url: str) -> IdentitySettings:
    """Every test of the provider runs with its user directory on SQLite and on PostgreSQL."""
    return settings_for(tmp_path, store_url)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(settings: IdentitySettings, clock: Clock) -> IdentityService:
    service = bootstrap(settings, clock)
    admin = AccountAdmin(service.directory, passwords_of(settings), clock)
    admin.add("FZ-01", "王芳", Grants(("section_staff",), ("扶助中心",)), PASSWORD, actor="test")
    admin.add("ts-130132100", "槐阳镇计生办", Grants(("township_officer",), township="130132100"), PASSWORD, actor="test")
    yield service
    service.close()


@pytest.fixture
def http(service: IdentityService) -> TestClient:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(service.http, base_url=ISSUER)


def verify_with_jwks(http: TestClient, token: str, audience: str = "fpb-platform") -> dict:
    keys = {k["kid"]: jwt.PyJWK(k) for k in http.get("/jwks").json()["keys"]}
    kid = jwt.get_unverified_header(token)["kid"]
    return jwt.decode(token, keys[kid].key, algorithms=["RS256"], audience=audience, issuer=ISSUER)


def authorize_params(challenge: str, **overrides: str) -> dict[str, str]:
    return {"response_type": "code", "client_id": CLI_CLIENT, "redirect_uri": CLI_REDIRECT, "scope": "openid profile",
            "state": "s-1", "nonce": "n-1", "code_challenge": challenge, "code_challenge_method": "S256", **overrides}


def code_for(http: TestClient, challenge: str, username: str = "FZ-01") -> str:
    answer = http.post("/authorize", data={**authorize_params(challenge), "username": username, "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def exchange(http: TestClient, code: str, verifier: str, redirect_uri: str = CLI_REDIRECT):
    return http.post("/token", data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                     "client_id": CLI_CLIENT, "code_verifier": verifier})


def test_the_discovery_document_names_every_endpoint(http):
    doc = http.get("/.well-known/openid-configuration").json()
    assert doc["issuer"] == ISSUER
    for name, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"), ("jwks_uri", "/jwks"),
                       ("userinfo_endpoint", "/userinfo"), ("end_session_endpoint", "/logout")]:
        assert doc[name] == ISSUER + path
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(doc["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert http.get("/healthz").status_code == 200 and http.get("/readyz").json()["ready"] is True


def test_the_login_form_is_chinese_first_and_self_contained(http):
    _, challenge = pkce_pair()
    page = http.get("/authorize", params=authorize_params(challenge)).text
    assert "用户名" in page and "密码" in page and "登录" in page
    assert "http" not in page.split("<body>")[1].replace(ISSUER, "").replace(CLI_REDIRECT, "")  # no CDN, nothing remote


def test_code_and_pkce_give_a_token_with_exactly_the_claims_the_services_rely_on(http):
    tokens = password_login(http, ISSUER, "FZ-01", PASSWORD)
    header = jwt.get_unverified_header(tokens["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"]
    claims = verify_with_jwks(http, tokens["access_token"])
    assert set(claims) == EXPECTED_CLAIMS
    assert (claims["sub"], claims["name"], claims["roles"], claims["sections"], claims["township"], claims["agency"]) == \
        ("FZ-01", "王芳", ["section_staff"], ["扶助中心"], None, None)
    assert claims["client_id"] == CLI_CLIENT and claims["exp"] - claims["iat"] == 900
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    id_token = verify_with_jwks(http, tokens["id_token"], audience=CLI_CLIENT)
    assert id_token["sub"] == "FZ-01" and id_token["nonce"]
    assert http.get("/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}).json()["name"] == "王芳"


def test_a_township_officer_carries_the_township(http):
    claims = verify_with_jwks(http, password_login(http, ISSUER, "ts-130132100", PASSWORD)["access_token"])
    assert claims["township"] == "130132100" and claims["roles"] == ["township_officer"]


def test_the_nonce_is_echoed_in_the_id_token(http):
    verifier, challenge = pkce_pair()
    tokens = exchange(http, code_for(http, challenge), verifier).json()
    assert verify_with_jwks(http, tokens["id_token"], audience=CLI_CLIENT)["nonce"] == "n-1"


def test_a_wrong_pkce_verifier_is_refused(http):
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    answer = exchange(http, code_for(http, challenge), other_verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    assert answer.json()["error_description"]


def test_a_public_client_without_pkce_or_with_plain_is_refused(http):
    params = authorize_params("x" * 43)
    del params["code_challenge"], params["code_challenge_method"]
    answer = http.get("/authorize", params=params, follow_redirects=False)
    assert answer.status_code == 302 and "error=invalid_request" in answer.headers["location"]
    answer = http.get("/authorize", params=authorize_params("x" * 43, code_challenge_method="plain"), follow_redirects=False)
    assert answer.status_code == 302 and "error=invalid_request" in answer.headers["location"]


def test_a_code_is_single_use_and_its_reuse_revokes_what_it_gave(http, service):
    verifier, challenge = pkce_pair()
    code = code_for(http, challenge)
    first = exchange(http, code, verifier)
    assert first.status_code == 200
    again = exchange(http, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert refresh_answer(http, first.json()["refresh_token"]).status_code == 400  # the family went with it
    assert service.directory.events(kind=ev.AUTHORIZATION_CODE_REUSED)


def test_a_wrong_redirect_uri_is_refused_at_authorize_and_at_token(http):
    verifier, challenge = pkce_pair()
    page = http.get("/authorize", params=authorize_params(challenge, redirect_uri="http://127.0.0.1/callback/evil"), follow_redirects=False)
    assert page.status_code == 400 and "location" not in page.headers  # never redirected to an unregistered URI
    answer = exchange(http, code_for(http, challenge), verifier, redirect_uri="http://127.0.0.1/other")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def refresh_answer(http, token: str):
    return http.post("/token", data={"grant_type": "refresh_token", "refresh_token": token, "client_id": CLI_CLIENT})


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_family(http, service):
    first = password_login(http, ISSUER, "FZ-01", PASSWORD)
    second = refresh(http, ISSUER, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert verify_with_jwks(http, second["access_token"])["sub"] == "FZ-01"
    reused = refresh_answer(http, first["refresh_token"])  # the old one again: stolen, or the thief's copy
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert refresh_answer(http, second["refresh_token"]).status_code == 400  # the whole family is revoked
    assert service.directory.events(kind=ev.REFRESH_TOKEN_REUSED)


def test_client_credentials_for_prometheus(http, service, tmp_path):
    secret = (tmp_path / "prometheus.secret").read_text().strip()
    assert oct((tmp_path / "prometheus.secret").stat().st_mode & 0o777) == "0o600"
    answer = http.post("/token", data={"grant_type": "client_credentials"}, auth=("prometheus", secret))
    assert answer.status_code == 200 and "refresh_token" not in answer.json()
    claims = verify_with_jwks(http, answer.json()["access_token"])
    assert set(claims) == EXPECTED_CLAIMS
    assert (claims["sub"], claims["client_id"], claims["roles"]) == ("prometheus", "prometheus", ["operations"])
    assert service.directory.events(kind=ev.TOKEN_ISSUED)[-1].client_id == "prometheus"
    wrong = http.post("/token", data={"grant_type": "client_credentials"}, auth=("prometheus", "guess"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    public = http.post("/token", data={"grant_type": "client_credentials", "client_id": CLI_CLIENT})
    assert public.status_code in (400, 401) and public.json()["error"] in ("invalid_client", "unauthorized_client")


def test_the_builtin_clients_are_registered_idempotently(tmp_path, settings, service, clock):
    secret = (tmp_path / "prometheus.secret").read_text()
    again = bootstrap(settings, clock)  # a restart
    assert (tmp_path / "prometheus.secret").read_text() == secret
    assert again.directory.client("prometheus").secret_hash == service.directory.client("prometheus").secret_hash
    again.close()


def test_a_disabled_account_cannot_log_in(http, settings, service, clock):
    AccountAdmin(service.directory, passwords_of(settings), clock).disable("FZ-01", actor="test")
    with pytest.raises(LoginFailed, match="用户名或密码错误"):
        password_login(http, ISSUER, "FZ-01", PASSWORD)


def test_the_sixth_login_after_five_failures_is_refused_as_locked_and_the_lockout_is_recorded(http, service, clock):
    for _ in range(4):
        with pytest.raises(LoginFailed, match="用户名或密码错误"):
            password_login(http, ISSUER, "FZ-01", "not the password")
    with pytest.raises(LoginFailed, match="账户已锁定"):  # the fifth failure locks
        password_login(http, ISSUER, "FZ-01", "not the password")
    with pytest.raises(LoginFailed, match=r"账户已锁定.*account locked until \d\d:\d\d \(China time\)"):
        password_login(http, ISSUER, "FZ-01", PASSWORD)  # the sixth, even with the right password
    lockouts = service.directory.events(kind=ev.LOCKED_OUT, account="FZ-01")
    assert len(lockouts) == 1 and lockouts[0].detail["scope"] == "account"
    assert len(service.directory.events(kind=ev.LOGIN_FAILED, account="FZ-01")) == 5
    clock.offset = timedelta(minutes=16)  # the lock ends
    assert password_login(http, ISSUER, "FZ-01", PASSWORD)["access_token"]


def test_an_address_with_too_many_failures_is_blocked(http, service):
    for attempt in range(20):  # spread over names, so no account locks first
        with pytest.raises(LoginFailed):
            password_login(http, ISSUER, f"nobody-{attempt}", "guess")
    with pytest.raises(LoginFailed, match="此地址登录失败次数过多"):
        password_login(http, ISSUER, "FZ-01", PASSWORD)
    assert [e.detail["scope"] for e in service.directory.events(kind=ev.LOCKED_OUT)] == ["address"]


def test_key_rotation_keeps_old_tokens_verifiable_and_new_ones_carry_the_new_kid(http, service):
    old = password_login(http, ISSUER, "FZ-01", PASSWORD)["access_token"]
    old_kid = jwt.get_unverified_header(old)["kid"]
    new_key = service.keys.rotate()
    assert oct(max(service.keys.key_dir.glob("signing-*.pem")).stat().st_mode & 0o777) == "0o600"
    assert {k["kid"] for k in http.get("/jwks").json()["keys"]} == {old_kid, new_key.kid}
    new = password_login(http, ISSUER, "FZ-01", PASSWORD)["access_token"]
    assert jwt.get_unverified_header(new)["kid"] == new_key.kid != old_kid
    assert verify_with_jwks(http, old)["sub"] == verify_with_jwks(http, new)["sub"] == "FZ-01"


def test_logout_revokes_the_accounts_refresh_tokens_for_that_client(http, service):
    tokens = password_login(http, ISSUER, "FZ-01", PASSWORD)
    answer = http.get("/logout", params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": CLI_REDIRECT, "state": "bye"},
                      follow_redirects=False)
    assert answer.status_code == 302 and answer.headers["location"] == f"{CLI_REDIRECT}?state=bye"
    assert refresh_answer(http, tokens["refresh_token"]).status_code == 400
    assert service.directory.events(kind=ev.LOGGED_OUT)[0].account == "FZ-01"


def test_token_errors_are_rfc6749_json(http):
    answer = http.post("/token", data={"grant_type": "password", "username": "FZ-01", "password": PASSWORD, "client_id": CLI_CLIENT})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type" and "error_description" in answer.json()
    assert http.get("/userinfo").status_code == 401
