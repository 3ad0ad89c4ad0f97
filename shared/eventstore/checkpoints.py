"""Signed checkpoints of a store's hash chain: files an auditor keeps elsewhere.

A checkpoint states "store S had P as its last chained event, with chain head H, at
time T", signed with the bureau's Ed25519 audit key. Whoever holds the checkpoint
files and the public key can later prove that history up to P has not been rewritten,
even by someone with full access to the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PUBLIC_KEY_FILE = "audit_public_key.pem"


@dataclass(frozen=True)
class Checkpoint:
    store: str
    position: int
    head: str  # hex of the chain link at `position`
    created_at: str  # ISO 8601 with offset
    key_id: str  # first 16 hex of SHA-256 of the raw public key
    signature: str = ""  # base64 Ed25519 over the canonical statement

    def statement(self) -> bytes:
        body = {"store": self.store, "position": self.position, "head": self.head, "created_at": self.created_at, "key_id": self.key_id}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(private_key: Ed25519PrivateKey, store: str, position: int, head: bytes, created_at: str) -> Checkpoint:
    unsigned = Checkpoint(store, position, head.hex(), created_at, key_id(private_key.public_key()))
    signature = base64.b64encode(private_key.sign(unsigned.statement())).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def is_authentic(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    try:
        public_key.verify(base64.b64decode(checkpoint.signature), checkpoint.statement())
    except (InvalidSignature, ValueError):
        return False
    return checkpoint.key_id == key_id(public_key)


def write(directory: Path, checkpoint: Checkpoint) -> Path:
    folder = directory / checkpoint.store
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{checkpoint.position:012d}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(checkpoint), indent=2) + "\n")
    temporary.replace(path)  # atomic: a reader never sees half a checkpoint
    return path


def read_all(directory: Path, store: str) -> list[Checkpoint]:
    folder = directory / store
    if not folder.is_dir():
        return []
    return sorted(
        (Checkpoint(**json.loads(path.read_text())) for path in folder.glob("*.json")),
        key=lambda checkpoint: checkpoint.position,
    )


def export_public_key(directory: Path, private_key: Ed25519PrivateKey) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PUBLIC_KEY_FILE
    pem = private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    path.write_bytes(pem)
    return path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    raw = path.read_bytes()
    if len(raw) != 32:
        raise ValueError(f"audit signing key {path} must hold 32 raw bytes, it holds {len(raw)}")
    return Ed25519PrivateKey.from_private_bytes(raw)


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key")
    return key
