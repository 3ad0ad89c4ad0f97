"""A patient scanned by ultrasound, then terminated without a medical indication
within a short window (the sex-determination-then-selection pattern)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

PATTERN = "ultrasound_then_termination"


@dataclass(frozen=True)
class ScanThenTerminationRule:
    window_days: int = 30


def scans_before_termination(scans: Sequence[date], terminated_on: date, medical_indication: str | None, rule: ScanThenTerminationRule) -> list[date]:
    """The scans on or up to `window_days` before the termination (none when the
    termination has a medical indication)."""
    if (medical_indication or "").strip():
        return []
    return [scanned for scanned in scans if 0 <= (terminated_on - scanned).days <= rule.window_days]
