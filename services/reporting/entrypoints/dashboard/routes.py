"""The dashboard (数据看板): static files served by reporting itself, no external CDN.

ECharts 5.6.0 (Apache-2.0, static/ECHARTS-LICENSE.txt) is vendored in static/; the
page reads the same JSON endpoints anyone can call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def add_dashboard(http: FastAPI) -> None:
    http.mount("/dashboard/static", StaticFiles(directory=STATIC), name="dashboard-static")

    @http.get("/dashboard", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @http.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/dashboard")
