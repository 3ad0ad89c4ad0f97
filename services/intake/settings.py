from __future__ import annotations

from pathlib import Path

from pydantic import Field

from shared.settings import PersonalDataSettings


class IntakeSettings(PersonalDataSettings):
    duty_register_path: Path | None = Field(None, description="The bureau's duty register, for routing to the owning section; default: the register shipped with the code")
    retention_rules_path: Path | None = Field(None, description="Retention rules (保存期限) and lawful grounds for erasure; default: services/intake/retention.json")
