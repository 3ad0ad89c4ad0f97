"""Builds a service's access control from its settings."""

from __future__ import annotations

from shared.identity.policy import Policy, load_policy
from shared.identity.principal import ClaimNames
from shared.identity.tokens import KeySet, TokenVerifier
from shared.settings import ServiceSettings


def token_verifier(settings: ServiceSettings) -> TokenVerifier | None:
    if not settings.oidc_issuer:
        return None
    if settings.oidc_jwks_file is not None:
        keys = KeySet.from_file(settings.oidc_jwks_file)
    elif settings.oidc_jwks_url:
        keys = KeySet.from_url(settings.oidc_jwks_url)
    else:
        keys = KeySet.from_discovery(settings.oidc_issuer)
    names = ClaimNames(settings.oidc_claim_roles, settings.oidc_claim_sections, settings.oidc_claim_township,
                       settings.oidc_claim_agency, settings.oidc_claim_name)
    return TokenVerifier(settings.oidc_issuer, settings.oidc_audience, keys, tuple(settings.oidc_algorithms), names, settings.oidc_leeway_seconds)


def access_policy(settings: ServiceSettings) -> Policy:
    return load_policy(settings.access_policy_file)
