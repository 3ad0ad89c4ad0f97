from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic import Field

from shared.settings import ServiceSettings


class VerificationSettings(ServiceSettings):
    # The personal-data key store, to read the details the checks need (ages, children,
    # household). Without it (or after a person's key was erased) those checks report
    # the information as missing; matching never needs it (person_refs).
    keystore_url: str | None = Field(None, description="The personal-data key store (sqlite:///path or postgresql://…), to read what the checks need; without it they report it missing")
    key_dir: Path | None = Field(None, description="Directory holding master.key and matching.key")
    policy_table_path: Path | None = Field(None, description="The versioned application rules (审核规则表); default: services/verification/adapters/policy_table.json")
    subsidy_policy_path: Path | None = Field(None, description="The versioned reward and special assistance rules and amounts; default: services/verification/adapters/subsidy_policy.json")
    calendar_override_path: Path | None = Field(None, description="Holiday arrangements the calendar library lacks (default: shared/calendar_override.json), for working days")
    today: date | None = Field(None, description="Fixes 'today' (demos, tests); default: the clock, China time")
    warning_sweep_seconds: float = Field(300.0, description="How often overdue warnings are raised")
