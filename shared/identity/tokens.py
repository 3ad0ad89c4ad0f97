"""Bearer access tokens: JWTs verified against the issuer's JWKS with PyJWT.

PyJWT (not authlib's joserfc) because the resource side needs only verification, and
PyJWT's `decode` checks `exp`, `nbf`, `iat`, `iss` and `aud` itself, refuses `alg: none`
and any algorithm not pinned, and refuses an RSA public key used as an HMAC secret.

Keys come from the issuer's JWKS (found through its discovery document, or a URL, or a
file for a network with no issuer reachable). An unknown `kid` makes the key set be
fetched again (the issuer rotated its key), at most once every few seconds, so a
stream of made-up `kid`s cannot turn into a stream of fetches.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
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
            for entry in document.get("keys", []):
                if entry.get("use", "sig") != "sig":
                    continue
                try:
                    key = jwt.PyJWK(entry)
                except jwt.PyJWTError:
                    continue  # a key type or algorithm this verifier does not take
                keys[str(entry.get("kid", ""))] = key
            if keys:
                self._keys = keys


@dataclass
class TokenVerifier:
    issuer: str
    audience: str
    keys: KeySet
    algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256", "EdDSA")
    claim_names: ClaimNames = ClaimNames()
    leeway_seconds: int = 30

    def __post_init__(self) -> None:
        weak = [a for a in self.algorithms if a not in ASYMMETRIC]
        if weak:
            raise ValueError(f"only asymmetric algorithms may verify access tokens, not {', '.join(weak)}")

    async def verify(self, token: str) -> Principal:
        """The principal of a valid token, else InvalidTokenError. The key set is fetched
        (in a worker thread) only when the token names a key not cached."""
        header = self._header(token)
        key = self.keys.cached(header.get("kid"))
        if key is None:
            await asyncio.to_thread(self.keys.refresh)
            key = self.keys.cached(header.get("kid"))
        if key is None:
            raise InvalidTokenError("signed with a key the issuer does not publish")
        return self._decode(token, key, header["alg"])

    def _header(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("not a JWT") from None
        if header.get("alg") not in self.algorithms:
            raise InvalidTokenError(f"algorithm {header.get('alg')!r} is not accepted")
        return header

    def _decode(self, token: str, key: jwt.PyJWK, alg: str) -> Principal:
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
        return principal_from_claims(claims, self.claim_names)
