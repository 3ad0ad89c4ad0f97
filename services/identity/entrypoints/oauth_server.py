"""Authlib's OAuth 2 authorization server, adapted to Starlette/FastAPI.

Library choice: Authlib's framework-neutral server (`authlib.oauth2.rfc6749`
AuthorizationServer with AuthorizationCodeGrant + rfc7636 CodeChallenge, RefreshTokenGrant
and ClientCredentialsGrant) does the protocol: parameter checks, exact redirect_uri
matching, client authentication (none / client_secret_basic / client_secret_post), PKCE
verification and RFC 6749 error bodies. Authlib ships integrations for Flask and Django
only, so this module is the small Starlette adapter: the route reads the form first
(Starlette's body is async, Authlib's server is not) and hands a `ReadRequest` over.
Tokens are signed with PyJWT (application/tokens.py), which the resource servers use to
verify them too: one library for the JWTs on both sides, RS256 only.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationServer, ClientMixin, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.models import AuthorizationCodeMixin, TokenMixin
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.responses import JSONResponse, Response

from services.identity.adapters.directory import DirectoryStore, StoredCode, StoredRefreshToken
from services.identity.application.ports import Clock, PasswordHashes
from services.identity.application.tokens import Subject, TokenIssuer
from services.identity.domain import events as ev
from services.identity.domain.accounts import Account, Client
from services.identity.domain.events import SecurityEvent


ERROR_DESCRIPTIONS = {
    "invalid_grant": "the code or refresh token is invalid, expired, used already or revoked, or was issued to another client",
    "invalid_client": "client authentication failed",
    "unsupported_grant_type": "grant_type must be authorization_code, refresh_token or client_credentials",
}


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class ReadRequest:
    """A request whose body was already read: what Authlib's synchronous server needs."""

    method: str
    uri: str  # built on the issuer URL: what the client addressed, whatever the proxy did
    headers: Any
    query: list[tuple[str, str]]
    form: list[tuple[str, str]] = field(default_factory=list)
    remote_addr: str | None = None


