"""Reads the duty register file (the one intake routes by) into what case ownership needs."""

from __future__ import annotations

import json
from pathlib import Path

from services.enforcement.domain.ownership import DutyItems

# Intake's copy is the bureau's register; enforcement reads the same file, never intake's code.
DEFAULT_PATH = Path(__file__).resolve().parents[2] / "intake" / "adapters" / "duty_register.json"


def load_duty_items(path: Path | None = None) -> DutyItems:
    source = Path(path) if path is not None else DEFAULT_PATH
    data = json.loads(source.read_text(encoding="utf-8"))
    try:
        return {(int(duty["no"]), int(item["no"])): tuple(str(s) for s in item["sections"]) for duty in data["duties"] for item in duty["items"]}
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: duty register is malformed ({exc!r})") from exc
