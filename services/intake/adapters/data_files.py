"""Intake's data files, read and checked (file I/O lives here, not in domain/): the
bureau's duty register, and the retention rules with the lawful grounds for erasure."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from services.intake.domain.erasure import RetentionRules
from services.intake.domain.routing import DutyRegister

DUTY_REGISTER = Path(__file__).with_name("duty_register.json")
RETENTION_RULES = Path(__file__).parents[1] / "retention.json"

Parsed = TypeVar("Parsed")


def _load(path: Path | None, default: Path, parse: Callable[[Any], Parsed]) -> Parsed:
    source = Path(path) if path is not None else default
    with source.open(encoding="utf-8") as handle:
        data = json.load(handle)
    try:
        return parse(data)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc


def load_duty_register(path: Path | None = None) -> DutyRegister:
    return _load(path, DUTY_REGISTER, DutyRegister.from_dict)


def load_retention_rules(path: Path | None = None) -> RetentionRules:
    return _load(path, RETENTION_RULES, RetentionRules.from_dict)
