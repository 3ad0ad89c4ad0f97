"""deploy/keycloak/realm-fpb.json is a realm export whose tokens carry what the services
check: the platform's roles, the `roles`, `sections`, `township` and `agency` claims under
the default claim names (shared/settings.py), the audience, a PKCE-only public console
client and a client-credentials `prometheus` client with the role `operations`."""

from __future__ import annotations

import json

import pytest
from deploy_tools import ROOT

from cli.platform import OIDC_AUDIENCE
from shared.settings import ServiceSettings

REALM = json.loads((ROOT / "deploy" / "keycloak" / "realm-fpb.json").read_text(encoding="utf-8"))
# CONTRACT.md, Authentication: "Roles, at least".
ROLES = {"township_officer", "section_staff", "section_head", "enforcement_officer", "auditor",
         "statistician", "agency_liaison", "administrator", "operations"}


def client(client_id: str) -> dict:
    [found] = [c for c in REALM["clients"] if c["clientId"] == client_id]
    return found


def policy_roles() -> set[str]:
    policy = json.loads((ROOT / "shared" / "identity" / "policy.json").read_text(encoding="utf-8"))
    text = json.dumps(policy)
    return {role for role in ROLES if f'"{role}"' in text}


def test_the_realm_has_exactly_the_platform_roles():
    assert REALM["realm"] == "fpb" and REALM["enabled"] is True
    assert {role["name"] for role in REALM["roles"]["realm"]} == ROLES
    # Every role the access policy grants something to can be given in Keycloak.
    assert policy_roles() <= ROLES


def test_the_console_is_a_public_client_with_pkce_s256_and_the_code_flow_only():
    console = client("fpb-console")
    assert console["publicClient"] is True
    assert console["attributes"]["pkce.code.challenge.method"] == "S256"
    assert console["standardFlowEnabled"] is True
    assert console["implicitFlowEnabled"] is False and console["directAccessGrantsEnabled"] is False
    assert console["redirectUris"] and all(uri.endswith("/login/callback") for uri in console["redirectUris"])


def test_prometheus_is_a_confidential_client_credentials_client_with_the_operations_role():
    prometheus = client("prometheus")
    assert prometheus["publicClient"] is False and prometheus["clientAuthenticatorType"] == "client-secret"
    assert prometheus["serviceAccountsEnabled"] is True
    assert prometheus["standardFlowEnabled"] is False and prometheus["directAccessGrantsEnabled"] is False
    assert "secret" not in prometheus, "no client secret in the repository: Keycloak makes one on import"
    [account] = [u for u in REALM["users"] if u.get("serviceAccountClientId") == "prometheus"]
    assert account["realmRoles"] == ["operations"]


@pytest.mark.parametrize("client_id", ["fpb-console", "prometheus"])
def test_access_tokens_carry_the_claims_the_services_read_and_the_audience(client_id):
    defaults = {name: field.default for name, field in ServiceSettings.model_fields.items()}
    mappers = {m["config"].get("claim.name"): m for m in client(client_id)["protocolMappers"] if "claim.name" in m["config"]}
    wanted = {
        defaults["oidc_claim_roles"]: ("oidc-usermodel-realm-role-mapper", None, "true"),
        defaults["oidc_claim_sections"]: ("oidc-usermodel-attribute-mapper", "sections", "true"),
        defaults["oidc_claim_township"]: ("oidc-usermodel-attribute-mapper", "township", "false"),
        defaults["oidc_claim_agency"]: ("oidc-usermodel-attribute-mapper", "agency", "false"),
    }
    for claim, (kind, attribute, multivalued) in wanted.items():
        mapper = mappers[claim]
        assert mapper["protocolMapper"] == kind, claim
        assert mapper["config"].get("user.attribute") == attribute, claim
        assert mapper["config"]["multivalued"] == multivalued, claim
        assert mapper["config"]["access.token.claim"] == "true", claim
    [audience] = [m for m in client(client_id)["protocolMappers"] if m["protocolMapper"] == "oidc-audience-mapper"]
    assert audience["config"]["included.custom.audience"] == OIDC_AUDIENCE == defaults["oidc_audience"]
    assert audience["config"]["access.token.claim"] == "true"


def test_the_user_attributes_are_declared_and_only_administrators_edit_them():
    [provider] = REALM["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(provider["config"]["kc.user.profile.config"][0])
    attributes = {a["name"]: a for a in profile["attributes"]}
    for name, multivalued in (("sections", True), ("township", False), ("agency", False)):
        assert attributes[name]["multivalued"] is multivalued, name
        assert attributes[name]["permissions"]["edit"] == ["admin"], name


def test_logins_are_throttled_as_the_built_in_provider_does():
    assert REALM["bruteForceProtected"] is True and REALM["failureFactor"] == 5
    assert REALM["sslRequired"] in {"all", "external"}
