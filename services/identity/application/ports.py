"""What the use cases need from the outside world."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

Clock = Callable[[], datetime]  # aware UTC "now": an input, so tests can move time


class PasswordHashes(Protocol):
    def hash(self, secret: str) -> str: ...
    def verify(self, stored_hash: str | None, secret: str) -> bool: ...
