"""The audit view's backend: an aggregate's history from whichever service keeps it.

Reporting holds no events itself; it asks the services (their /history endpoints),
so the dashboard shows one history across services. Revealing personal data is
forwarded to the owning service, which records the disclosure before answering.
The disclosure logs (who read whose personal data) are asked of every service and merged:
by reader, by record, by data subject, or by a person's resident ID number.
Each request to a service carries the caller's own token: the service decides what the
caller may read there, and records the caller, never reporting, as the reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Query, Request

from shared.identity.browser import session_token
from shared.observability.http import PersonQuery, checked_id_number


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

    @http.get("/audit/disclosures", summary="审计: 个人信息查阅记录 (各服务合并) Personal data disclosures, across services")
    async def disclosures(request: Request,
                          after: str | None = Query(None, max_length=500, description="Where each service's log was read up to: the last page's "
                                                    "next_after (service:position, comma-separated)"),
                          limit: int = Query(100, ge=1, le=1000, description="At most this many rows from each service"),
                          reader: str | None = Query(None, max_length=64, description="Only this reader's disclosures"),
                          aggregate: str | None = Query(None, max_length=64, description="Only disclosures of this record (aggregate id)"),
                          subject: str | None = Query(None, max_length=64, description="Only disclosures of this data subject (subject ref / person_ref)"),
                          ) -> dict[str, Any]:
        filters = {k: v for k, v in {"reader": reader, "aggregate": aggregate, "subject": subject}.items() if v is not None}
        positions = _positions(after)
        async with httpx.AsyncClient(timeout=10, headers=_callers_token(request)) as client:
            answers = await _ask_each(peer_urls, lambda service, url: _ask(
                client, "GET", f"{url}/disclosures", {**filters, "after": positions.get(service, 0), "limit": limit}))
        return _merged(answers, positions)

    @http.post("/audit/disclosures/of-person", summary="审计: 一个人的个人信息被谁查阅 (各服务合并) Disclosures of one person's data, across services")
    async def disclosures_of_person(request: Request, person: PersonQuery | None = None,
                                    after: str | None = Query(None, max_length=500, description="The last page's next_after (service:position, comma-separated)"),
                                    limit: int = Query(100, ge=1, le=1000, description="At most this many rows from each service")) -> dict[str, Any]:
        body = {"id_number": checked_id_number(person)}  # a bad number is refused here, before any service is asked
        positions = _positions(after)
        async with httpx.AsyncClient(timeout=10, headers=_callers_token(request)) as client:
            answers = await _ask_each(peer_urls, lambda service, url: _ask(
                client, "POST", f"{url}/disclosures/of-person", {"after": positions.get(service, 0), "limit": limit}, body))
        return _merged(answers, positions)


def _positions(after: str | None) -> dict[str, int]:
    """`intake:120,enforcement:8` -> {"intake": 120, "enforcement": 8}: each service's log has positions of its own."""
    positions: dict[str, int] = {}
    for part in filter(None, (after or "").split(",")):
        service, _, position = part.strip().partition(":")
        if not service or not position.isdigit():
            raise HTTPException(422, detail=[{"field": "after", "message": f"应为 服务:位置，以逗号分隔 / expected service:position pairs, comma-separated "
                                                                          f"(the last page's next_after), got {part!r}"}])
        positions[service] = int(position)
    return positions


async def _ask_each(peer_urls: dict[str, str], ask: Callable[[str, str], Awaitable[dict[str, Any] | None]]) -> dict[str, dict[str, Any] | None]:
    """Every service at once."""
    pages = await asyncio.gather(*(ask(service, url) for service, url in peer_urls.items()))
    return dict(zip(peer_urls, pages, strict=True))


async def _ask(client: httpx.AsyncClient, method: str, url: str, params: dict[str, Any], body: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One service's page of its disclosure log; None when the service keeps none (404) or is
    down. The service's own refusal (401, 403, 422) is the answer."""
    try:
        response = await client.request(method, url, params=params, json=body)
    except httpx.HTTPError:
        return None
    if response.status_code in (401, 403, 422):
        raise HTTPException(response.status_code, detail=response.json().get("detail"))
    if response.status_code == 404:
        return {"absent": True}
    if response.status_code != 200:
        return None
    return response.json()


def _merged(answers: dict[str, dict[str, Any] | None], positions: dict[str, int]) -> dict[str, Any]:
    """One list, oldest first; each service pages on from its own next_after. A service that
    could not be asked is named in `unavailable` (the list is then incomplete) and is asked
    again from the same position on the next page."""
    rows, next_positions, more, unavailable = [], dict(positions), False, []
    for service, page in answers.items():
        if page is None:
            unavailable.append(service)
            more = True
            continue
        if page.get("absent"):
            continue  # this service keeps no personal data, so no disclosure log
        rows += page["rows"]
        next_positions[service] = page["next_after"]
        more = more or page["more"]
    rows.sort(key=lambda row: (row["at"], row["service"], row["position"]))
    return {"title": "个人信息查阅记录 Personal data disclosures", "rows": rows,
            "next_after": ",".join(f"{service}:{position}" for service, position in sorted(next_positions.items())),
            "more": more, "unavailable": unavailable}


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
