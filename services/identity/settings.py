from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import HttpTlsSettings


class PasswordHashSettings(BaseSettings):
    """argon2id cost, shared by the provider and `fpb users` (which hash the same way)."""

    model_config = SettingsConfigDict(env_prefix="FPB_", extra="ignore")

    password_hash_time_cost: int = Field(3, ge=1, description="argon2id iterations (lower only in tests)")
    password_hash_memory_cost: int = Field(65536, ge=8, description="argon2id memory in KiB (lower only in tests)")
    password_hash_parallelism: int = Field(4, ge=1, description="argon2id lanes")


class IdentitySettings(PasswordHashSettings, HttpTlsSettings):
    """The built-in OpenID provider (`python -m services.identity`). No broker: its only
    dependency is its directory database."""

    identity_store_url: str = Field(description="The user directory's database: sqlite:///path or postgresql://…")
    identity_key_dir: Path = Field(description="Directory of the provider's RSA signing keys (made on first start, mode 0600)")
    identity_secrets_dir: Path | None = Field(None, description="Where generated machine-client secrets go (prometheus.secret); default: the key directory's parent")
    oidc_issuer: str = Field(description="The issuer URL, exactly as in the tokens' `iss`, e.g. http://127.0.0.1:8080")
    oidc_audience: str = Field("fpb-platform", description="The access tokens' `aud`: what every service expects")
    access_token_lifetime: int = Field(900, ge=60, le=86400, description="Seconds an access token is valid")
    id_token_lifetime: int = Field(900, ge=60, le=86400, description="Seconds an id token is valid")
    refresh_token_lifetime: int = Field(8 * 3600, ge=300, description="Seconds a refresh token is valid (one working day); each use rotates it")
    authorization_code_lifetime: int = Field(60, ge=10, le=600, description="Seconds an authorization code is valid (single use)")
    console_redirect_uris: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:8400/callback"], description='The staff console\'s redirect URIs (JSON list), matched exactly')
    login_account_failures: int = Field(5, ge=1, description="Failed logins of one account within the window that lock it")
    login_account_window: int = Field(900, ge=1, description="Seconds over which an account's failures are counted")
    login_account_lock: int = Field(900, ge=1, description="Seconds an account stays locked")
    login_address_failures: int = Field(20, ge=1, description="Failed logins from one address within the window that block it")
    login_address_window: int = Field(900, ge=1, description="Seconds over which an address's failures are counted")
    login_address_block: int = Field(900, ge=1, description="Seconds an address stays blocked")
    http_host: str = Field("127.0.0.1", description="Address the provider listens on")
    http_port: int = Field(8000, ge=0, le=65535, description="Port of the provider")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")

    @property
    def secrets_dir(self) -> Path:
        return self.identity_secrets_dir or self.identity_key_dir.parent
