"""A patient scanned by ultrasound, then terminated without a medical indication
within a short window (the sex-determination-then-selection pattern).

Detected when the termination arrives after the scan, not the other way round (a
scan recorded late, after the termination, is not paired). Why: pairing it would mean
remembering, per patient, that a termination without medical indication took place:
a health fact the detectors read through the audited reveal port and deliberately
never store (only where, by whom and when a patient was scanned is remembered). The
late-termination and sex-ratio detectors do not depend on arrival order."""

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
