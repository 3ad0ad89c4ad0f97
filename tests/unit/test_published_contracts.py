"""The committed AsyncAPI documents are exactly what the code generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.contracts import ASYNCAPI, rendered

COMMITTED = Path(__file__).parent.parent.parent / "docs" / "asyncapi"


@pytest.mark.parametrize("service", sorted(ASYNCAPI))
def test_the_committed_asyncapi_document_matches_the_code(service):
    committed = (COMMITTED / f"{service}.asyncapi.json").read_text(encoding="utf-8")
    assert committed == rendered(ASYNCAPI[service]()), f"run `fpb contracts` and commit docs/asyncapi/{service}.asyncapi.json"


@pytest.mark.parametrize("service", sorted(ASYNCAPI))
def test_every_asyncapi_operation_points_at_a_declared_channel_and_message(service):
    document = ASYNCAPI[service]()
    assert document["asyncapi"] == "3.0.0"
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].removeprefix("#/channels/")
        assert channel in document["channels"]
        for message in operation["messages"]:
            _, _, channel_name, _, message_name = message["$ref"].split("/")
            assert message_name in document["channels"][channel_name]["messages"]
