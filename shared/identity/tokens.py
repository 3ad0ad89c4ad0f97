"""Bearer access tokens: JWTs verified against the issuer's JWKS with PyJWT.

PyJWT (not authlib's joserfc) because the resource side needs only verification, and
PyJWT's `decode` checks `exp`, `nbf`, `iat`, `iss` and `aud` itself, refuses `alg: none`
and any algorithm not pinned, and refuses an RSA public key used as an HMAC secret.

Keys come from the issuer's JWKS (found through its discovery document, or a URL, or a
file for a network with no issuer reachable). An unknown `kid` makes the key set be
fetched again (the issuer rotated its key), at most once every few seconds, so a
stream of made-up `kid`s cannot turn into a stream of fetches.

A token verified once is remembered for a short while (VerifiedTokens): most of a
request's access control was PyJWT parsing and checking the same token again (see
docs/performance.md). Only successes are remembered, under the SHA-256 of the exact
token string; every use checks `exp`, `nbf` and `iat` again against the clock.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from shared.identity.principal import ClaimNames, Principal, principal_from_claims

ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")


class InvalidTokenError(Exception):
    """The request carries no usable token; `reason` says why (never the token)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _fetch_json(url: str, timeout: float = 3.0) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - the operator's issuer URL
        return json.loads(response.read())


def discovered_jwks_url(issuer: str, fetch: Callable[[str], dict[str, Any]] = _fetch_json) -> str:
    """The jwks_uri of the issuer's OpenID discovery document (which must name the same issuer)."""
    document = fetch(issuer.rstrip("/") + "/.well-known/openid-configuration")
    if document.get("issuer") != issuer:
        raise InvalidTokenError(f"the discovery document names issuer {document.get('issuer')!r}, not {issuer!r}")
    return str(document["jwks_uri"])


