"""Settings every service shares; each service subclasses with its own prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FPB_", extra="ignore")

    nats_url: str = Field("nats://127.0.0.1:4222", description="NATS server(s), comma-separated")
    store_url: str = Field(description="This service's event store: sqlite:///path or postgresql://…")
    audit_key_file: Path | None = Field(None, description="Ed25519 private key (32 raw bytes) that signs hash-chain checkpoints")
    checkpoint_dir: Path | None = Field(None, description="Where signed checkpoints are written (copy them somewhere the database admin cannot reach)")
    http_host: str = Field("127.0.0.1", description="Address the HTTP endpoint (health, readiness, metrics, API) listens on")
    http_port: int = Field(8000, ge=0, le=65535, description="Port of the HTTP endpoint")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR; JSON lines on stderr with correlation_id and causation_id")


class PersonalDataSettings(ServiceSettings):
    """For services that encrypt or match personal data."""

    keystore_url: str = Field(description="The personal-data key store: sqlite:///path or postgresql://…")
    key_dir: Path = Field(description="Directory holding master.key and matching.key (32 random bytes each)")
