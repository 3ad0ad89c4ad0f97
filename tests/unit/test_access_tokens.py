"""Bearer tokens a resource server must refuse: each gets 401, is logged without the
token, and changes nothing; a rotated key is picked up; a flood of made-up key ids does
not become a flood of key-set fetches."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from shared.identity.policy import POLICY_FILE, parse_policy
from shared.identity.tokens import InvalidTokenError, KeySet, TokenVerifier
from shared.identity.access import install_access
from tests.identity_support import AUDIENCE, ISSUER, jwks_of, signing_key, token_issuer


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def guarded():
    """A service with one state-changing route that only a section head of 法规科 may call."""
    table = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    table["routes"]["verification"]["POST /counter"] = {"right": "applications.decide"}
    http = FastAPI()
    install_access(http, "verification", parse_policy(table), token_issuer().verifier())
    calls = []

    @http.post("/counter")
    async def counter() -> dict[str, int]:
        calls.append(1)
        return {"calls": len(calls)}

    return TestClient(http), calls


def claims(**changes) -> dict:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "sub": "fg-li", "iat": now, "nbf": now, "exp": now + 600, "roles": ["section_head"], "sections": ["法规科"]}
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def signed(body: dict, key_name: str = "test-key-1", kid: str = "test-key-1", alg: str = "RS256") -> str:
    return jwt.encode(body, signing_key(key_name), algorithm=alg, headers={"kid": kid})


def public_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization

    return signing_key("test-key-1").public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


BAD_TOKENS = {
    "malformed": lambda: "not-a-jwt",
    "expired": lambda: signed(claims(iat=int(time.time()) - 4000, nbf=int(time.time()) - 4000, exp=int(time.time()) - 3000)),
    "not yet valid": lambda: signed(claims(nbf=int(time.time()) + 3600)),
    "wrongly signed": lambda: signed(claims(), key_name="test-key-2", kid="test-key-1"),
    "wrong issuer": lambda: signed(claims(iss="https://evil.example")),
    "wrong audience": lambda: signed(claims(aud="another-app")),
    "no expiry": lambda: signed(claims(exp=None)),
    "alg none": lambda: f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'test-key-1'})}.{b64(claims())}.",
    "HS256 with the public key as secret": lambda: f"{b64({'alg': 'HS256', 'kid': 'test-key-1'})}.{b64(claims())}.AAAA",
    "unknown key": lambda: signed(claims(), key_name="test-key-2", kid="test-key-2"),
}


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_a_bad_token_gets_401_is_logged_without_the_token_and_changes_nothing(guarded, kind):
    client, calls = guarded
    token = BAD_TOKENS[kind]()

    with capture_logs() as logs:
        response = client.post("/counter", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401 and response.json()["detail"][0]["field"] == "authorization"
    assert calls == []
    refused = [entry for entry in logs if entry["event"] == "token_refused"]
    assert len(refused) == 1 and refused[0]["reason"]
    assert token not in json.dumps(logs, default=str) and token not in response.text


def test_a_good_token_passes_and_the_same_claims_with_a_missing_right_get_403_naming_it(guarded):
    client, calls = guarded
    assert client.post("/counter", headers={"Authorization": f"Bearer {signed(claims())}"}).json() == {"calls": 1}

    staff = client.post("/counter", headers={"Authorization": f"Bearer {signed(claims(roles=['section_staff']))}"})
    other_section = client.post("/counter", headers={"Authorization": f"Bearer {signed(claims(sections=['扶助中心']))}"})

    assert staff.status_code == other_section.status_code == 403
    assert "applications.decide" in staff.json()["detail"][0]["message"]
    assert calls == [1]


def test_no_header_and_a_non_bearer_scheme_are_401(guarded):
    client, calls = guarded
    assert client.post("/counter").status_code == 401
    assert client.post("/counter", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code == 401
    assert calls == []


def test_a_service_with_no_issuer_configured_refuses_every_protected_route():
    http = FastAPI()
    install_access(http, "verification", parse_policy(json.loads(POLICY_FILE.read_text(encoding="utf-8"))), None)

    @http.get("/policy")
    async def policy() -> dict[str, str]:
        return {"rules": "x"}

    response = TestClient(http).get("/policy", headers=token_issuer().headers("fg-li", ["section_head"], ["法规科"]))
    assert response.status_code == 401 and "FPB_OIDC_ISSUER" in response.json()["detail"][0]["message"]


def test_a_rotated_key_is_fetched_once_and_made_up_key_ids_do_not_flood_the_issuer():
    published = {"keys": jwks_of("test-key-1")["keys"]}
    fetches = []

    def load() -> dict:
        fetches.append(1)
        return published

    now = [1000.0]
    verifier = TokenVerifier(ISSUER, AUDIENCE, KeySet(load, min_refresh_seconds=5.0, clock=lambda: now[0]))
    assert asyncio.run(verifier.verify(signed(claims()))).subject == "fg-li"
    published["keys"] = jwks_of("test-key-1", "test-key-2")["keys"]  # the issuer rotates
    now[0] += 10
    rotated = asyncio.run(verifier.verify(signed(claims(sub="fg-new"), key_name="test-key-2", kid="test-key-2")))
    assert rotated.subject == "fg-new" and len(fetches) == 2

    for n in range(50):  # a stream of tokens naming keys nobody published
        with pytest.raises(Exception):
            asyncio.run(verifier.verify(signed(claims(), kid=f"made-up-{n}")))
    assert len(fetches) == 2, "no fetch within the refresh interval of the last one"
    now[0] += 10
    for n in range(50):
        with pytest.raises(Exception):
            asyncio.run(verifier.verify(signed(claims(), kid=f"made-up-again-{n}")))
    assert len(fetches) == 3, "one fetch per interval, however many made-up key ids"


def test_claim_names_are_configurable_for_an_external_issuer():
    from shared.identity.principal import ClaimNames, principal_from_claims

    keycloak = {"sub": "u-1", "preferred_username": "王芳", "realm_access": {"roles": ["section_staff", "offline_access"]},
                "fpb_sections": ["扶助中心"], "fpb_township": None}
    principal = principal_from_claims(keycloak, ClaimNames(roles="realm_access.roles", sections="fpb_sections", township="fpb_township",
                                                           name="preferred_username"))
    assert principal.roles == {"section_staff"} and principal.sections == ("扶助中心",) and principal.name == "王芳"


# --- tokens verified a moment ago (VerifiedTokens) -------------------------------------


class Clock:
    """The verifier's wall clock, moved by hand; PyJWT's own checks still read the real one."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def counted(verifier: TokenVerifier) -> list[int]:
    """How many times the verifier really decodes a token (PyJWT: signature and claims)."""
    decodes: list[int] = []
    decode = verifier._decode

    def counting(*args):
        decodes.append(1)
        return decode(*args)

    verifier._decode = counting
    return decodes


