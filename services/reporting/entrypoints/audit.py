"""The audit view's backend: an aggregate's history from whichever service keeps it.

Reporting holds no events itself; it asks the services (their /history endpoints),
so the dashboard shows one history across services. Revealing personal data is
forwarded to the owning service, which records the disclosure before answering.
Each request to a service carries the caller's own token: the service decides what the
caller may read there, and records the caller, never reporting, as the reader.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Query, Request

from shared.identity.browser import session_token


def add_audit_routes(http: FastAPI, peer_urls: dict[str, str]) -> None:
    @http.get("/audit/history/{ref}", summary="审计: 任一业务对象的完整历史 History of any aggregate, across services")
    async def history(ref: str, request: Request, as_of: str | None = Query(None, description="ISO 8601 with offset")) -> dict[str, Any]:
        params = {"as_of": as_of} if as_of else {}
        found = []
        async with httpx.AsyncClient(timeout=10, headers=_callers_token(request)) as client:
            for service, url in peer_urls.items():
                response = await _get(client, f"{url}/history/{ref}", params)
                if response is not None and response.status_code == 200:
                    found.append(response.json())
                elif response is not None and response.status_code in (401, 403, 422):
                    raise HTTPException(response.status_code, detail=response.json().get("detail"))
        if not found:
            raise HTTPException(404, detail=f"no service knows {ref!r}")
        return {"ref": ref, "as_of": as_of, "histories": found}

    @http.post("/audit/history/{ref}/reveal", summary="审计: 查阅个人信息 (查阅行为本身被记录) Reveal personal data (the reading is recorded)")
    async def reveal(ref: str, request: Request) -> dict[str, Any]:
        body = await request.json()
        async with httpx.AsyncClient(timeout=10, headers=_callers_token(request)) as client:
            for url in peer_urls.values():
                try:
                    response = await client.post(f"{url}/history/{ref}/reveal", json=body)
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    return response.json()
                if response.status_code in (401, 403, 422):
                    raise HTTPException(response.status_code, detail=response.json().get("detail"))
        raise HTTPException(404, detail=f"no service can reveal {ref!r}")


def _callers_token(request: Request) -> dict[str, str]:
    """The caller's own token, whether it came as a bearer header or in the dashboard's session cookie."""
    if "authorization" in request.headers:
        return {"authorization": request.headers["authorization"]}
    token = session_token(request.headers.get("cookie", ""), request.method, request.headers.get("x-csrf-token"))
    return {"authorization": f"Bearer {token}"} if token else {}


async def _get(client: httpx.AsyncClient, url: str, params: dict[str, str]) -> httpx.Response | None:
    try:
        return await client.get(url, params=params)
    except httpx.HTTPError:
        return None  # a service that is down does not hide the others' histories
