from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    store_url: str = Field(description="The read models' database: sqlite:///path or postgresql://…")
    oidc_browser_client_id: str = Field("fpb-console", description="The issuer's public client the dashboard's browser login uses (authorization code + PKCE); its redirect URI is this service's /login/callback")
    peer_urls: dict[str, str] = Field(default_factory=dict, description='The event-sourced services\' HTTP URLs, for the audit view (JSON: {"intake": "http://…", …})')
    sex_ratio_low: float = Field(103.0, description="Lower edge of the normal sex-ratio band (boys per 100 girls)")
    sex_ratio_high: float = Field(110.0, description="Upper edge: above it a township gets an early warning (预警)")
    sex_ratio_min_births: int = Field(30, description="Fewer births than this: no warning, too few to mean something")
    calendar_override_path: Path | None = Field(None, description="Holiday arrangements the calendar library lacks (default: shared/calendar_override.json), for working days")
    scorecard_path: Path | None = Field(None, description="The scorecard's indicators, weights and vetoes (default: services/reporting/scorecard.json)")
    rebuild_projectors: int = Field(2, ge=1, le=8, description="Processes that each read, validate, project and write a rebuild's batches, taking turns (RSS measured in `fpb bench`). Two are fastest on 2 cores (measured); with more cores, more, until reading and writing in turn become the bound")
