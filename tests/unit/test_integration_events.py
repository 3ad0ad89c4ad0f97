"""Integration events: one envelope, versioned payloads, frozen samples of every version
that every later release must still read (DESIGN.md, convention 5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from shared.contracts.events.enforcement import CaseOpenedV1, CaseSharedV1, CaseUpdatedV1
from shared.contracts.events.intake import SubmissionAcceptedV1, SubmissionRejectedV1
from shared.contracts.events.subsidy import (
    BENEFICIARY_EVENTS,
    PaymentChangedV1,
    PaymentCycleV1,
    SubsidySignalLinkedV1,
    SubsidySignalV1,
)
from shared.contracts.events.verification import STEP_EVENTS, ApplicationOpenedV1, FalsificationSignalV1
from shared.contracts.integration import (
    REGISTRY,
    IntegrationEnvelope,
    EventType,
    UnknownEventError,
    make_event,
    read_event,
    register,
)

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "integration"
PAYLOAD_MODELS = {
    "intake.submission.accepted": SubmissionAcceptedV1,
    "intake.submission.rejected": SubmissionRejectedV1,
    "verification.application.opened": ApplicationOpenedV1,
    **{name: model for name, (_, model) in STEP_EVENTS.items()},
    "enforcement.case.opened": CaseOpenedV1,
    "enforcement.case.updated": CaseUpdatedV1,
    "enforcement.case.shared": CaseSharedV1,
    **{name: model for name, (_, model) in BENEFICIARY_EVENTS.items()},
    "verification.payment_cycle.changed": PaymentCycleV1,
    "verification.payment.changed": PaymentChangedV1,
    "verification.subsidy.signal_raised": SubsidySignalV1,
    "verification.subsidy.signal_linked": SubsidySignalLinkedV1,
    "verification.application.falsification_signal": FalsificationSignalV1,
}


def sample_bytes(event_type: str) -> bytes:
    return (SAMPLES / f"{event_type}.v1.json").read_bytes()


def sample_envelope(event_type: str) -> dict:
    return json.loads(sample_bytes(event_type))


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, ensure_ascii=False).encode()


# --- frozen samples -------------------------------------------------------------------


def test_there_is_a_frozen_v1_sample_for_every_registered_event_type():
    frozen = sorted(path.name for path in SAMPLES.glob("*.v1.json"))
    assert frozen == sorted(f"{name}.v1.json" for name in PAYLOAD_MODELS)
    assert set(PAYLOAD_MODELS) <= set(REGISTRY)


@pytest.mark.parametrize("event_type", sorted(PAYLOAD_MODELS))
def test_every_frozen_sample_is_read_by_read_event(event_type):
    envelope = sample_envelope(event_type)

    received = read_event(sample_bytes(event_type))

    assert received.envelope.type == event_type
    assert received.envelope.version == 1
    assert received.envelope.event_id == envelope["event_id"]
    assert received.envelope.occurred_at.utcoffset() is not None
    assert isinstance(received.payload, PAYLOAD_MODELS[event_type])
    assert received.payload.model_dump(mode="json", by_alias=True) == envelope["payload"]


def test_the_frozen_accepted_sample_keeps_personal_data_encrypted():
    payload = read_event(sample_bytes("intake.submission.accepted")).payload

    for field in ("applicant_id_number", "spouse_id_number", "details"):
        assert payload.data[field]["$enc"] == "v1"
    assert payload.person_refs["applicant_id_number"] == payload.data_subject_ref
    assert payload.schema_ == "township.application.submitted/v1"


@pytest.mark.parametrize("event_type", sorted(PAYLOAD_MODELS))
def test_make_event_re_makes_every_frozen_sample_field_for_field(event_type):
    received = read_event(sample_bytes(event_type))
    envelope = received.envelope

    message = make_event(
        event_type=REGISTRY[event_type],
        event_id=envelope.event_id,
        producer=envelope.producer,
        aggregate_id=envelope.aggregate_id,
        aggregate_version=envelope.aggregate_version,
        occurred_at=envelope.occurred_at,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.causation_id,
        payload=received.payload,
        subject="fp.test",
    )

    assert message.message_id == envelope.event_id
    assert message.headers == {"Fp-Correlation-Id": envelope.correlation_id, "Fp-Causation-Id": envelope.event_id}
    assert json.loads(message.body) == sample_envelope(event_type), "what producers emit is what consumers were frozen on"


# --- what cannot be read --------------------------------------------------------------


def test_an_unknown_event_type_raises_unknown_event_error():
    envelope = sample_envelope("enforcement.case.opened")
    envelope["type"] = "enforcement.case.reopened"

    with pytest.raises(UnknownEventError, match="enforcement.case.reopened"):
        read_event(encode(envelope))


def test_a_version_newer_than_the_current_raises_unknown_event_error():
    envelope = sample_envelope("verification.application.opened")
    envelope["version"] = 2

    with pytest.raises(UnknownEventError, match="newer"):
        read_event(encode(envelope))


def test_an_envelope_with_a_field_too_many_is_rejected():
    envelope = sample_envelope("intake.submission.rejected")
    envelope["extra"] = "no"

    with pytest.raises(ValidationError):
        read_event(encode(envelope))


def test_a_payload_that_does_not_fit_its_model_is_rejected():
    envelope = sample_envelope("enforcement.case.opened")
    del envelope["payload"]["case_number"]

    with pytest.raises(ValidationError):
        read_event(encode(envelope))


def test_a_body_that_is_not_json_is_rejected_as_a_value_error():
    with pytest.raises(ValueError):
        read_event(b"\xff not json")


# --- upcasting ------------------------------------------------------------------------


class ThingV3(BaseModel):
    name: str
    count: int
    unit: str


def v1_to_v2(payload: dict) -> dict:
    return {"name": payload["title"], "count": payload["count"], "steps": [*payload.get("steps", []), "v1->v2"]}


def v2_to_v3(payload: dict) -> dict:
    assert payload["steps"] == ["v1->v2"], "v2 -> v3 must run after v1 -> v2"
    return {"name": payload["name"], "count": payload["count"] * 10, "unit": "ten"}


@pytest.fixture
def thing_type() -> Iterator[EventType]:
    """A throwaway event type at v3 with upcasters from v1 and v2, unregistered afterwards."""
    name = "test.thing.happened"
    assert name not in REGISTRY
    event_type = register(EventType(name, 3, ThingV3, {1: v1_to_v2, 2: v2_to_v3}))
    yield event_type
    REGISTRY.pop(name, None)


def thing_envelope(version: int, payload: dict) -> bytes:
    return encode(
        {
            "event_id": "test-1",
            "type": "test.thing.happened",
            "version": version,
            "producer": "test",
            "aggregate_id": "a",
            "aggregate_version": 1,
            "occurred_at": datetime(2026, 3, 9, tzinfo=timezone.utc).isoformat(),
            "correlation_id": "c",
            "causation_id": "c",
            "payload": payload,
        }
    )


def test_upcasting_runs_the_registered_upcasters_in_order(thing_type):
    assert thing_type.upcast(1, {"title": "x", "count": 2}) == {"name": "x", "count": 20, "unit": "ten"}


def test_upcasting_a_middle_version_runs_only_the_upcasters_after_it(thing_type):
    assert thing_type.upcast(2, {"name": "x", "count": 2, "steps": ["v1->v2"]}) == {"name": "x", "count": 20, "unit": "ten"}


def test_the_current_version_is_not_upcast(thing_type):
    payload = {"name": "x", "count": 2, "unit": "one"}

    assert thing_type.upcast(3, payload) == payload


def test_read_event_hands_the_handler_only_the_current_version(thing_type):
    received = read_event(thing_envelope(1, {"title": "x", "count": 2}))

    assert received.payload == ThingV3(name="x", count=20, unit="ten")
    assert received.envelope.version == 1, "the envelope still says what was sent"


def test_an_older_version_that_also_fits_the_current_model_is_still_upcast(thing_type):
    # v2's payload carries name, count and (ignored) steps: it would pass as v3 unchanged,
    # but the one-pass typed read must not skip the upcasters that multiply the count.
    received = read_event(thing_envelope(2, {"name": "x", "count": 2, "unit": "one", "steps": ["v1->v2"]}))

    assert received.payload == ThingV3(name="x", count=20, unit="ten")


def test_the_typed_one_pass_read_gives_what_the_general_read_gives(thing_type):
    body = thing_envelope(3, {"name": "x", "count": 2, "unit": "one"})

    received = read_event(body)

    assert received.payload == ThingV3(name="x", count=2, unit="one")
    assert received.envelope.model_dump(exclude={"payload"}) == IntegrationEnvelope.model_validate_json(body).model_dump(exclude={"payload"})


def test_a_thing_newer_than_registered_is_unknown(thing_type):
    with pytest.raises(UnknownEventError):
        read_event(thing_envelope(4, {"name": "x", "count": 2, "unit": "one"}))


def test_the_throwaway_type_is_gone_after_its_test():
    assert "test.thing.happened" not in REGISTRY
    with pytest.raises(UnknownEventError):
        read_event(thing_envelope(3, {"name": "x", "count": 2, "unit": "one"}))