def cached_verifier(clock: Clock, load=None, **options) -> TokenVerifier:
    load = load or (lambda: jwks_of("test-key-1"))
    return TokenVerifier(ISSUER, AUDIENCE, KeySet(load, min_refresh_seconds=5.0, clock=clock), clock=clock, **options)


def verify(verifier: TokenVerifier, token: str):
    return asyncio.run(verifier.verify(token))


def test_a_token_verified_once_is_remembered_by_its_sha256_and_not_decoded_again():
    import hashlib

    clock = Clock()
    verifier = cached_verifier(clock)
    decodes = counted(verifier)
    token = signed(claims())

    assert verify(verifier, token).subject == verify(verifier, token).subject == "fg-li"
    assert len(decodes) == 1
    assert list(verifier.verified._entries) == [hashlib.sha256(token.encode()).digest()]  # the hash, never the token
    assert token not in repr(verifier.verified._entries)


def test_a_remembered_token_past_its_exp_is_refused_with_the_verifiers_leeway():
    clock = Clock()
    verifier = cached_verifier(clock, leeway_seconds=30, cache_seconds=3600)
    decodes = counted(verifier)
    now = int(clock.now)
    token = signed(claims(iat=now, nbf=now, exp=now + 10))
    verify(verifier, token)

    clock.now = now + 10 + 30 - 1  # past exp, within the leeway: still good, and from the cache
    assert verify(verifier, token).subject == "fg-li" and len(decodes) == 1
    clock.now = now + 10 + 30  # PyJWT itself (on the real clock) would still take it: only the cache's check refuses
    with pytest.raises(InvalidTokenError, match="expired"):
        verify(verifier, token)
    assert len(verifier.verified) == 0 and len(decodes) == 1


