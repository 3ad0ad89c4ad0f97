"""One mechanism applies the policy table to every HTTP request of a service.

For each request: find the route it will reach, look its rule up (none: 403, default
deny), let an open route through, else verify the bearer token (401 without a valid
one), decide the right (403 naming it), apply the scope that the policy says applies
on the route (a township officer's `township_code` filter; a liaison's `{agency}`),
and hand the handler the principal and the grant on `request.state.access`.
A request for no route at all goes on to the application's own 404.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import structlog
from fastapi import FastAPI, HTTPException, Request
from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.identity.browser import CSRF_HEADER, session_token
from shared.identity.policy import Grant, Policy, Refusal
from shared.identity.principal import Principal
from shared.identity.tokens import InvalidTokenError, TokenVerifier

log = structlog.get_logger("access")


@dataclass(frozen=True)
class Access:
    principal: Principal
    grant: Grant


def routes_of(app: FastAPI) -> Iterator[tuple[str, BaseRoute]]:
    """(path template, route) of every route the app serves, in the router's order, the
    routes of included routers among them (FastAPI keeps those apart from app.routes)."""
    for context in iter_route_contexts(app.router.routes):
        yield context.path, context.route


def first_segment(template: str) -> str | None:
    """The literal first segment of a route's path ("/reports/{x}" → "reports", "/" → ""),
    None when it is a parameter."""
    segment = template.split("/", 2)[1] if template.startswith("/") and len(template) > 1 else ""
    return None if "{" in segment else segment


class RouteTable:
    """The routes a request may reach, listed once: listing them walks every included
    router, which would otherwise be done again at every request. Listed again when the
    app gains a route (services add theirs at assembly, before they serve)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._listed_at = -1
        self._routes: list[tuple[str, BaseRoute]] = []
        self._by_first_segment: dict[str, list[tuple[str, BaseRoute]]] = {}
        self._any_first_segment: list[tuple[str, BaseRoute]] = []

    def _list(self) -> None:
        """Each route under the literal first segment of its path ("applications"): a request
        is matched only against the routes that can take it, in the router's order (matching
        all 45 of a service's routes in turn was 25-73 µs a request). A route whose first
        segment is a parameter can take any path: it stays in every list, in its place."""
        self._routes, self._listed_at = list(routes_of(self.app)), len(self.app.router.routes)
        segments = {first_segment(path) for path, _ in self._routes}
        self._by_first_segment = {
            segment: [(path, route) for path, route in self._routes if first_segment(path) in (segment, None)]
            for segment in segments if segment is not None
        }
        self._any_first_segment = [(path, route) for path, route in self._routes if first_segment(path) is None]

    def match(self, scope: Scope) -> tuple[str, dict[str, Any]] | None:
        """(path template, path parameters) of the route this request reaches
        ("/applications/{ref}"), or None when no route takes this path with this method."""
        if len(self.app.router.routes) != self._listed_at:
            self._list()
        requested = scope["path"].split("/", 2)[1] if scope["path"].startswith("/") else ""
        for path, route in self._by_first_segment.get(requested, self._any_first_segment):
            match, child = route.matches(scope)
            if match == Match.FULL:
                return (f"{path}/{{path}}" if isinstance(route, Mount) else path), dict(child.get("path_params", {}))
        return None


