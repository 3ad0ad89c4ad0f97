"""Settings every service shares; each service subclasses with its own prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class HttpTlsSettings(BaseSettings):
    """HTTPS for a service's own endpoint. Read apart from the rest, by the runtime that starts
    the HTTP server, so every service (and the identity provider) gets it without its own code."""

    model_config = SettingsConfigDict(env_prefix="FPB_", extra="ignore")

    http_tls_cert_file: Path | None = Field(None, description="PEM certificate (chain) the HTTP endpoint serves; with FPB_HTTP_TLS_KEY_FILE it answers HTTPS only (deploy/k8s)")
    http_tls_key_file: Path | None = Field(None, description="PEM private key of FPB_HTTP_TLS_CERT_FILE")

    def uvicorn_options(self) -> dict[str, str]:
        if (self.http_tls_cert_file is None) != (self.http_tls_key_file is None):
            raise ValueError("FPB_HTTP_TLS_CERT_FILE and FPB_HTTP_TLS_KEY_FILE go together")
        if self.http_tls_cert_file is None:
            return {}
        return {"ssl_certfile": str(self.http_tls_cert_file), "ssl_keyfile": str(self.http_tls_key_file)}


class ServiceSettings(HttpTlsSettings):
    model_config = SettingsConfigDict(env_prefix="FPB_", extra="ignore")

    nats_url: str = Field("nats://127.0.0.1:4222", description="NATS server(s), comma-separated")
    nats_nkey_seed_file: Path | None = Field(None, description="This service's NATS NKey seed file (<service>.nk, mode 0600; `fpb credentials generate`); the broker refuses clients without credentials")
    nats_creds_file: Path | None = Field(None, description="This service's NATS .creds file, where the broker uses decentralized JWT auth (instead of FPB_NATS_NKEY_SEED_FILE)")
    store_url: str = Field(description="This service's event store: sqlite:///path or postgresql://…")
    audit_key_file: Path | None = Field(None, description="Ed25519 private key (32 raw bytes) that signs hash-chain checkpoints")
    checkpoint_dir: Path | None = Field(None, description="Where signed checkpoints are written (copy them somewhere the database admin cannot reach)")
    http_host: str = Field("127.0.0.1", description="Address the HTTP endpoint (health, readiness, metrics, API) listens on")
    http_port: int = Field(8000, ge=0, le=65535, description="Port of the HTTP endpoint")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR; JSON lines on stderr with correlation_id and causation_id")
    # Identity and access (CONTRACT.md, Authentication): the services are OAuth 2 resource servers.
    oidc_issuer: str | None = Field(None, description="The OpenID issuer whose access tokens are accepted (its `iss`); unset: every route but health, readiness and the published documents answers 401")
    oidc_audience: str = Field("fpb-platform", description="The `aud` access tokens must carry")
    oidc_jwks_url: str | None = Field(None, description="The issuer's JWKS; default: the jwks_uri of its discovery document")
    oidc_jwks_file: Path | None = Field(None, description="A JWKS file to use instead of fetching one (a network where the issuer is not reachable)")
    oidc_algorithms: list[str] = Field(["RS256", "PS256", "ES256", "EdDSA"], description="Signature algorithms accepted (asymmetric only; `none` and HMAC are always refused)")
    oidc_leeway_seconds: int = Field(30, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat")
    oidc_claim_roles: str = Field("roles", description="Claim holding the roles (dotted for a nested claim, e.g. realm_access.roles)")
    oidc_claim_sections: str = Field("sections", description="Claim holding the sections (责任科室)")
    oidc_claim_township: str = Field("township", description="Claim holding a township officer's township code")
    oidc_claim_agency: str = Field("agency", description="Claim holding an agency liaison's agency")
    oidc_claim_name: str = Field("name", description="Claim holding the display name")
    access_policy_file: Path | None = Field(None, description="The access policy table; default: the one shipped (shared/identity/policy.json)")


class PersonalDataSettings(ServiceSettings):
    """For services that encrypt or match personal data."""

    keystore_url: str = Field(description="The personal-data key store: sqlite:///path or postgresql://…")
    key_dir: Path = Field(description="Directory holding master.key and matching.key (32 random bytes each)")
