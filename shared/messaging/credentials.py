"""NKey credentials of every broker client, and how a client connects with them.

`ensure_credentials(directory)` gives each user of the permission table
(nats_permissions.json) an NKey seed file `<user>.nk` (mode 0600, directory 0700),
keeping the seeds already there, so a restarted `fpb up` keeps its clients' keys.
The broker is given only the public keys. Seeds never go into the repository: `fpb up`
writes them under its data directory, production generates them with
`fpb credentials generate DIR` and mounts them as secrets.

A client connects with `NatsCredentials.connect_options()`:
`nats.connect(url, nkeys_seed=".../police.nk", inbox_prefix="_INBOX_police")`
(natscli: `nats --nkey police.nk --inbox-prefix _INBOX_police`). A `.creds` file
(decentralized JWT auth) is used the same way with `user_credentials=`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nkeys

from shared.messaging.nats_authorization import inbox_prefix, permissions, user_names

SEED_SUFFIX = ".nk"
SERVICE_USERS = ("intake", "verification", "enforcement", "reporting")
PROVISIONER = "provisioner"


class CredentialsError(RuntimeError):
    pass


@dataclass(frozen=True)
class NatsCredentials:
    """One client's credentials: an NKey seed file, or a .creds file (JWT + seed)."""

    user: str
    nkey_seed: Path | None = None
    creds: Path | None = None

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for nats.connect (and faststream's NatsBroker)."""
        options: dict[str, Any] = {"inbox_prefix": inbox_prefix(self.user)}
        if self.creds is not None:
            options["user_credentials"] = str(self.creds)
        elif self.nkey_seed is not None:
            options["nkeys_seed"] = str(self.nkey_seed)
        return options

    def endpoint_entry(self) -> dict[str, str]:
        """The shape of CONTRACT.md's endpoints.json `credentials` entries."""
        if self.creds is not None:
            return {"creds": str(self.creds)}
        return {"nkey_seed": str(self.nkey_seed)}

    def signer(self) -> tuple[str | None, nkeys.KeyPair]:
        """(user JWT or None, key pair) for clients that speak the protocol themselves (replay.py)."""
        if self.creds is not None:
            text = self.creds.read_text()
            jwt = _creds_block(text, "NATS USER JWT")
            seed = _creds_block(text, "USER NKEY SEED")
            return jwt, nkeys.from_seed(bytearray(seed.encode()))
        if self.nkey_seed is None:
            raise CredentialsError(f"no seed or creds file for NATS user {self.user!r}")
        return None, nkeys.from_seed(bytearray(self.nkey_seed.read_bytes().strip()))


def _creds_block(text: str, name: str) -> str:
    found = re.search(rf"-----BEGIN {name}-----\s*(\S+)\s*------END {name}------", text)
    if not found:
        raise CredentialsError(f"the .creds file has no {name} block")
    return found.group(1)


def new_seed() -> bytes:
    return nkeys.encode_seed(os.urandom(32), nkeys.PREFIX_BYTE_USER)


def public_key_of(seed_file: Path) -> str:
    pair = nkeys.from_seed(bytearray(seed_file.read_bytes().strip()))
    try:
        return pair.public_key.decode()
    finally:
        pair.wipe()


def _write_private(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)


def ensure_credentials(directory: Path, users: Iterable[str] | None = None) -> dict[str, NatsCredentials]:
    """A seed file per user (the whole permission table by default), created if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    result = {}
    for user in users or user_names():
        path = directory / f"{user}{SEED_SUFFIX}"
        if not path.exists():
            _write_private(path, new_seed() + b"\n")
        os.chmod(path, 0o600)  # also an older file copied in with looser rights
        result[user] = NatsCredentials(user, nkey_seed=path.resolve())
    return result


def load_credentials(directory: Path) -> dict[str, NatsCredentials]:
    """The credentials an operator put in `directory`: <user>.creds or <user>.nk per user."""
    if not directory.is_dir():
        raise CredentialsError(f"NATS credentials directory {directory} does not exist")
    result = {}
    for user in user_names():
        creds, seed = directory / f"{user}.creds", directory / f"{user}{SEED_SUFFIX}"
        if creds.exists():
            result[user] = NatsCredentials(user, creds=creds.resolve())
        elif seed.exists():
            result[user] = NatsCredentials(user, nkey_seed=seed.resolve())
    return result


def public_keys(credentials: Mapping[str, NatsCredentials]) -> dict[str, str]:
    return {user: public_key_of(c.nkey_seed) for user, c in credentials.items() if c.nkey_seed is not None}


def credentials_from_endpoints(entries: Mapping[str, Mapping[str, str]]) -> dict[str, NatsCredentials]:
    """The `credentials` of endpoints.json, back into NatsCredentials."""
    result = {}
    for user, entry in entries.items():
        if "creds" in entry:
            result[user] = NatsCredentials(user, creds=Path(entry["creds"]))
        elif "nkey_seed" in entry:
            result[user] = NatsCredentials(user, nkey_seed=Path(entry["nkey_seed"]))
    return result


def credentials_from_settings(user: str, nkey_seed_file: Path | None, creds_file: Path | None) -> NatsCredentials | None:
    """A service's own credentials from FPB_NATS_NKEY_SEED_FILE / FPB_NATS_CREDS_FILE (None: connect without)."""
    if nkey_seed_file is None and creds_file is None:
        return None
    return NatsCredentials(user, nkey_seed=nkey_seed_file, creds=creds_file)


def publisher_user(subject: str) -> str:
    """Whose credentials publish on `subject`: county.<source>.… → <source>,
    township.<code>.… → township-<code>."""
    parts = subject.split(".")
    if parts[0] == "township" and len(parts) > 2:
        user = f"township-{parts[1]}"
    elif parts[0] == "county" and len(parts) > 2:
        user = parts[1]
    else:
        raise CredentialsError(f"no publisher publishes on {subject!r}")
    if user not in permissions() or permissions()[user].source is None:
        raise CredentialsError(f"no publisher publishes on {subject!r}")
    return user


def receipts_subject(user: str) -> str:
    grant = permissions()[user]
    if grant.source is None:
        raise CredentialsError(f"{user!r} is not a publisher")
    return f"fp.receipts.{grant.source}"


def receipts_consumer(user: str) -> str:
    """The one RECEIPTS consumer a publisher may create and read (nats_permissions.json)."""
    return f"receipts-{user}"
