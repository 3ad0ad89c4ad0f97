"""Key material files: created once (by `fpb up` or an operator), then only read."""

from __future__ import annotations

import os
from pathlib import Path

from shared.privacy.keystore import KeyStore
from shared.privacy.protection import PersonalDataProtector

MASTER_KEY_FILE = "master.key"
MATCHING_KEY_FILE = "matching.key"
AUDIT_KEY_FILE = "audit_signing.key"  # Ed25519 private key, 32 raw bytes


def ensure_key_files(key_dir: Path) -> None:
    key_dir.mkdir(parents=True, exist_ok=True)
    for name in (MASTER_KEY_FILE, MATCHING_KEY_FILE, AUDIT_KEY_FILE):
        path = key_dir / name
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(os.urandom(32))


def read_key(key_dir: Path, name: str) -> bytes:
    path = key_dir / name
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"key file {path} is missing (run `fpb up`, or create 32 random bytes)") from None
    if len(key) != 32:
        raise ValueError(f"key file {path} must hold exactly 32 bytes, it holds {len(key)}")
    return key


def open_protector(keystore_url: str, key_dir: Path) -> PersonalDataProtector:
    keystore = KeyStore(keystore_url, read_key(key_dir, MASTER_KEY_FILE))
    return PersonalDataProtector(keystore, read_key(key_dir, MATCHING_KEY_FILE))