def test_a_remembered_token_past_its_exp_gets_401_through_the_middleware():
    clock = Clock()
    verifier = cached_verifier(clock, leeway_seconds=0)
    table = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
    table["routes"]["verification"]["POST /counter"] = {"right": "applications.decide"}
    http = FastAPI()
    install_access(http, "verification", parse_policy(table), verifier)

    @http.post("/counter")
    async def counter() -> dict[str, str]:
        return {"ok": "yes"}

    client = TestClient(http)
    token = signed(claims(exp=int(clock.now) + 20))
    assert client.post("/counter", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    clock.now += 20
    with capture_logs() as logs:
        response = client.post("/counter", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"][0]["message"]
    assert token not in json.dumps(logs, default=str)


def test_a_remembered_token_before_its_nbf_is_refused():
    clock = Clock()
    verifier = cached_verifier(clock, leeway_seconds=0)
    token = signed(claims())
    verify(verifier, token)
    clock.now -= 3600  # the wall clock stepped back an hour
    with pytest.raises(InvalidTokenError, match="not yet valid"):
        verify(verifier, token)


def test_an_entry_lives_no_longer_than_the_ttl():
    clock = Clock()
    verifier = cached_verifier(clock, cache_seconds=60)
    decodes = counted(verifier)
    token = signed(claims())
    verify(verifier, token)
    clock.now += 59
    verify(verifier, token)
    assert len(decodes) == 1
    clock.now += 1
    verify(verifier, token)
    assert len(decodes) == 2, "verified again once its 60 s were up"


def test_one_byte_changed_in_the_signature_is_not_taken_from_the_cache():
    clock = Clock()
    verifier = cached_verifier(clock)
    decodes = counted(verifier)
    token = signed(claims())
    verify(verifier, token)

    head, body, signature = token.split(".")
    middle = len(signature) // 2
    tampered = f"{head}.{body}.{signature[:middle]}{'A' if signature[middle] != 'A' else 'B'}{signature[middle + 1:]}"
    with pytest.raises(InvalidTokenError, match="bad signature"):
        verify(verifier, tampered)
    assert len(decodes) == 2 and len(verifier.verified) == 1, "decoded, refused, and not remembered"
    assert verify(verifier, token).subject == "fg-li" and len(decodes) == 2


@pytest.mark.parametrize("kind", sorted(BAD_TOKENS))
def test_a_refused_token_is_never_remembered(kind):
    clock = Clock()
    verifier = cached_verifier(clock)
    token = BAD_TOKENS[kind]()
    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            verify(verifier, token)
    assert len(verifier.verified) == 0


def test_the_cache_stays_bounded_and_drops_the_oldest_first():
    clock = Clock()
    verifier = cached_verifier(clock, cache_entries=5)
    decodes = counted(verifier)
    tokens = [signed(claims(sub=f"u-{n}")) for n in range(20)]
    for token in tokens:
        verify(verifier, token)
    assert len(verifier.verified) == 5 and len(decodes) == 20

    assert verify(verifier, tokens[-1]).subject == "u-19" and len(decodes) == 20  # among the newest: remembered
    assert verify(verifier, tokens[0]).subject == "u-0" and len(decodes) == 21  # the oldest went first
    assert len(verifier.verified) == 5


def test_a_key_the_issuer_drops_or_replaces_ends_its_remembered_tokens_at_the_next_refresh():
    published = {"keys": jwks_of("test-key-1")["keys"]}
    clock = Clock()
    verifier = cached_verifier(clock, load=lambda: published, cache_seconds=3600)
    decodes = counted(verifier)
    old = signed(claims(sub="fg-old"))
    verify(verifier, old)

    clock.now += 10  # a made-up key id makes a refresh that changes nothing: the remembered token stays
    with pytest.raises(InvalidTokenError):
        verify(verifier, signed(claims(), kid="made-up"))
    assert verify(verifier, old).subject == "fg-old" and len(decodes) == 1

    published["keys"] = jwks_of("test-key-2")["keys"]  # the issuer rotates test-key-1 away
    clock.now += 10
    assert verify(verifier, signed(claims(sub="fg-new"), key_name="test-key-2", kid="test-key-2")).subject == "fg-new"
    with pytest.raises(InvalidTokenError, match="does not publish"):
        verify(verifier, old)  # at once, not after the cache's hour

    replaced = {**jwks_of("test-key-2")["keys"][0], "kid": "test-key-1"}  # another key under the old key id
    verifier = cached_verifier(clock, load=lambda: published, cache_seconds=3600)
    published["keys"] = jwks_of("test-key-1")["keys"]
    verify(verifier, old)
    published["keys"] = [replaced]
    clock.now += 10
    with pytest.raises(InvalidTokenError):
        verify(verifier, signed(claims(), kid="made-up-2"))  # the refresh that learns of it
    with pytest.raises(InvalidTokenError, match="bad signature"):
        verify(verifier, old)


def test_a_cache_of_no_entries_verifies_every_time():
    verifier = cached_verifier(Clock(), cache_entries=0)
    decodes = counted(verifier)
    token = signed(claims())
    verify(verifier, token)
    verify(verifier, token)
    assert len(decodes) == 2 and len(verifier.verified) == 0
