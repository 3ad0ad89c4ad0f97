"""Login rate limiting: when failed logins lock an account or block an address.

Pure: the failures and the current time are inputs; the store counts them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    account_failures: int = 5
    account_window: timedelta = timedelta(minutes=15)
    account_lock: timedelta = timedelta(minutes=15)
    address_failures: int = 20
    address_window: timedelta = timedelta(minutes=15)
    address_block: timedelta = timedelta(minutes=15)


def lock_after(failures: Sequence[datetime], now: datetime, limit: int, window: timedelta, duration: timedelta) -> datetime | None:
    """The end of a lock that starts now, if the failures counted since the last reset
    (a success, or the end of the last lock) reach `limit` within `window`; else None.
    `failures` includes the one that just happened."""
    recent = [at for at in failures if now - window < at <= now]
    return now + duration if len(recent) >= limit else None


def active_until(lock_ends: Sequence[datetime], now: datetime) -> datetime | None:
    """The latest lock end still in the future, or None when nothing is locked now."""
    running = [end for end in lock_ends if end > now]
    return max(running) if running else None
