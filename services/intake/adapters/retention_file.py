"""Loads the retention rules (保存期限) and the lawful grounds for erasure from their JSON file."""

from __future__ import annotations

import json
from pathlib import Path

from services.intake.domain.erasure import RetentionRules

DEFAULT_PATH = Path(__file__).parents[1] / "retention.json"


def load_retention_rules(path: Path | None = None) -> RetentionRules:
    source = Path(path) if path is not None else DEFAULT_PATH
    with source.open(encoding="utf-8") as handle:
        data = json.load(handle)
    try:
        return RetentionRules.from_dict(data)
    except ValueError as exc:
        raise ValueError(f"{source}: {exc}") from exc