class _Payload(OAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    def __init__(self, read: ReadRequest) -> None:
        super().__init__(read.method, read.uri, headers=read.headers)
        self.payload = _Payload(read.query + read.form)
        self._args = {k: v for k, v in reversed(read.query)}
        self._form = {k: v for k, v in reversed(read.form)}
        self.remote_addr = read.remote_addr

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class OAuthClient(ClientMixin):
    def __init__(self, client: Client, passwords: PasswordHashes) -> None:
        self.client = client
        self._passwords = passwords

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is always required, and matched exactly

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return " ".join(self.client.scopes)
        return " ".join(s for s in scope.split() if s in self.client.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return self.client.accepts_redirect(redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        return not self.client.public and self._passwords.verify(self.client.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client.public:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.client.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.client.grant_types


class OAuthCode(AuthorizationCodeMixin):
    def __init__(self, stored: StoredCode) -> None:
        self.stored = stored

    def get_redirect_uri(self) -> str:
        return self.stored.redirect_uri

    def get_scope(self) -> str:
        return self.stored.scope

    def get_nonce(self) -> str | None:
        return self.stored.nonce

    def get_auth_time(self) -> int:
        return int(self.stored.auth_time.timestamp())


class OAuthRefreshToken(TokenMixin):
    def __init__(self, stored: StoredRefreshToken) -> None:
        self.stored = stored

    def check_client(self, client: OAuthClient) -> bool:
        return client.get_client_id() == self.stored.client_id

    def get_scope(self) -> str:
        return self.stored.scope


class S256CodeChallenge(CodeChallenge):
    """PKCE with S256 only, and required of every public client (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if grant.request.client.client.public and not data.get("code_challenge"):
            raise InvalidRequestError("public clients must send code_challenge (S256)")  # ASCII only: RFC 6749 §5.2
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: OAuthCode) -> str | None:
        return authorization_code.stored.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code: OAuthCode) -> str | None:
        return authorization_code.stored.code_challenge_method


class IdToken:
    """OpenID Connect: an id_token beside the access token when the scope has `openid`."""

    def __call__(self, grant: Any) -> None:
        grant.register_hook("after_create_token_response", self.add_id_token)

    @staticmethod
    def add_id_token(grant: Any, response: tuple[int, dict, list]) -> None:
        _, token, _ = response
        request = grant.request
        if "openid" not in (token.get("scope") or "").split():
            return
        code: StoredCode | None = request.authorization_code.stored if request.authorization_code else None
        server: IdentityProvider = grant.server
        token["id_token"] = server.tokens.id_token(
            Subject.of(request.user), request.client.get_client_id(), code.nonce if code else None,
            code.auth_time if code else server.clock(), token["access_token"],
        )


class CodeGrant(AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: StarletteOAuth2Request) -> None:
        server: IdentityProvider = self.server
        now = server.clock()
        data = request.payload.data
        stored = StoredCode(
            request.client.get_client_id(), request.user.username, data["redirect_uri"], request.scope or "",
            data.get("code_challenge"), data.get("code_challenge_method"), data.get("nonce"), now, str(uuid.uuid4()),
        )
        server.directory.save_code(digest(code), stored, now + timedelta(seconds=server.code_lifetime))

    def query_authorization_code(self, code: str, client: OAuthClient) -> OAuthCode | None:
        server: IdentityProvider = self.server
        now = server.clock()
        found = server.directory.claim_code(digest(code), client.get_client_id(), now)
        if isinstance(found, str):  # a second use: whoever holds the tokens of the first may be a thief
            family = found.split(":", 1)[1]
            server.directory.revoke_family(family, now, SecurityEvent(ev.AUTHORIZATION_CODE_REUSED, now, client_id=client.get_client_id(),
                                                                      remote_addr=self.request.remote_addr, detail={"family": family}))
            return None
        return OAuthCode(found) if found else None

    def delete_authorization_code(self, authorization_code: OAuthCode) -> None:
        pass  # marked used when claimed

    def authenticate_user(self, authorization_code: OAuthCode) -> Account | None:
        return self.server.active_account(authorization_code.stored.username)


class RefreshGrant(RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every use gives a new one, the old one is spent

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthRefreshToken | None:
        server: IdentityProvider = self.server
        now = server.clock()
        found = server.directory.claim_refresh_token(digest(refresh_token), now)
        if isinstance(found, str):  # a spent token came back: revoke the whole family (RFC 9700 §4.14.2)
            family = found.split(":", 1)[1]
            server.directory.revoke_family(family, now, SecurityEvent(ev.REFRESH_TOKEN_REUSED, now, client_id=self.request.payload.client_id,
                                                                      remote_addr=self.request.remote_addr, detail={"family": family}))
            return None
        return OAuthRefreshToken(found) if found else None

    def authenticate_user(self, refresh_token: OAuthRefreshToken) -> Account | None:
        return self.server.active_account(refresh_token.stored.username)

    def revoke_old_credential(self, refresh_token: OAuthRefreshToken) -> None:
        pass  # marked rotated when claimed, in the same statement that checked it


class MachineGrant(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class IdentityProvider(AuthorizationServer):
    def __init__(self, directory: DirectoryStore, passwords: PasswordHashes, tokens: TokenIssuer, clock: Clock,
                 code_lifetime: int, refresh_lifetime: int) -> None:
        super().__init__(scopes_supported=None)
        self.directory = directory
        self.passwords = passwords
        self.tokens = tokens
        self.clock = clock
        self.code_lifetime = code_lifetime
        self.refresh_lifetime = refresh_lifetime
        self.register_token_generator("default", self.generate_bearer_token)
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True), IdToken()])
        self.register_grant(RefreshGrant)
        self.register_grant(MachineGrant)

    def active_account(self, username: str) -> Account | None:
        found = self.directory.account(username)
        return found[0] if found and not found[0].disabled else None

    def query_client(self, client_id: str) -> OAuthClient | None:
        client = self.directory.client(client_id)
        return OAuthClient(client, self.passwords) if client else None

    def generate_bearer_token(self, grant_type: str, client: OAuthClient, user: Account | None = None, scope: str | None = None,
                              expires_in: int | None = None, include_refresh_token: bool = True) -> dict[str, Any]:
        allowed = client.get_allowed_scope(scope) if scope else ("" if user is None else client.get_allowed_scope(None))
        subject = Subject.of(user) if user is not None else Subject(client.get_client_id(), client.get_client_id(), client.client.grants)
        token: dict[str, Any] = {
            "token_type": "Bearer",
            "access_token": self.tokens.access_token(subject, client.get_client_id(), allowed),
            "expires_in": self.tokens.access_lifetime,
            "scope": allowed,
        }
        if include_refresh_token and user is not None:
            token["refresh_token"] = secrets.token_urlsafe(32)  # 256 random bits, kept only as a digest
        return token

    def save_token(self, token: dict[str, Any], request: StarletteOAuth2Request) -> None:
        now: datetime = self.clock()
        client_id = request.client.get_client_id()
        if "refresh_token" in token:
            family = (request.refresh_token.stored.family_id if request.refresh_token else request.authorization_code.stored.family_id)
            stored = StoredRefreshToken(family, client_id, request.user.username, token["scope"])
            self.directory.save_refresh_token(digest(token["refresh_token"]), stored, now, now + timedelta(seconds=self.refresh_lifetime))
        if request.payload.grant_type == "client_credentials":
            self.directory.record(SecurityEvent(ev.TOKEN_ISSUED, now, actor=client_id, client_id=client_id, remote_addr=request.remote_addr,
                                                detail={"grant_type": "client_credentials", "scope": token["scope"]}))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass

    def create_oauth2_request(self, request: ReadRequest | StarletteOAuth2Request) -> StarletteOAuth2Request:
        return request if isinstance(request, StarletteOAuth2Request) else StarletteOAuth2Request(request)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        if isinstance(body, dict) and "error" in body:  # RFC 6749 §5.2: say what is wrong, always
            body.setdefault("error_description", ERROR_DESCRIPTIONS.get(body["error"], body["error"].replace("_", " ")))
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=dict(headers))
        return Response(body or "", status_code=status, headers=dict(headers))
