"""Enforcement on a real nats-server and a real store (SQLite and PostgreSQL): a subsidy
signal published by verification on fp.verification.subsidy.signal_raised opens a
subsidy-fraud case (case.opened names the signal), and a second signal on the same
payment joins it (signal_joined names that signal). A falsification signal (the frozen
sample) on fp.verification.application.falsification_signal opens a falsification case."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import httpx
from support import collect, running

from services.enforcement.bootstrap import bootstrap as enforcement_bootstrap
from services.enforcement.settings import EnforcementSettings
from shared.contracts.events.subsidy import SIGNAL_RAISED, SIGNAL_RAISED_SUBJECT, SubsidySignalV1
from shared.contracts.events.verification import FALSIFICATION_SIGNAL_SUBJECT
from shared.contracts.integration import OutgoingMessage, make_event
from tests.identity_support import acting_officers


def a_signal(n: int, signal_id: str, pattern: str, offence: str, evidence: str) -> OutgoingMessage:
    payload = SubsidySignalV1(
        signal_id=signal_id, pattern=pattern, offence=offence, township_code="130132203", subject="payment:PAY-2026-SP-000004",
        evidence=[evidence], person_refs=["pr-" + "b" * 61], amount=Decimal("1800.00"), detected_on="2026-08-15",
        summary="特别扶助金发放异常",
    )
    return make_event(
        event_type=SIGNAL_RAISED, event_id=f"verification-{n}", producer="verification", aggregate_id=signal_id, aggregate_version=1,
        occurred_at=datetime(2026, 8, 15, 2, 0, tzinfo=timezone.utc), correlation_id="PAY-2026-SP-000004", causation_id=evidence,
        payload=payload, subject=SIGNAL_RAISED_SUBJECT,
    )


async def test_subsidy_signals_open_one_case_per_subject_and_name_the_signal(nats_server, js, store_url):
    settings = EnforcementSettings(nats_url=nats_server.url, store_url=store_url)
    first = a_signal(10, "SG-00000000AAAA", "paid_after_death", "fraudulent_collection", "verification-7")
    second = a_signal(11, "SG-00000000BBBB", "followup_shortfall", "skimming", "verification-9")
    async with running(enforcement_bootstrap(settings)):
        for message in (first, first, second):  # the first one twice: the broker and the handler de-duplicate
            await js.publish(message.subject, message.body, stream="FP_VERIFICATION", headers={"Nats-Msg-Id": message.message_id})
        [opened] = await collect(js, "fp.enforcement.case.opened", 1)
        [joined] = await collect(js, "fp.enforcement.case.signal_joined", 1)

    assert opened["payload"]["signal_id"] == "SG-00000000AAAA"
    assert (opened["payload"]["origin"], opened["payload"]["category"], opened["payload"]["section"]) == ("signal", "subsidy_fraud", "执法大队")
    assert joined["payload"]["case_number"] == opened["payload"]["case_number"]
    assert joined["payload"]["details"]["signal_id"] == "SG-00000000BBBB"
    info = await js.stream_info("FP_ENFORCEMENT")
    assert info.state.messages == 2, "one case, one join: nothing twice"


FALSIFICATION_SAMPLE = Path(__file__).parent.parent / "samples" / "integration" / "verification.application.falsification_signal.v1.json"


async def test_a_falsification_signal_opens_one_falsification_case_for_its_application(nats_server, js, store_url):
    settings = EnforcementSettings(nats_url=nats_server.url, store_url=store_url)
    body = FALSIFICATION_SAMPLE.read_bytes()
    async with running(enforcement_bootstrap(settings)) as service:
        for _ in range(2):  # published twice: the broker and the handler de-duplicate
            await js.publish(FALSIFICATION_SIGNAL_SUBJECT, body, stream="FP_VERIFICATION", headers={"Nats-Msg-Id": "verification-41"})
        [opened] = await collect(js, "fp.enforcement.case.opened", 1)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=service.http), base_url="http://enforcement", auth=acting_officers("ZF-001")) as client:
            shown = (await client.get(f"/cases/{opened['payload']['case_number']}")).json()

    assert (opened["payload"]["origin"], opened["payload"]["category"], opened["payload"]["section"]) == ("signal", "falsification", "执法大队")
    assert shown["subjects"] == {"application_id": "APP-OC-0042"}
    assert [s["evidence"] for s in shown["signals_detail"]] == [["intake-12", "verification-17"]]
    assert (await js.stream_info("FP_ENFORCEMENT")).state.messages == 1
