"""The one place that assembles the built-in OpenID provider. Nothing connects at import.

It has no broker: its one dependency is its directory database, so it is run with a
plain uvicorn server here rather than shared.runtime's Service (which starts a broker)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import uvicorn
from fastapi import FastAPI

from services.identity.adapters.directory import DirectoryStore
from services.identity.adapters.passwords import Passwords
from services.identity.adapters.signing_keys import KeyRing
from services.identity.application.clients import register_builtin_clients
from services.identity.application.login import LoginService
from services.identity.application.ports import Clock
from services.identity.application.tokens import TokenIssuer
from services.identity.domain.lockout import LockoutPolicy
from services.identity.entrypoints.http import identity_http
from services.identity.entrypoints.oauth_server import IdentityProvider
from services.identity.settings import IdentitySettings, PasswordHashSettings
from shared.observability.logging import configure_logging
from shared.runtime import name_database_connections
from shared.identity.access import install_access
from shared.identity.policy import load_policy
from shared.settings import HttpTlsSettings

NAME = "identity"
PROMETHEUS_SECRET_FILE = "prometheus.secret"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def passwords_of(settings: PasswordHashSettings) -> Passwords:
    return Passwords(settings.password_hash_time_cost, settings.password_hash_memory_cost, settings.password_hash_parallelism)


def lockout_policy(settings: IdentitySettings) -> LockoutPolicy:
    return LockoutPolicy(
        settings.login_account_failures, timedelta(seconds=settings.login_account_window), timedelta(seconds=settings.login_account_lock),
        settings.login_address_failures, timedelta(seconds=settings.login_address_window), timedelta(seconds=settings.login_address_block),
    )


@dataclass
class IdentityService:
    http: FastAPI
    directory: DirectoryStore
    keys: KeyRing
    provider: IdentityProvider

    def close(self) -> None:
        self.directory.close()


def bootstrap(settings: IdentitySettings, clock: Clock = utc_now) -> IdentityService:
    directory = DirectoryStore(settings.identity_store_url)
    directory.create_tables()
    passwords = passwords_of(settings)
    register_builtin_clients(directory, passwords, settings.console_redirect_uris, settings.secrets_dir / PROMETHEUS_SECRET_FILE)
    keys = KeyRing(settings.identity_key_dir, clock)
    keys.ensure()
    tokens = TokenIssuer(keys, settings.oidc_issuer, settings.oidc_audience, settings.access_token_lifetime, settings.id_token_lifetime, clock)
    provider = IdentityProvider(directory, passwords, tokens, clock, settings.authorization_code_lifetime, settings.refresh_token_lifetime)
    login = LoginService(directory, passwords, lockout_policy(settings), clock)
    http = identity_http(provider, login, tokens, directory, settings.oidc_issuer)
    # Its routes are the OpenID protocol's own, open by design (each checks the client or
    # the password itself); the one policy table lists them, and a route added without an
    # entry is refused here as in every service (no token verifier: nothing needs one).
    install_access(http, NAME, load_policy(), None)
    return IdentityService(http, directory, keys, provider)


def main() -> None:
    name_database_connections(NAME)
    settings = IdentitySettings()
    configure_logging(NAME, settings.log_level)
    service = bootstrap(settings)
    try:
        # uvicorn handles SIGTERM/SIGINT itself: it stops taking requests and finishes those in hand
        uvicorn.run(service.http, host=settings.http_host, port=settings.http_port, log_level="warning", lifespan="off", **HttpTlsSettings().uvicorn_options())
    finally:
        service.close()
