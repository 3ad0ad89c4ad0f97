"""Enforcement opens falsification cases (弄虚作假) from verification's falsification
signals: one case per application, later signals join it, a repeat after closure
reopens it, and the same message twice changes nothing."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.application.falsification_signals import open_case_from_falsification_signal
from services.enforcement.domain.case import CATEGORIES, SIGNAL_AFTER_CLOSURE, case_id_for, signals_in_full
from services.enforcement.entrypoints.routes import VERIFICATION_CONSUMER, routes
from services.enforcement.settings import EnforcementSettings
from shared.contracts.events.verification import FALSIFICATION_SIGNAL_SUBJECT
from shared.contracts.integration import read_event
from shared.messaging.consumer import Delivery
from shared.messaging.event_handler import integration_event_handler

SAMPLE = Path(__file__).parent.parent / "samples" / "integration" / "verification.application.falsification_signal.v1.json"


@pytest.fixture
def store() -> EnforcementStore:
    return EnforcementStore("memory://")


def signal(event_id: str = "verification-41", **changes) -> bytes:
    envelope = json.loads(SAMPLE.read_text(encoding="utf-8"))
    envelope["event_id"] = event_id
    envelope["payload"].update(changes)
    return json.dumps(envelope, ensure_ascii=False).encode()


def decide(store: EnforcementStore, body: bytes) -> list:
    aggregates = list(open_case_from_falsification_signal(read_event(body), store.find))
    if aggregates:
        store.save(*aggregates)
    return aggregates


def test_a_falsification_signal_opens_a_falsification_case_for_its_application_with_its_evidence(store):
    [case] = decide(store, signal())

    assert case.id == case_id_for("signal", "application:APP-OC-0042")
    assert (case.origin, case.category, CATEGORIES[case.category], case.section) == ("signal", "falsification", "弄虚作假", "执法大队")
    assert (case.township_code, case.subjects) == ("130132100", {"application_id": "APP-OC-0042"})
    [record] = signals_in_full(store.events.get(case.id))
    assert (record["signal_id"], record["pattern"], record["evidence"]) == ("FS-5D3C2B1A0F9E", "certificate_already_held", ["intake-12", "verification-17"])
    assert case.signals == [{**{k: v for k, v in record.items() if k != "evidence"}, "evidence_count": 2}]
    assert record["person_refs"] == ["50ea096de7a34a7f866b6cda38e42f102c0c2a928972a1c24750d0eee6f3daeb"]


def test_another_signal_on_the_same_application_joins_its_case_and_another_application_opens_its_own(store):
    [opened] = decide(store, signal())
    [joined] = decide(store, signal("verification-50", signal_id="FS-AAAAAAAAAAAA", pattern="declared_children_mismatch", evidence=["police-3"]))
    [other] = decide(store, signal("verification-51", application_id="APP-OC-0043", subject="application:APP-OC-0043", evidence=["intake-13"]))

    assert joined.id == opened.id and [s["signal_id"] for s in joined.signals] == ["FS-5D3C2B1A0F9E", "FS-AAAAAAAAAAAA"]
    assert other.id != opened.id and other.subjects == {"application_id": "APP-OC-0043"}


def test_the_same_signal_again_changes_nothing(store):
    decide(store, signal())
    head = store.log_head()

    assert decide(store, signal()) == []
    assert store.log_head() == head


def test_a_signal_on_a_closed_falsification_case_reopens_it_with_the_reason(store):
    [case] = decide(store, signal())
    case.triage("falsification", "high", "执法大队", "ZF-1")
    case.assign("ZF-011", "ZF-1")
    case.conclude(False, "经核查，未发现弄虚作假。", "2026-05-20", "ZF-1")
    case.close("ZF-1")
    store.save(case)

    [reopened] = decide(store, signal("verification-60", signal_id="FS-BBBBBBBBBBBB", evidence=["verification-59"]))

    assert reopened.status == "reopened" and reopened.reopen_reasons == [SIGNAL_AFTER_CLOSURE]
    assert [type(e).__name__ for e in store.events.get(case.id)][-2:] == ["SignalJoined", "Reopened"]


async def test_the_verification_consumer_routes_falsification_signals_and_a_redelivery_is_a_duplicate(store):
    assert FALSIFICATION_SIGNAL_SUBJECT in VERIFICATION_CONSUMER.filter_subjects
    settings = EnforcementSettings(nats_url="nats://127.0.0.1:1", store_url="memory://")
    handler = integration_event_handler(store, routes(settings.detection(lambda value, purpose, cause: value), settings.deadline_rules(), bytes(32)), lambda: None)
    delivery = Delivery(subject=FALSIFICATION_SIGNAL_SUBJECT, body=signal(), headers={"Nats-Msg-Id": "verification-41"}, stream="FP_VERIFICATION",
                        stream_sequence=7, num_delivered=1, published_at=datetime(2026, 5, 12, 2, 0, tzinfo=timezone.utc))

    first = await handler(delivery)
    again = await handler(delivery)

    assert (first, again) == ("ok", "duplicate")
    case = store.find(case_id_for("signal", "application:APP-OC-0042"))
    assert case is not None and len(case.signals) == 1


def test_enforcements_asyncapi_document_names_the_falsification_signal_once():
    from services.enforcement.entrypoints.asyncapi import document

    operations = document()["operations"].values()
    received = [m["$ref"] for o in operations if o["action"] == "receive" for m in o["messages"]]

    assert [r for r in received if "falsification_signal" in r] == [
        f"#/channels/{FALSIFICATION_SIGNAL_SUBJECT}/messages/verification.application.falsification_signal.v1"]
    assert len(received) == len(set(received)), "each message a service receives is listed once"
