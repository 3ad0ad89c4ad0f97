"""A token issuer for tests: an RSA key of its own, its JWKS in a file the services read
(FPB_OIDC_JWKS_FILE), and access tokens minted with exactly the claims the platform's
OpenID provider puts in them. Tests act as real identities through it."""

from __future__ import annotations

import json
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI

from shared.identity.access import install_access
from shared.identity.policy import load_policy
from shared.identity.tokens import KeySet, TokenVerifier

ISSUER = "https://issuer.test.fpb"
AUDIENCE = "fpb-platform"


@lru_cache(maxsize=2)
def signing_key(name: str = "test-key-1") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_of(*names: str) -> dict[str, Any]:
    keys = []
    for name in names:
        entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key(name).public_key()))
        keys.append({**entry, "kid": name, "use": "sig", "alg": "RS256"})
    return {"keys": keys}


class TestIssuer:
    __test__ = False  # not a test class

    def __init__(self, directory: Path, kid: str = "test-key-1") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.jwks_file = directory / "jwks.json"
        self.kid = kid
        self.jwks_file.write_text(json.dumps(jwks_of(kid)))

    @property
    def settings(self) -> dict[str, Any]:
        return {"oidc_issuer": ISSUER, "oidc_jwks_file": self.jwks_file}

    @property
    def env(self) -> dict[str, str]:
        return {"FPB_OIDC_ISSUER": ISSUER, "FPB_OIDC_JWKS_FILE": str(self.jwks_file)}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(ISSUER, AUDIENCE, KeySet.from_file(self.jwks_file))

    def guard(self, http: FastAPI, service: str) -> FastAPI:
        """The service's access control on an app a test assembled by hand."""
        install_access(http, service, load_policy(), self.verifier())
        return http

    def token(self, subject: str, roles: tuple[str, ...] | list[str], sections: tuple[str, ...] | list[str] = (), township: str | None = None,
              agency: str | None = None, *, lifetime: int = 900, kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "nbf": now, "exp": now + lifetime, "jti": uuid.uuid4().hex,
                "client_id": "tests", "name": subject, "roles": list(roles), "sections": list(sections), "township": township, "agency": agency,
                **claims}
        key = kid or self.kid
        return jwt.encode(body, signing_key(key), algorithm="RS256", headers={"kid": key, "typ": "at+jwt"})

    def headers(self, subject: str, roles: tuple[str, ...] | list[str], sections: tuple[str, ...] | list[str] = (), township: str | None = None,
                agency: str | None = None, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(subject, roles, sections, township, agency, **claims)}"}

    def as_officer(self, officer: dict[str, str], role: str = "section_staff") -> dict[str, str]:
        """Headers of the officer a test body names ({"id": ..., "section": ...})."""
        return self.headers(officer["id"], [role], [officer["section"]])


# Who the tests act as when a test does not say: one identity per role, county-wide.
READERS = {
    "auditor": ("sj-auditor", ["auditor"], []),
    "operations": ("ops", ["operations"], []),
    "statistician": ("tj-01", ["statistician"], ["统计科"]),
}


@lru_cache(maxsize=1)
def token_issuer() -> TestIssuer:
    """One issuer for the whole test run (its key is made once)."""
    import tempfile

    return TestIssuer(Path(tempfile.mkdtemp(prefix="fpb-test-issuer-")))


class ActingOfficers(httpx.Auth):
    """httpx auth for test clients: each request carries the token of the officer its JSON
    body names (as if each officer had logged in), else the default identity's. The
    directory says each test officer's roles and sections, as the user directory would."""

    def __init__(self, issuer: TestIssuer, directory: dict[str, tuple[list[str], list[str]]], default: str) -> None:
        self.issuer, self.directory, self.default = issuer, directory, default

    def headers_for(self, officer_id: str) -> dict[str, str]:
        roles, sections = self.directory.get(officer_id, ([], []))
        return self.issuer.headers(officer_id, roles, sections)

    def auth_flow(self, request: Any) -> Any:
        if "authorization" not in request.headers:
            officer_id = self.default
            if request.content:
                try:
                    body = json.loads(request.content)
                except ValueError:
                    body = None
                named = body.get("officer") if isinstance(body, dict) else None
                if isinstance(named, dict) and named.get("id"):
                    officer_id = named["id"]
            request.headers.update(self.headers_for(officer_id))
        yield request


# Accounts the enforcement and demo tests act as (as the user directory would hold them).
CASE_OFFICERS: dict[str, tuple[list[str], list[str]]] = {
    "ZF-007": (["enforcement_officer"], ["执法大队"]),
    "ZF-011": (["enforcement_officer"], ["执法大队"]),
    "ZF-03": (["enforcement_officer"], ["执法大队"]),
    "ZF-001": (["enforcement_officer"], ["执法大队"]),
    "zf-ma": (["enforcement_officer"], ["执法大队"]),
    "XF-001": (["section_staff"], ["信访科"]),
    "CW-1": (["section_staff"], ["财务科"]),
    "XF-CW": (["section_staff"], ["信访科", "财务科"]),
    "ops": (["operations"], []),
    "zf-reader": (["enforcement_officer", "auditor"], ["执法大队"]),  # reads lists and histories when a test names nobody
}


def guarded_client(http: FastAPI, service: str, directory: dict[str, tuple[list[str], list[str]]] | None = None,
                   default: str = "zf-reader") -> Any:
    """A TestClient of an app under the service's access control, acting as the officer
    each request body names (else `default`)."""
    from fastapi.testclient import TestClient

    client = TestClient(token_issuer().guard(http, service))
    client.auth = ActingOfficers(token_issuer(), directory or CASE_OFFICERS, default)
    return client


def platform_accounts(platform: Any) -> Path:
    """The demo accounts in a started platform's own OpenID provider (as `fpb up --demo`
    makes them); returns the password file the logins read."""
    from cli.users import create_demo_accounts

    out = Path(platform.data_dir) / "demo-accounts.json"
    if not out.exists():
        create_demo_accounts(platform.endpoints()["identity_store"], out)
    return out


_PLATFORM_LOGINS: dict[tuple[str, str], httpx.Auth] = {}


def platform_officers(platform: Any, default: str) -> httpx.Auth:
    """httpx auth for a started platform: each request logs in as the demo officer its body
    names, else as `default` (cli/demo/accounts.json), through the platform's provider.
    One per platform and default: its logins are kept and refreshed."""
    from cli.tokens import DemoOfficers

    key = (str(platform.data_dir), default)
    if key not in _PLATFORM_LOGINS:
        platform_accounts(platform)
        _PLATFORM_LOGINS[key] = DemoOfficers.for_demo(Path(platform.data_dir), default)
    return _PLATFORM_LOGINS[key]


def demo_directory() -> dict[str, tuple[list[str], list[str]]]:
    """The demo accounts (cli/demo/accounts.json) as a test directory, plus the test officers."""
    from cli.users import DEMO_ACCOUNTS

    accounts = json.loads(Path(DEMO_ACCOUNTS).read_text(encoding="utf-8"))
    return {**CASE_OFFICERS, **{a["username"]: (a["roles"], a["sections"]) for a in accounts}}


def acting_officers(default: str) -> ActingOfficers:
    return ActingOfficers(token_issuer(), demo_directory(), default)
