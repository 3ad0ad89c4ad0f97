"""Loads the bureau's duty register from its JSON file (file I/O lives here, not in domain/)."""

from __future__ import annotations

import json
from pathlib import Path

from services.intake.domain.routing import DutyRegister

DEFAULT_PATH = Path(__file__).with_name("duty_register.json")


def load_duty_register(path: Path | None = None) -> DutyRegister:
    source = Path(path) if path is not None else DEFAULT_PATH
    with source.open(encoding="utf-8") as handle:
        data = json.load(handle)
    try:
        return DutyRegister.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc
