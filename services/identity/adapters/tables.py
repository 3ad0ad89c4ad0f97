"""The identity provider's own database: accounts, clients, codes, refresh tokens, events."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in and out; SQLite keeps no offset, so it is put back on reading."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the identity store keeps UTC times only")
        return value.astimezone(timezone.utc).replace(tzinfo=None) if dialect.name == "sqlite" else value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


metadata = MetaData()

accounts = Table(
    "identity_accounts",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", Text, nullable=True),  # argon2id (PHC string); None: no password set yet
    Column("roles", JSON, nullable=False),
    Column("sections", JSON, nullable=False),
    Column("township", String(9), nullable=True),
    Column("agency", String(16), nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
)

clients = Table(
    "identity_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("public", Boolean, nullable=False),
    Column("secret_hash", Text, nullable=True),
    Column("redirect_uris", JSON, nullable=False),
    Column("grant_types", JSON, nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("sections", JSON, nullable=False),
    Column("township", String(9), nullable=True),
    Column("agency", String(16), nullable=True),
)

# Codes and refresh tokens are kept as SHA-256 of the value: they are 256-bit random
# strings, so a fast hash is enough (no dictionary to guess from), and a copy of the
# database gives no usable token.
authorization_codes = Table(
    "identity_authorization_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("client_id", String(64), nullable=False),
    Column("username", String(64), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", String(128), nullable=True),
    Column("code_challenge_method", String(16), nullable=True),
    Column("nonce", Text, nullable=True),
    Column("auth_time", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("family_id", String(36), nullable=False),  # the refresh-token family it starts
)

refresh_tokens = Table(
    "identity_refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("family_id", String(36), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("username", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("rotated_at", UtcDateTime, nullable=True),  # used once: a second use is a theft signal
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_identity_refresh_family", "family_id"),
    Index("ix_identity_refresh_subject", "username", "client_id"),
)

security_events = Table(
    "identity_security_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("actor", String(128), nullable=True),
    Column("account", String(64), nullable=True),
    Column("client_id", String(64), nullable=True),
    Column("remote_addr", String(64), nullable=True),
    Column("detail", JSON, nullable=False),
    Index("ix_identity_events_account", "account", "kind", "at"),
    Index("ix_identity_events_address", "remote_addr", "kind", "at"),
)
