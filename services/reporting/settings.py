from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    store_url: str = Field(description="The read models' database: sqlite:///path or postgresql://…")
