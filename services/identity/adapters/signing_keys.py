"""The provider's RSA signing keys, as PEM files in the key directory (mode 0600).

The newest file signs; the JWKS publishes it and the one before, so tokens signed just
before a rotation still verify until they expire. Rotating is writing a new file
(`rotate`, or `fpb users rotate-key`); a running provider notices the directory change
on its next use, without a restart. Keys are made by `cryptography`; the `kid` is the
RFC 7638 thumbprint computed by joserfc.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from joserfc.jwk import RSAKey

PREFIX = "signing-"
PUBLISHED = 2  # current and previous


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: RSAPrivateKey
    public_jwk: dict[str, Any]


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "wb") as out:
        out.write(data)


class KeyRing:
    def __init__(self, key_dir: Path, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.key_dir = key_dir
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: tuple[str, ...] = ()
        self._keys: list[SigningKey] = []

    def ensure(self) -> SigningKey:
        """The current key, generating the first one when the directory has none."""
        self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self._files():
            self.rotate()
        return self.current()

    def rotate(self) -> SigningKey:
        """Write a new RSA 2048 key; it signs from now on, the old one stays published."""
        self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        name = f"{PREFIX}{self._clock().strftime('%Y%m%dT%H%M%S%f')}.pem"
        _write_private(self.key_dir / name, pem)
        return self.current()

    def current(self) -> SigningKey:
        return self._load()[-1]

    def published(self) -> list[SigningKey]:
        return self._load()[-PUBLISHED:]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{**k.public_jwk, "kid": k.kid, "use": "sig", "alg": "RS256"} for k in reversed(self.published())]}

    def public_key(self, kid: str):
        for key in self.published():
            if key.kid == kid:
                return key.private_key.public_key()
        return None

    def _files(self) -> list[Path]:
        return sorted(self.key_dir.glob(f"{PREFIX}*.pem"))

    def _load(self) -> list[SigningKey]:
        files = self._files()
        names = tuple(f.name for f in files)
        with self._lock:
            if names != self._seen:  # a rotation happened (or first use): read the files again
                keys = []
                for path in files[-PUBLISHED:]:
                    jwk = RSAKey.import_key(path.read_bytes())
                    keys.append(SigningKey(jwk.thumbprint(), jwk.private_key, dict(jwk.as_dict(private=False))))
                self._keys, self._seen = keys, names
            if not self._keys:
                raise RuntimeError(f"no signing key in {self.key_dir}")
            return list(self._keys)
