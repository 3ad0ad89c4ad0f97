"""The clients registered on every start (idempotent): the CLI, the staff console, Prometheus."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from services.identity.adapters.directory import DirectoryStore
from services.identity.application.ports import PasswordHashes
from services.identity.domain.accounts import Client, Grants

CLI_CLIENT = "fpb-cli"
CLI_REDIRECT = "http://127.0.0.1/callback"  # `fpb token` reads the code from Location, never follows it
CONSOLE_CLIENT = "fpb-console"
PROMETHEUS_CLIENT = "prometheus"
BROWSER_GRANTS = ("authorization_code", "refresh_token")
USER_SCOPES = ("openid", "profile")


def read_or_create_secret(path: Path) -> str:
    """The machine client's secret, made once (mode 0600) and kept across restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")
    return secret


def register_builtin_clients(directory: DirectoryStore, passwords: PasswordHashes, console_redirect_uris: Sequence[str], prometheus_secret_file: Path) -> None:
    directory.save_client(Client(CLI_CLIENT, public=True, redirect_uris=(CLI_REDIRECT,), grant_types=BROWSER_GRANTS, scopes=USER_SCOPES))
    directory.save_client(Client(CONSOLE_CLIENT, public=True, redirect_uris=tuple(console_redirect_uris), grant_types=BROWSER_GRANTS, scopes=USER_SCOPES))
    secret = read_or_create_secret(prometheus_secret_file)
    existing = directory.client(PROMETHEUS_CLIENT)
    # Hash again only when the file changed: argon2 on every start would be slow, and a
    # new salt each time would rewrite the row for nothing.
    if existing is None or not passwords.verify(existing.secret_hash, secret):
        secret_hash = passwords.hash(secret)
    else:
        secret_hash = existing.secret_hash
    directory.save_client(Client(PROMETHEUS_CLIENT, public=False, grant_types=("client_credentials",), scopes=(),
                                 grants=Grants(roles=("operations",)), secret_hash=secret_hash))