class AccessControl:
    """The ASGI middleware. `verifier` None: no issuer is configured, so every route
    that is not open answers 401 (deny, never allow, by default)."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI, service: str, policy: Policy, verifier: TokenVerifier | None) -> None:
        self.app, self.service, self.policy, self.verifier = app, service, policy, verifier
        self.routes = RouteTable(fastapi)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        matched = self.routes.match(scope)
        if matched is None:
            await self.app(scope, receive, send)  # 404 or 405 from the application, which reveals nothing
            return
        template, path_params = matched
        rule = self.policy.rule(self.service, scope["method"], template)
        if rule is None:
            await _refuse(send, Refusal(403, "authorization", f"{scope['method']} {template} 不在访问控制策略表中 / is not in the access policy (default deny)"))
            return
        if rule.open:
            await self.app(scope, receive, send)
            return
        principal = await self._authenticate(scope)
        if isinstance(principal, Refusal):
            await _refuse(send, principal, challenge=True)
            return
        decision = self.policy.decide(principal, rule)
        if isinstance(decision, Refusal):
            log.info("access_refused", service=self.service, route=f"{scope['method']} {template}", subject=principal.subject, right=rule.right)
            await _refuse(send, decision)
            return
        scoped = self._apply_scope(scope, path_params, rule.township, rule.agency, decision)
        if isinstance(scoped, Refusal):
            await _refuse(send, scoped)
            return
        scoped.setdefault("state", {})["access"] = Access(principal, decision)
        await self.app(scoped, receive, send)

    async def _authenticate(self, scope: Scope) -> Principal | Refusal:
        headers = dict(scope["headers"])
        header = headers.get(b"authorization", b"").decode("latin-1")
        scheme, _, token = header.partition(" ")
        if not header and b"cookie" in headers:
            # A browser's login session (shared/identity/browser.py): a change needs its CSRF
            # token too, since a cookie goes with any request another site makes the browser send.
            csrf = headers.get(CSRF_HEADER.encode(), b"").decode("latin-1") or None
            scheme, token = "bearer", session_token(headers[b"cookie"].decode("latin-1"), scope["method"], csrf) or ""
        if scheme.lower() != "bearer" or not token.strip():
            return Refusal(401, "authorization", "需要登录：缺少 Bearer 访问令牌 / a bearer access token is needed")
        if self.verifier is None:
            return Refusal(401, "authorization", "本服务未配置令牌签发方 (FPB_OIDC_ISSUER) / this service has no token issuer configured")
        try:
            return await self.verifier.verify(token.strip())
        except InvalidTokenError as error:
            client = scope.get("client")
            # The reason and where from, never the token itself.
            log.warning("token_refused", service=self.service, reason=error.reason, path=scope["path"], client=client[0] if client else None)
            return Refusal(401, "authorization", f"访问令牌无效 / the access token is not accepted: {error.reason}")

    def _apply_scope(self, scope: Scope, path_params: dict[str, Any], township_rule: str | None, agency_rule: str | None,
                     grant: Grant) -> Scope | Refusal:
        if grant.township is not None and township_rule == "filter":
            query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            asked = {value for name, value in query if name == "township_code"}
            if asked - {grant.township}:
                return Refusal(403, "township_code", f"只能查阅本乡镇 ({grant.township}) / only your own township ({grant.township}) may be read")
            query = [(n, v) for n, v in query if n != "township_code"] + [("township_code", grant.township)]
            scope = {**scope, "query_string": urlencode(query).encode("latin-1")}
        if grant.agency is not None and agency_rule == "path":
            if path_params.get("agency") != grant.agency:
                return Refusal(403, "agency", f"只能查阅向本单位共享的案件 ({grant.agency}) / only what was shared with {grant.agency} may be read")
        return scope


async def _refuse(send: Send, refusal: Refusal, challenge: bool = False) -> None:
    body = json.dumps({"detail": [{"field": refusal.field, "message": refusal.message}]}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if challenge:
        headers.append((b"www-authenticate", b'Bearer error="invalid_token"'))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_access(http: FastAPI, service: str, policy: Policy, verifier: TokenVerifier | None) -> None:
    http.add_middleware(AccessControl, fastapi=http, service=service, policy=policy, verifier=verifier)


# --- what handlers use ---------------------------------------------------------------


def access_of(request: Request) -> Access:
    access = getattr(request.state, "access", None)
    if access is None:  # a route reached without the middleware: never act for nobody
        raise HTTPException(401, detail=[{"field": "authorization", "message": "需要登录 / not authenticated"}])
    return access


def acting_officer(request: Request, claimed: Any = None) -> dict[str, str]:
    """The officer recorded in events: the token's subject, in one of the token's sections.
    A body `officer` is accepted only when it agrees with the token (the contract says so):
    its `id` must be the subject, its `section` one of the token's sections."""
    principal = access_of(request).principal
    claimed_id = getattr(claimed, "id", None) if claimed is not None else None
    claimed_section = getattr(claimed, "section", None) if claimed is not None else None
    if claimed_id is not None and claimed_id != principal.subject:
        raise HTTPException(403, detail=[{"field": "officer.id", "message": f"登录身份是 {principal.subject}，不能以 {claimed_id} 的名义操作 / you are logged in as {principal.subject!r}, not {claimed_id!r}"}])
    if claimed_section is not None:
        if claimed_section not in principal.sections:
            raise HTTPException(403, detail=[{"field": "officer.section", "message": f"{principal.subject} 不属于 {claimed_section} / {principal.subject!r} is not of {claimed_section}; yours: {', '.join(principal.sections) or 'none'}"}])
        return principal.as_officer(claimed_section)
    if len(principal.sections) == 1:
        return principal.as_officer(principal.sections[0])
    if not principal.sections:
        raise HTTPException(403, detail=[{"field": "officer.section", "message": f"{principal.subject} 不属于任何科室 / {principal.subject!r} belongs to no section"}])
    raise HTTPException(422, detail=[{"field": "officer.section", "message": f"请选择科室 / say which of your sections acts: {', '.join(principal.sections)}"}])


def township_scope(request: Request) -> str | None:
    """The only township the caller may see, or None for a county-wide caller."""
    return access_of(request).grant.township


def in_township_scope(request: Request, township_code: str | None) -> bool:
    scope = township_scope(request)
    return scope is None or township_code == scope
