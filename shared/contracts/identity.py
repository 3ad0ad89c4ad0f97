"""Resident ID numbers (居民身份证号码, GB 11643-1999).

18 characters: 6-digit region code, 8-digit birth date (YYYYMMDD), 3-digit sequence
(odd for men, even for women), and a mod-11 check character (0-9 or X).
"""

from __future__ import annotations

import re
from datetime import date

_DIGITS_17 = re.compile(r"[0-9]{17}")

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class ResidentIdError(ValueError):
    """The text is not a valid 18-character resident ID number."""


def check_character(first_17_digits: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if not _DIGITS_17.fullmatch(first_17_digits):
        raise ResidentIdError("the first 17 characters must be digits")
    total = sum(int(d) * w for d, w in zip(first_17_digits, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise_resident_id(text: str) -> str:
    """Return the ID in canonical form (upper-case X) or raise ResidentIdError."""
    candidate = text.strip().upper()
    if len(candidate) != 18:
        raise ResidentIdError(f"must be 18 characters, got {len(candidate)}")
    body, check = candidate[:17], candidate[17]
    if not _DIGITS_17.fullmatch(body):
        raise ResidentIdError("the first 17 characters must be digits")
    try:
        birth_date_of(candidate)
    except ValueError as exc:
        raise ResidentIdError(f"birth date part is not a date ({exc})") from exc
    expected = check_character(body)
    if check != expected:
        raise ResidentIdError(f"check digit is {check!r}, expected {expected!r}")
    return candidate


def birth_date_of(resident_id: str) -> date:
    """The birth date encoded in characters 7-14."""
    part = resident_id[6:14]
    return date(int(part[0:4]), int(part[4:6]), int(part[6:8]))


def sex_of(resident_id: str) -> str:
    """'M' or 'F' from the parity of the sequence code (character 17)."""
    return "M" if int(resident_id[16]) % 2 == 1 else "F"


def make_resident_id(region: str, birth: date, sequence: int) -> str:
    """Build a valid ID number (used by demo data and tests)."""
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + check_character(body)