@dataclass
class KeySet:
    """The issuer's public keys by `kid`, refreshed on an unknown one."""

    load: Callable[[], dict[str, Any]]
    min_refresh_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    _entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    _last_refresh: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_url(cls, url: str) -> "KeySet":
        return cls(lambda: _fetch_json(url))

    @classmethod
    def from_file(cls, path: Path) -> "KeySet":
        return cls(lambda: json.loads(Path(path).read_text()))

    @classmethod
    def from_discovery(cls, issuer: str) -> "KeySet":
        found: list[str] = []

        def load() -> dict[str, Any]:
            if not found:
                found.append(discovered_jwks_url(issuer))
            return _fetch_json(found[0])

        return cls(load)

    def cached(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    def refresh(self) -> None:
        """Fetch the key set again, unless that was done a moment ago."""
        with self._lock:
            now = self.clock()
            if self._last_refresh is not None and now - self._last_refresh < self.min_refresh_seconds:
                return
            self._last_refresh = now
            try:
                document = self.load()
            except Exception:  # noqa: BLE001 - the issuer unreachable: keep the keys we have
                return
            keys: dict[str, jwt.PyJWK] = {}
            entries: dict[str, dict[str, Any]] = {}
            for entry in document.get("keys", []):
                if entry.get("use", "sig") != "sig":
                    continue
                kid = str(entry.get("kid", ""))
                if self._entries.get(kid) == entry:
                    # The same key as before stays the same object: a token verified with it
                    # is still good in VerifiedTokens, which compares key objects.
                    keys[kid], entries[kid] = self._keys[kid], entry
                    continue
                try:
                    key = jwt.PyJWK(entry)
                except jwt.PyJWTError:
                    continue  # a key type or algorithm this verifier does not take
                keys[kid], entries[kid] = key, entry
            if keys:
                self._keys, self._entries = keys, entries


@dataclass(frozen=True, slots=True)
class _Verified:
    principal: Principal
    key: jwt.PyJWK  # the key object that verified the signature
    kid: str | None
    exp: int
    nbf: int | None
    iat: int
    until: float  # the entry's end: verified + TTL, or exp + leeway if sooner


class VerifiedTokens:
    """Tokens verified a moment ago, by the SHA-256 of the exact token string (the token
    itself is never kept, nor logged): a request carrying one again skips the signature
    check and PyJWT's parsing, but not the clock.

    - Only successful verifications enter; a refused token is never remembered, so junk
      cannot fill the cache or push good tokens out faster than good tokens do.
    - Every hit checks `exp`, `nbf` and `iat` again against the current time with the
      verifier's leeway, exactly as PyJWT does: a remembered token past its exp is refused.
    - An entry lives at most `seconds` (and never past exp + leeway), and at most
      `entries` are kept, the oldest dropped first: memory is bounded.
    - A hit also needs the key that verified the token to be the key the key set holds
      now under its kid: a refresh that drops or replaces a key ends, at once, every
      remembered token that key signed.

    Used from the event loop (verify is a coroutine); a lock makes it safe from threads too.
    """

    def __init__(self, entries: int = 10_000, seconds: float = 60.0) -> None:
        self.max_entries, self.seconds = entries, seconds
        self._entries: OrderedDict[bytes, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.max_entries > 0 and self.seconds > 0

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def digest(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, digest: bytes) -> _Verified | None:
        return self._entries.get(digest)

    def put(self, digest: bytes, entry: _Verified) -> None:
        with self._lock:
            self._entries[digest] = entry
            self._entries.move_to_end(digest)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def drop(self, digest: bytes) -> None:
        with self._lock:
            self._entries.pop(digest, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass
class TokenVerifier:
    issuer: str
    audience: str
    keys: KeySet
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256", "EdDSA")
    claim_names: ClaimNames = ClaimNames()
    leeway_seconds: int = 30
    cache_entries: int = 10_000  # VerifiedTokens; 0: verify every token every time
    cache_seconds: float = 60.0
    clock: Callable[[], float] = time.time  # wall clock, as exp, nbf and iat are (PyJWT reads it too)

    def __post_init__(self) -> None:
        weak = [a for a in self.algorithms if a not in ASYMMETRIC]
        if weak:
            raise ValueError(f"only asymmetric algorithms may verify access tokens, not {', '.join(weak)}")
        self.verified = VerifiedTokens(self.cache_entries, self.cache_seconds)

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token, else InvalidTokenError. The key set is fetched
        (in a worker thread) only when the token names a key not cached. A token verified
        in the last `cache_seconds` is taken from VerifiedTokens, its times checked again."""
        if not self.verified.enabled:
            return (await self._verify(token))[0]
        digest = self.verified.digest(token)
        now = self.clock()
        entry = self.verified.get(digest)
        if entry is not None:
            try:
                self._check_times(entry, now)
            except InvalidTokenError:
                self.verified.drop(digest)
                raise
            if now < entry.until and self.keys.cached(entry.kid) is entry.key:
                return entry.principal
            self.verified.drop(digest)  # its time is up, or its key is no longer published as it was
        principal, key, kid, claims = await self._verify(token)
        exp = int(claims["exp"])
        nbf = int(claims["nbf"]) if "nbf" in claims else None
        until = min(now + self.cache_seconds, exp + self.leeway_seconds)
        if until > now:
            self.verified.put(digest, _Verified(principal, key, kid, exp, nbf, int(claims["iat"]), until))
        return principal

    def _check_times(self, entry: _Verified, now: float) -> None:
        """PyJWT's checks of exp, nbf and iat (api_jwt._validate_*), with the same leeway."""
        leeway = self.leeway_seconds
        if entry.exp <= now - leeway:
            raise InvalidTokenError("expired")
        if (entry.nbf is not None and entry.nbf > now + leeway) or entry.iat > now + leeway:
            raise InvalidTokenError("not yet valid (nbf or iat in the future)")

    async def _verify(self, token: str) -> tuple[Principal, jwt.PyJWK, str | None, dict[str, Any]]:
        header = self._header(token)
        kid = header.get("kid")
        key = self.keys.cached(kid)
        if key is None:
            await asyncio.to_thread(self.keys.refresh)
            key = self.keys.cached(kid)
        if key is None:
            raise InvalidTokenError("signed with a key the issuer does not publish")
        claims = self._decode(token, key, header["alg"])
        return principal_from_claims(claims, self.claim_names), key, kid, claims

    def _header(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("not a JWT") from None
        if header.get("alg") not in self.algorithms:
            raise InvalidTokenError(f"algorithm {header.get('alg')!r} is not accepted")
        return header

    def _decode(self, token: str, key: jwt.PyJWK, alg: str) -> dict[str, Any]:
        declared = getattr(key, "_jwk_data", {}).get("alg")  # a key that names its algorithm signs only with it
        if declared is not None and declared != alg:
            raise InvalidTokenError(f"the key {key.key_id!r} is for {declared}, not {alg}")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[alg], audience=self.audience, issuer=self.issuer, leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("expired") from None
        except jwt.ImmatureSignatureError:
            raise InvalidTokenError("not yet valid (nbf or iat in the future)") from None
        except jwt.InvalidAudienceError:
            raise InvalidTokenError(f"not issued for audience {self.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError(f"not issued by {self.issuer!r}") from None
        except jwt.MissingRequiredClaimError as error:
            raise InvalidTokenError(f"lacks the {error.claim!r} claim") from None
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("bad signature") from None
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"invalid ({type(error).__name__})") from None
        return claims
