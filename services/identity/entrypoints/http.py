"""The provider's HTTP endpoints: discovery, JWKS, authorize (login form), token,
userinfo, logout, health and readiness."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import jwt
import structlog
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from services.identity.adapters.directory import DirectoryStore
from services.identity.application.login import ACCOUNT_LOCKED, ADDRESS_BLOCKED, LoginOutcome, LoginService
from services.identity.application.tokens import TokenIssuer
from services.identity.domain import events as ev
from services.identity.domain.events import SecurityEvent
from services.identity.entrypoints.login_page import error_page, login_form, signed_out_page
from services.identity.entrypoints.oauth_server import IdentityProvider, ReadRequest

log = structlog.get_logger("identity")
CHINA = timezone(timedelta(hours=8))
GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
CLAIMS = ["iss", "aud", "sub", "exp", "iat", "nbf", "jti", "client_id", "scope", "name", "roles", "sections", "township", "agency"]


def refusal_message(outcome: LoginOutcome) -> str:
    until = outcome.until.astimezone(CHINA).strftime("%H:%M") if outcome.until else ""
    if outcome.refusal == ACCOUNT_LOCKED:
        return f"账户已锁定，请于 {until}（北京时间）后再试 / account locked until {until} (China time)"
    if outcome.refusal == ADDRESS_BLOCKED:
        return f"此地址登录失败次数过多，请于 {until}（北京时间）后再试 / too many failed logins from this address; try again after {until} (China time)"
    return "用户名或密码错误 / wrong username or password"


def identity_http(provider: IdentityProvider, login: LoginService, tokens: TokenIssuer, directory: DirectoryStore, issuer: str) -> FastAPI:
    http = FastAPI(title="fpb identity", version="1", docs_url=None, redoc_url=None)
    base = issuer.rstrip("/")

    async def read(request: Request) -> ReadRequest:
        form = list(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)) if request.method == "POST" else []
        uri = f"{base}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
        return ReadRequest(request.method, uri, request.headers, list(request.query_params.multi_items()), form,
                           request.client.host if request.client else None)

    def authorize_error(read_request: ReadRequest, error: OAuth2Error) -> Response:
        if error.redirect_uri:  # the client and its redirect_uri are known good: tell the client (RFC 6749 §4.1.2.1)
            return provider.handle_error_response(read_request, error)
        # Never redirect to an unchecked URI: show it to the person instead.
        return HTMLResponse(error_page(f"{error.error}: {error.description or ''}"), status_code=400)

    @http.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"],
            "grant_types_supported": GRANT_TYPES,
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "claims_supported": CLAIMS,
        }

    @http.get("/jwks")
    async def jwks() -> JSONResponse:
        return JSONResponse(await run_in_threadpool(tokens.keys.jwks), headers={"Cache-Control": "public, max-age=300"})

    @http.get("/authorize", response_class=HTMLResponse)
    async def authorize_form(request: Request) -> Response:
        read_request = await read(request)
        try:
            await run_in_threadpool(provider.get_consent_grant, read_request)
        except OAuth2Error as error:
            return authorize_error(read_request, error)
        return HTMLResponse(login_form(dict(request.query_params)))

    @http.post("/authorize", response_class=HTMLResponse)
    async def authorize_login(request: Request) -> Response:
        read_request = await read(request)
        try:
            grant = await run_in_threadpool(provider.get_consent_grant, read_request)
        except OAuth2Error as error:
            return authorize_error(read_request, error)
        fields = dict(read_request.query + read_request.form)
        username, password = fields.get("username", "").strip(), fields.get("password", "")
        outcome = await run_in_threadpool(login.login, username, password, read_request.remote_addr, fields.get("client_id"))
        if outcome.account is None:
            status = 429 if outcome.refusal in (ACCOUNT_LOCKED, ADDRESS_BLOCKED) else 401
            return HTMLResponse(login_form(fields, refusal_message(outcome), username), status_code=status)
        return await run_in_threadpool(provider.create_authorization_response, grant.request, outcome.account, grant)

    @http.post("/token")
    async def token(request: Request) -> Response:
        return await run_in_threadpool(provider.create_token_response, await read(request))

    def bearer_claims(request: Request) -> dict[str, Any] | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value:
            return None
        try:
            return tokens.verify_access_token(value.strip())
        except jwt.InvalidTokenError:
            return None

    @http.api_route("/userinfo", methods=["GET", "POST"])
    async def userinfo(request: Request) -> Response:
        claims = bearer_claims(request)
        if claims is None:
            return JSONResponse({"error": "invalid_token", "error_description": "需要有效的访问令牌 a valid bearer access token is needed"},
                                status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return JSONResponse({k: claims.get(k) for k in ("sub", "name", "roles", "sections", "township", "agency")})

    @http.api_route("/logout", methods=["GET", "POST"])
    async def logout(request: Request) -> Response:
        """RP-initiated logout: the account's refresh tokens for that client are revoked.
        The provider keeps no browser session (every /authorize asks for the password),
        so ending the session is exactly that revocation."""
        read_request = await read(request)
        fields = dict(read_request.query + read_request.form)
        subject = client_id = None
        if fields.get("id_token_hint"):
            try:
                hint = tokens.verify_id_token_hint(fields["id_token_hint"])
                subject, client_id = hint["sub"], hint["aud"] if isinstance(hint["aud"], str) else hint["aud"][0]
            except jwt.InvalidTokenError:
                pass
        elif (claims := bearer_claims(request)) is not None:
            subject, client_id = claims["sub"], claims["client_id"]
        if subject is None or client_id is None:
            return JSONResponse({"error": "invalid_request", "error_description": "需要 id_token_hint 或访问令牌 id_token_hint or a bearer access token is needed"}, status_code=400)
        if fields.get("client_id") and fields["client_id"] != client_id:
            return JSONResponse({"error": "invalid_request", "error_description": "client_id does not match the id_token_hint"}, status_code=400)
        now = provider.clock()
        recorded = SecurityEvent(ev.LOGGED_OUT, now, actor=subject, account=subject, client_id=client_id, remote_addr=read_request.remote_addr)
        revoked = await run_in_threadpool(directory.revoke_refresh_tokens_of, subject, client_id, now, recorded)
        log.info("logged_out", account=subject, client_id=client_id, refresh_tokens_revoked=revoked)
        target = fields.get("post_logout_redirect_uri")
        client = await run_in_threadpool(directory.client, client_id)
        if target and client is not None and client.accepts_redirect(target):
            params = [("state", fields["state"])] if fields.get("state") else []
            return RedirectResponse(add_params_to_uri(target, params), status_code=302)
        return HTMLResponse(signed_out_page())

    @http.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "service": "identity"}

    @http.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            await asyncio.wait_for(asyncio.to_thread(directory.ping), 2.0)
            ready = True
        except Exception:  # noqa: BLE001 - the directory database does not answer
            ready = False
        return JSONResponse({"ready": ready, "checks": {"store": ready}}, status_code=200 if ready else 503)

    return http
