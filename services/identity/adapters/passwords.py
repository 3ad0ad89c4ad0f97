"""Password and client-secret hashes: argon2id through argon2-cffi (no home-made crypto)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, time_cost: int = 3, memory_cost: int = 65536, parallelism: int = 4) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)
        # Verified against when the account is unknown or has no password, so the answer
        # takes as long as for a real account (no username oracle by timing).
        self._dummy = self._hasher.hash("not a password of anyone")

    def hash(self, secret: str) -> str:
        return self._hasher.hash(secret)

    def verify(self, stored_hash: str | None, secret: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy, secret) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False
