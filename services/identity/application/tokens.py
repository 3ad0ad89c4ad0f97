"""Signing and checking the provider's JWTs (PyJWT, RS256, `kid` of the key ring).

Access tokens follow RFC 9068 (`typ: at+jwt`) with exactly the claims the services rely
on; id tokens follow OpenID Connect Core §2 (aud = the client, nonce echoed, at_hash)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from authlib.oidc.core.util import create_half_hash

from services.identity.adapters.signing_keys import KeyRing
from services.identity.application.ports import Clock
from services.identity.domain.accounts import Account, Grants

ALGORITHM = "RS256"


@dataclass(frozen=True)
class Subject:
    """Whom a token speaks for: an account, or a machine client acting as itself."""

    sub: str
    name: str
    grants: Grants

    @staticmethod
    def of(account: Account) -> Subject:
        return Subject(account.username, account.display_name, account.grants)


def subject_claims(subject: Subject) -> dict[str, Any]:
    g = subject.grants
    return {"sub": subject.sub, "name": subject.name, "roles": list(g.roles), "sections": list(g.sections), "township": g.township, "agency": g.agency}


class TokenIssuer:
    def __init__(self, keys: KeyRing, issuer: str, audience: str, access_lifetime: int, id_lifetime: int, clock: Clock) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.access_lifetime = access_lifetime
        self.id_lifetime = id_lifetime
        self._clock = clock

    def access_token(self, subject: Subject, client_id: str, scope: str) -> str:
        now = int(self._clock().timestamp())
        claims = {
            "iss": self.issuer, "aud": self.audience, "exp": now + self.access_lifetime, "iat": now, "nbf": now,
            "jti": str(uuid.uuid4()), "client_id": client_id, "scope": scope, **subject_claims(subject),
        }
        return self._sign(claims, "at+jwt")

    def id_token(self, subject: Subject, client_id: str, nonce: str | None, auth_time: datetime, access_token: str | None) -> str:
        now = int(self._clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": client_id, "azp": client_id, "exp": now + self.id_lifetime, "iat": now,
            "auth_time": int(auth_time.timestamp()), **subject_claims(subject),
        }
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            claims["at_hash"] = create_half_hash(access_token, ALGORITHM).decode()
        return self._sign(claims, "JWT")

    def verify_access_token(self, token: str) -> dict[str, Any]:
        """The claims of one of our access tokens; raises jwt.InvalidTokenError otherwise."""
        header = jwt.get_unverified_header(token)
        if header.get("typ") != "at+jwt":
            raise jwt.InvalidTokenError("not an access token")
        return jwt.decode(token, self._public_key(header), algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                          options={"require": ["exp", "iat", "nbf", "sub"]}, leeway=30)

    def verify_id_token_hint(self, token: str) -> dict[str, Any]:
        """An id token we issued, expired or not (RP-initiated logout sends old ones)."""
        header = jwt.get_unverified_header(token)
        return jwt.decode(token, self._public_key(header), algorithms=[ALGORITHM], issuer=self.issuer,
                          options={"verify_exp": False, "verify_aud": False, "require": ["sub", "aud"]})

    def _public_key(self, header: dict[str, Any]):
        key = self.keys.public_key(str(header.get("kid")))
        if key is None:
            raise jwt.InvalidTokenError("unknown kid")
        return key

    def _sign(self, claims: dict[str, Any], typ: str) -> str:
        key = self.keys.current()
        return jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": typ})
