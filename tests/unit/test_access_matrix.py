"""The access policy, tried route by route on the four services as they are assembled:
every route has an entry in the table, every entry names a route, and every route ×
every role (section staff and heads in and out of the right's sections, township
officers of their own township) is let through exactly where the table says, and
refused with 401 or 403 everywhere else.

The expectation is read from the JSON table here, not through shared.identity.policy,
so a mechanism that drifts from the table fails."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.identity.access import routes_of
from shared.identity.policy import POLICY_FILE
from shared.identity.principal import ROLES
from shared.privacy.keys import ensure_key_files
from tests.identity_support import token_issuer

TABLE = json.loads(POLICY_FILE.read_text(encoding="utf-8"))
SECTION_ROLES = {"section_staff", "section_head"}
OWN_TOWNSHIP = "130132102"
OTHER_SECTION = "宣传站"  # a section no right names


@pytest.fixture(scope="module")
def services(tmp_path_factory) -> Iterator[dict[str, Any]]:
    from services.enforcement.bootstrap import bootstrap as enforcement
    from services.enforcement.settings import EnforcementSettings
    from services.intake.bootstrap import bootstrap as intake
    from services.intake.settings import IntakeSettings
    from services.reporting.bootstrap import bootstrap as reporting
    from services.reporting.settings import ReportingSettings
    from services.verification.bootstrap import bootstrap as verification
    from services.verification.settings import VerificationSettings

    directory = tmp_path_factory.mktemp("matrix")
    ensure_key_files(directory / "keys")
    common = {"nats_url": "nats://127.0.0.1:1", **token_issuer().settings}
    built = {
        "intake": intake(IntakeSettings(store_url=f"sqlite:///{directory}/intake.db", keystore_url=f"sqlite:///{directory}/keys.db",
                                        key_dir=directory / "keys", **common)),
        "verification": verification(VerificationSettings(store_url=f"sqlite:///{directory}/verification.db", **common)),
        "enforcement": enforcement(EnforcementSettings(store_url=f"sqlite:///{directory}/enforcement.db", **common)),
        "reporting": reporting(ReportingSettings(store_url=f"sqlite:///{directory}/reporting.db", **common)),
    }
    yield built
    for service in built.values():
        for close in service.closers:
            close()


def served_routes(service: Any) -> set[str]:
    keys = set()
    for path, route in routes_of(service.http):
        methods = getattr(route, "methods", None) or {"GET"}  # a mount (static files) answers GET
        template = f"{path}/{{path}}" if not hasattr(route, "methods") else path
        keys |= {f"{method} {template}" for method in methods if method != "HEAD"}
    return keys


def rule_of(service: str, key: str) -> dict[str, Any] | None:
    return TABLE["routes"].get(service, {}).get(key) or TABLE["routes"]["*"].get(key)


def test_every_route_of_every_service_has_an_entry_and_every_entry_a_route(services):
    missing, stale, covered = [], [], 0
    for name, service in services.items():
        served = served_routes(service)
        for key in sorted(served):
            if rule_of(name, key) is None:
                missing.append(f"{name} {key}")
            else:
                covered += 1
        stale += [f"{name} {key}" for key in TABLE["routes"].get(name, {}) if key not in served]
    common = set(TABLE["routes"]["*"])
    stale += [f"* {key}" for key in common if not any(key in served_routes(s) for s in services.values())]
    print(f"\naccess policy: {covered} routes covered, {len(missing)} without an entry, {len(stale)} entries without a route")
    assert missing == [] and stale == []
    assert covered >= 110


def identities() -> list[tuple[str, dict[str, Any]]]:
    """One identity per role; section roles twice (in a section the rights name, and in none)."""
    found = []
    for role in ROLES:
        if role in SECTION_ROLES:
            for section in sorted({s for right in TABLE["rights"].values() for s in right.get("sections", [])}) + [OTHER_SECTION]:
                found.append((f"{role}@{section}", {"roles": [role], "sections": [section]}))
        else:
            found.append((role, {"roles": [role], "sections": [], "township": OWN_TOWNSHIP if role == "township_officer" else None,
                                 "agency": "police" if role == "agency_liaison" else None}))
    return found


def expected_to_pass(rule: dict[str, Any], who: dict[str, Any]) -> bool:
    if rule.get("open"):
        return True
    right = TABLE["rights"][rule["right"]]
    for role in who["roles"]:
        if role in right["roles"] and (role not in SECTION_ROLES or not right.get("sections") or set(who["sections"]) & set(right["sections"])):
            return True
    return False


def concrete(template: str, agency: str | None) -> str:
    """A path the template matches: each {param} a made-up value (the liaison's own agency)."""
    return re.sub(r"\{(\w+)\}", lambda m: (agency or "police") if m.group(1) == "agency" else "Z-NOSUCH-1", template).replace("{path}", "app.js")


def refused_by_policy(response: Any) -> bool:
    if response.status_code == 401:
        return True
    if response.status_code != 403:
        return False
    detail = response.json().get("detail")
    return isinstance(detail, list) and detail and detail[0].get("field") == "authorization"


# Routes whose handler starts work in the background when let through: asked with a body
# the handler refuses (422), or not at all, so the matrix changes nothing.
SKIP_WHEN_ALLOWED = {"POST /admin/rebuild"}


def test_each_route_lets_each_role_through_exactly_where_the_table_says(services):
    unexpected_allows, unexpected_refusals, asked = [], [], 0
    for name, service in services.items():
        client = TestClient(service.http, raise_server_exceptions=False)
        for key in sorted(served_routes(service)):
            method, template = key.split(" ", 1)
            rule = rule_of(name, key)
            for label, who in identities():
                allowed = expected_to_pass(rule, who)
                if allowed and key in SKIP_WHEN_ALLOWED:
                    continue
                headers = token_issuer().headers(f"matrix-{label}", who["roles"], who["sections"], who.get("township"), who.get("agency"))
                response = client.request(method, concrete(template, who.get("agency")), headers=headers,
                                          json={} if method == "POST" else None)
                asked += 1
                if refused_by_policy(response) and allowed:
                    unexpected_refusals.append(f"{name} {key} as {label}: {response.status_code} {response.text[:120]}")
                elif not refused_by_policy(response) and not allowed:
                    unexpected_allows.append(f"{name} {key} as {label}: {response.status_code}")
    print(f"\naccess matrix: {asked} requests, {len(unexpected_allows)} unexpected allows, {len(unexpected_refusals)} unexpected refusals")
    assert unexpected_allows == []
    assert unexpected_refusals == []


def test_on_every_route_the_table_cuts_to_a_township_another_townships_code_is_refused(services):
    """Each route marked township: filter (the lists, and the reports a township officer
    may read) refuses a township officer who names another township (403 naming
    township_code) and lets their own through; the rows they then receive are tried
    per service (tests/unit/test_township_scope.py)."""
    headers = token_issuer().headers("matrix-township", ["township_officer"], [], OWN_TOWNSHIP)
    filtered = []
    for name, service in services.items():
        client = TestClient(service.http, raise_server_exceptions=False)
        for key in sorted(served_routes(service)):
            if rule_of(name, key).get("township") != "filter":
                continue
            method, template = key.split(" ", 1)
            assert method == "GET", f"{name} {key}: a township filter applies to reads"
            theirs = client.get(concrete(template, None), params={"township_code": "130132100"}, headers=headers)
            assert theirs.status_code == 403 and theirs.json()["detail"][0]["field"] == "township_code", f"{name} {key}"
            own = client.get(concrete(template, None), params={"township_code": OWN_TOWNSHIP}, headers=headers)
            assert not refused_by_policy(own) and own.status_code != 403, f"{name} {key}: {own.status_code} {own.text[:120]}"
            filtered.append(f"{name} {key}")
    assert {"reporting GET /reports/submissions", "reporting GET /reports/subsidies", "verification GET /applications"} <= set(filtered)
    assert not any(key.endswith(("/league-tables", "/scorecard", "/cases/summary")) for key in filtered), "comparisons stay county-wide"


def test_without_a_token_only_the_open_routes_answer(services):
    opened = []
    for name, service in services.items():
        client = TestClient(service.http, raise_server_exceptions=False)
        for key in sorted(served_routes(service)):
            method, template = key.split(" ", 1)
            response = client.request(method, concrete(template, None), json={} if method == "POST" else None)
            if rule_of(name, key).get("open"):
                opened.append(key)
                continue
            assert response.status_code == 401, f"{name} {key}"
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["detail"][0]["field"] == "authorization"
    assert {"GET /healthz", "GET /readyz"} <= set(opened)


def test_a_route_added_without_an_entry_is_refused_even_with_every_role(services):
    http = services["intake"].http

    @http.get("/not-in-the-table")
    async def forgotten() -> dict[str, str]:
        return {"secret": "x"}

    everyone = token_issuer().headers("root", list(ROLES), ["法规科"], OWN_TOWNSHIP, "police")
    response = TestClient(http).get("/not-in-the-table", headers=everyone)

    assert response.status_code == 403 and "not in the access policy" in response.json()["detail"][0]["message"]


def test_the_policy_table_is_a_file_the_bureau_can_read():
    assert Path(POLICY_FILE).suffix == ".json"
    for name, right in TABLE["rights"].items():
        assert right["zh"] and right["en"] and right["roles"], name


def test_the_committed_access_policy_document_is_rendered_from_the_table():
    from cli import access_policy

    committed = Path(__file__).resolve().parents[2] / "docs" / "access-policy.md"
    assert committed.read_text(encoding="utf-8") == access_policy.rendered(), "run `fpb contracts` and commit docs/access-policy.md"
