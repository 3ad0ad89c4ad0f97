from __future__ import annotations

from pathlib import Path

from shared.settings import PersonalDataSettings


class IntakeSettings(PersonalDataSettings):
    duty_register_path: Path | None = None  # default: the register shipped with the code
