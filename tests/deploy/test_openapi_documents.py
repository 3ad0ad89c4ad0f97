"""The committed OpenAPI documents (docs/openapi) are exactly what the code generates,
and generating them connects to nothing."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cli.contracts import OPENAPI, rendered

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi"
# The endpoints every service has (shared/observability/http.py), and where it keeps events.
COMMON = {"/healthz", "/readyz", "/metrics", "/asyncapi.json"}
EVENT_SOURCED = {"intake", "verification", "enforcement"}


@pytest.fixture(scope="module")
def generated() -> dict[str, dict]:
    return {service: document() for service, document in OPENAPI.items()}


@pytest.mark.parametrize("service", sorted(OPENAPI))
def test_the_committed_openapi_document_matches_the_code(service, generated):
    path = COMMITTED / f"{service}.openapi.json"
    assert path.exists(), f"run `fpb contracts` and commit docs/openapi/{service}.openapi.json"
    assert path.read_text(encoding="utf-8") == rendered(generated[service]), f"run `fpb contracts` and commit docs/openapi/{service}.openapi.json"


def test_there_is_no_committed_document_for_a_service_that_does_not_exist():
    assert {p.name for p in COMMITTED.glob("*.json")} == {f"{service}.openapi.json" for service in OPENAPI}


@pytest.mark.parametrize("service", sorted(OPENAPI))
def test_the_document_describes_the_service_http_api(service, generated):
    document = generated[service]
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == f"fpb {service}"
    assert COMMON <= set(document["paths"])
    assert ("/history/{ref}" in document["paths"]) == (service in EVENT_SOURCED)


def test_generating_connects_to_nothing(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"generating an OpenAPI document tried to connect: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    for service, document in OPENAPI.items():
        assert document()["paths"], service
