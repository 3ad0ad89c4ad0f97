"""The committed AsyncAPI documents are exactly what the code generates."""

from __future__ import annotations

import re
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


# --- Every subject a service really reads or writes is in its document ----------------

from shared.contracts.events import enforcement as enforcement_events  # noqa: E402
from shared.contracts.events import intake as intake_events  # noqa: E402
from shared.contracts.events import subsidy as subsidy_events  # noqa: E402
from shared.contracts.events import verification as verification_events  # noqa: E402
from shared.messaging.topology import subject_matches  # noqa: E402


def pulled_consumers(service: str):
    """The durable consumers a service pulls from (enforcement also provisions one for its
    team's tools, which it never reads: PULLED)."""
    import importlib

    module = importlib.import_module("services.intake.entrypoints.inbox" if service == "intake" else f"services.{service}.entrypoints.routes")
    return getattr(module, "PULLED", module.CONSUMERS)


def addresses(service: str, action: str) -> set[str]:
    document = ASYNCAPI[service]()
    return {
        document["channels"][operation["channel"]["$ref"].removeprefix("#/channels/")]["address"]
        for operation in document["operations"].values()
        if operation["action"] == action
    }


def covers(address: str, subject: str) -> bool:
    """Does a channel address ({parameter}: one or more tokens) include this subject?"""
    pattern = "^" + re.sub(r"\\\{\w+\\\}", r"[^.]+(\\.[^.]+)*", re.escape(address)) + "$"
    return re.match(pattern, subject) is not None


def concrete(address: str) -> str:
    return re.sub(r"\{\w+\}", "x", address)


def published_subjects() -> dict[str, set[str]]:
    """What each service publishes: the subjects of its contracts (a {parameter} as one
    token), its receipts, and a dead-letter subject per durable it pulls from."""
    subjects: set[str] = set()
    for module in (intake_events, verification_events, subsidy_events, enforcement_events):
        for name, value in vars(module).items():
            if name.endswith("_SUBJECT") and isinstance(value, str):
                subjects.add(value)
            if name.endswith("_EVENTS") and isinstance(value, dict):
                subjects.update(subject for subject, _ in value.values())
            if name.endswith("_subject") and callable(value):
                subjects.add(value("x"))
    by_service: dict[str, set[str]] = {name: set() for name in ASYNCAPI}
    for subject in subjects:
        by_service[subject.split(".")[1]].add(subject)
    by_service["intake"] |= {"fp.receipts.x", "fp.dlq.intake.rejected.x"}
    for service in ASYNCAPI:
        by_service[service] |= {f"fp.dlq.{service}.{spec.durable}" for spec in pulled_consumers(service)}
    return by_service


PUBLISHED = published_subjects()


@pytest.mark.parametrize("service", sorted(ASYNCAPI))
def test_every_subject_a_service_publishes_is_one_of_its_send_channels(service):
    sends = addresses(service, "send")
    missing = sorted(subject for subject in PUBLISHED[service] if not any(covers(address, subject) for address in sends))
    assert not missing, f"{service}'s AsyncAPI document sends nothing on {missing}"


@pytest.mark.parametrize("service", sorted(ASYNCAPI))
def test_every_subject_a_service_consumes_is_one_of_its_receive_channels(service):
    receives = addresses(service, "receive")
    for spec in pulled_consumers(service):
        for wanted in spec.filter_subjects:
            if "*" not in wanted and ">" not in wanted:
                assert any(covers(address, wanted) for address in receives), f"{service} does not list {wanted} ({spec.durable})"
                continue
            # A wildcard filter: every channel another service sends on within it must be listed.
            assert any(subject_matches(wanted, concrete(address)) for address in receives), f"{service} lists nothing under {wanted}"
            for other in ASYNCAPI:
                for address in addresses(other, "send") if other != service else ():
                    if subject_matches(wanted, concrete(address)):
                        assert address in receives, f"{service} reads {wanted} ({spec.durable}) but does not list {other}'s {address}"


def test_channels_are_keyed_by_address_so_one_message_may_travel_on_many():
    document = ASYNCAPI["verification"]()
    accepted = [c for c in document["channels"].values() if "intake.submission.accepted.v1" in c["messages"]]
    assert len(accepted) == len(pulled_consumers("verification")[0].filter_subjects) == 6
