from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings


class VerificationSettings(ServiceSettings):
    # The personal-data key store, to read the details the checks need (ages, children,
    # household). Without it (or after a person's key was erased) those checks report
    # the information as missing; matching never needs it (person_refs).
    keystore_url: str | None = Field(None, description="sqlite:///path or postgresql://…")
    key_dir: Path | None = Field(None, description="Directory holding master.key and matching.key")
    policy_table_path: Path | None = None  # default: adapters/policy_table.json
    subsidy_policy_path: Path | None = None  # default: adapters/subsidy_policy.json
    calendar_override_path: Path | None = None  # default: shared/calendar_override.json
    today: date | None = Field(None, description="Fixes 'today' (demos, tests); default: the clock, China time")
    warning_sweep_seconds: float = Field(300.0, description="How often overdue warnings are raised")
