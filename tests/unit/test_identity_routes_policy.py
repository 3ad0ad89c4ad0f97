"""The built-in OpenID provider is under the same policy table as every service: its
protocol endpoints are listed (open by design), and a route added without an entry is
refused."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.identity.bootstrap import bootstrap
from services.identity.settings import IdentitySettings
from shared.identity.access import routes_of
from shared.identity.policy import load_policy


def provider(tmp_path):
    settings = IdentitySettings(identity_store_url=f"sqlite:///{tmp_path / 'identity.db'}", identity_key_dir=tmp_path / "keys",
                                secrets_dir=tmp_path, oidc_issuer="http://127.0.0.1:1", oidc_audience="fpb")
    return bootstrap(settings)


def test_every_route_of_the_identity_provider_has_an_entry_in_the_policy_table(tmp_path):
    service = provider(tmp_path)
    policy = load_policy()
    served = {f"{method} {path}" for path, route in routes_of(service.http) for method in getattr(route, "methods", {"GET"}) if method != "HEAD"}

    missing = [key for key in sorted(served) if policy.rule("identity", *key.split(" ", 1)) is None]

    assert missing == [] and len(served) >= 7
    service.close()


def test_a_route_added_to_the_provider_without_an_entry_is_refused(tmp_path):
    service = provider(tmp_path)

    @service.http.get("/users")
    async def users() -> list[str]:
        return ["admin"]

    answer = TestClient(service.http).get("/users")

    assert answer.status_code == 403 and "access policy" in answer.text
    assert TestClient(service.http).get("/.well-known/openid-configuration").status_code == 200
    service.close()
