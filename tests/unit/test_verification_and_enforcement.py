"""Verification opens application files and enforcement opens cases from intake's
accepted submissions, once each, however often the event arrives."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from services.verification.bootstrap import VerificationStore
from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.application.cases import tip_decider
from services.enforcement.domain.case import Case, anonymous_case_id, case_id_for
from services.verification.adapters.policy_file import load_policy_table
from services.verification.application.applications import Applications
from services.verification.domain.application_file import ApplicationFile, application_file_id
from shared.calendar import WorkingCalendar
from shared.contracts.events.intake import accepted_subject
from shared.contracts.integration import read_event
from shared.eventstore.application import HandledMessage, ServiceApplication
from shared.messaging.consumer import Delivery, PermanentError
from shared.messaging.event_handler import integration_event_handler
from shared.privacy.protection import is_token

APPLICATION = "township.application.submitted"
TIP = "hotline.tip.received"
APPLICATION_SUBJECT = accepted_subject(APPLICATION)
TIP_SUBJECT = accepted_subject(TIP)
# Without a key store: the personal checks ask for information (tests/unit/test_application_lifecycle.py covers them).
open_application = Applications(load_policy_table(), WorkingCalendar(), protector=None).open_application
TIP_KEY = bytes(range(32))  # enforcement's anonymous-tip key, in tests
open_case_from_tip = tip_decider(TIP_KEY)
OPENED_AND_CHECKED = ["ApplicationFile.Opened", "ApplicationFile.DocumentsChecked", "Claim.Created", "Claim.Claimed"]


# Fast, in memory here; tests/integration/test_store_checks_on_every_backend.py runs the
# same tests on SQLite and PostgreSQL with these store fixtures overridden.
@pytest.fixture
def verification_store() -> VerificationStore:
    return VerificationStore("memory://")


@pytest.fixture
def enforcement_store() -> EnforcementStore:
    return EnforcementStore("memory://")


@pytest.fixture
def accepted(announced, delivery):
    """accepted(kind, seq=1, body_override=None): the intake.submission.accepted message
    intake announces for that inbound record."""

    def make(kind: str, seq: int = 1, body_override=None):
        messages = announced(delivery(kind, seq=seq, body_override=body_override))
        [event] = [message for message in messages if message.subject.startswith("fp.intake.accepted.")]
        return event

    return make


def decide_and_save(store: ServiceApplication, decide, message) -> list:
    aggregates = list(decide(read_event(message.body), store.find))
    if aggregates:
        store.save(*aggregates)
    return aggregates


def event_types(store: ServiceApplication) -> list[str]:
    return [type(store.decode(notification)).__qualname__ for notification in store.read_log(0, 100)]


# --- verification -----------------------------------------------------------------------


def test_an_accepted_application_opens_one_application_file_with_the_applicants_person_ref(
    accepted, verification_store, inbound_sample, protector
):
    _, message = inbound_sample(APPLICATION)
    data = message["data"]

    [opened, _couples_claim] = decide_and_save(verification_store, open_application, accepted(APPLICATION))

    file = verification_store.find(application_file_id("APP-130132102-2026-0057"))
    assert isinstance(file, ApplicationFile)
    assert file.id == opened.id
    assert file.applicant_ref == protector.person_ref(data["applicant_id_number"])
    assert file.spouse_ref == protector.person_ref(data["spouse_id_number"])
    assert (file.application_kind, file.township_code, file.section) == ("rebirth_approval", "130132102", "法规科")
    assert file.received_on == "2026-03-06"
    assert file.record_id == "JSB-130132102-2026-0057"
    assert file.status == "checked", "checked on arrival"
    assert is_token(file.details), "the details stay encrypted"
    assert event_types(verification_store) == OPENED_AND_CHECKED


def test_an_application_without_a_spouse_opens_with_no_spouse_ref(accepted, verification_store, inbound_sample):
    _, message = inbound_sample(APPLICATION)
    message["data"]["spouse_id_number"] = None

    decide_and_save(verification_store, open_application, accepted(APPLICATION, body_override=message))

    assert verification_store.find(application_file_id("APP-130132102-2026-0057")).spouse_ref is None


def test_the_same_application_resubmitted_under_another_submission_is_noted_once_not_duplicated(
    accepted, verification_store, inbound_sample
):
    _, resubmission = inbound_sample(APPLICATION)
    resubmission["record_id"] = "JSB-130132102-2026-0058"
    first = accepted(APPLICATION, seq=1)
    second = accepted(APPLICATION, seq=2, body_override=resubmission)
    decide_and_save(verification_store, open_application, first)

    noted = decide_and_save(verification_store, open_application, second)
    again = decide_and_save(verification_store, open_application, second)

    assert [aggregate.id for aggregate in noted] == [application_file_id("APP-130132102-2026-0057")]
    assert again == []
    file = verification_store.find(application_file_id("APP-130132102-2026-0057"))
    assert file.submission_ids == [read_event(first.body).payload.submission_id, read_event(second.body).payload.submission_id]
    assert file.version == 3
    assert event_types(verification_store) == [*OPENED_AND_CHECKED, "ApplicationFile.ResubmissionNoted"]


def test_the_same_submission_again_changes_nothing(accepted, verification_store):
    message = accepted(APPLICATION)
    decide_and_save(verification_store, open_application, message)
    head = verification_store.log_head()

    assert open_application(read_event(message.body), verification_store.find) == ()
    assert verification_store.log_head() == head


# --- enforcement ------------------------------------------------------------------------


def test_a_named_hotline_tip_opens_one_case_owned_by_the_submissions_section(accepted, enforcement_store, inbound_sample):
    _, tip = inbound_sample(TIP)
    tip["data"]["anonymous"] = False
    message = accepted(TIP, body_override=tip)
    submission = read_event(message.body).payload

    [case] = decide_and_save(enforcement_store, open_case_from_tip, message)

    assert case.id == case_id_for("hotline_tip", submission.submission_id)
    stored = enforcement_store.find(case.id)
    assert isinstance(stored, Case)
    assert re.fullmatch(r"ZF-2026-[0-9A-F]{8}", stored.case_number)
    assert stored.case_number == f"ZF-2026-{case.id.hex[:8].upper()}"
    assert stored.section == submission.section == "执法大队"
    assert (stored.origin, stored.source_ref) == ("hotline_tip", submission.submission_id)
    assert (stored.category, stored.channel, stored.township_code) == ("two_illegals", "phone", "130132105")
    assert stored.record_id == "HL-2026-000642"
    assert stored.status == "opened"
    assert is_token(stored.summary), "the tip's text stays encrypted"
    assert event_types(enforcement_store) == ["Case.Opened"]


def test_an_anonymous_tips_case_keeps_nothing_that_leads_back_to_the_tipster(accepted, enforcement_store):
    message = accepted(TIP)  # the frozen sample tip is anonymous
    submission = read_event(message.body).payload

    [case] = decide_and_save(enforcement_store, open_case_from_tip, message)

    stored = enforcement_store.find(case.id)
    assert stored.id == anonymous_case_id(TIP_KEY, submission.submission_id), "still one case per tip, under enforcement's key"
    assert stored.id != case_id_for("hotline_tip", submission.submission_id), "the submission id alone does not find the case"
    assert stored.id != anonymous_case_id(bytes(32), submission.submission_id), "nor does it under another key"
    assert (stored.anonymous, stored.source_ref, stored.record_id, stored.channel) == (True, "", None, None)
    [opened] = [e for e in enforcement_store.events.get(case.id)]
    assert submission.record_id not in repr(vars(opened)) and submission.submission_id not in repr(vars(opened))


@pytest.mark.parametrize("anonymous", [True, False])
def test_a_case_keeps_the_tips_anonymous_flag(accepted, enforcement_store, inbound_sample, anonymous):
    _, message = inbound_sample(TIP)
    message["data"]["anonymous"] = anonymous

    [case] = decide_and_save(enforcement_store, open_case_from_tip, accepted(TIP, body_override=message))

    assert enforcement_store.find(case.id).anonymous is anonymous


def test_the_case_number_year_is_the_year_the_tip_was_made_in_county_time(accepted, enforcement_store, inbound_sample):
    _, message = inbound_sample(TIP)
    message["occurred_at"] = "2026-01-01T00:30:00+08:00"  # still 2025 in UTC

    [case] = decide_and_save(enforcement_store, open_case_from_tip, accepted(TIP, body_override=message))

    assert case.case_number.startswith("ZF-2026-")


def test_the_same_tip_again_opens_nothing(accepted, enforcement_store):
    message = accepted(TIP)
    decide_and_save(enforcement_store, open_case_from_tip, message)
    head = enforcement_store.log_head()

    assert open_case_from_tip(read_event(message.body), enforcement_store.find) == ()
    assert enforcement_store.log_head() == head


# --- the integration event handler ---------------------------------------------------------


def delivered(message, seq: int = 1, body: bytes | None = None) -> Delivery:
    return Delivery(
        subject=message.subject,
        body=message.body if body is None else body,
        headers={"Nats-Msg-Id": message.message_id, **message.headers},
        stream="FP_INTAKE",
        stream_sequence=seq,
        num_delivered=1,
        published_at=datetime(2026, 3, 9, 1, 30, 5, tzinfo=timezone.utc),
    )


class RelayBell:
    def __init__(self) -> None:
        self.rings = 0

    def __call__(self) -> None:
        self.rings += 1


@pytest.fixture
def bell() -> RelayBell:
    return RelayBell()


@pytest.fixture
def verification_handler(verification_store, bell):
    return integration_event_handler(verification_store, {APPLICATION_SUBJECT: open_application}, bell)


async def test_the_same_integration_event_delivered_twice_is_ok_then_duplicate_with_one_aggregate(
    accepted, verification_store, verification_handler, bell
):
    message = accepted(APPLICATION)

    first = await verification_handler(delivered(message, seq=1))
    second = await verification_handler(delivered(message, seq=1))

    assert (first, second) == ("ok", "duplicate")
    assert event_types(verification_store) == ["HandledMessage.Handled", *OPENED_AND_CHECKED]
    assert verification_store.find(application_file_id("APP-130132102-2026-0057")).version == 2
    assert verification_store.was_handled(message.message_id)
    assert bell.rings == 1, "only new events wake the outbox relay"


async def test_an_integration_event_republished_later_on_another_stream_sequence_is_still_a_duplicate(
    accepted, verification_store, verification_handler
):
    message = accepted(APPLICATION)
    await verification_handler(delivered(message, seq=1))

    assert await verification_handler(delivered(message, seq=77)) == "duplicate"
    assert len(event_types(verification_store)) == 5


async def test_a_new_event_that_changes_nothing_is_ignored_but_remembered(
    accepted, verification_store, verification_handler, bell
):
    message = accepted(APPLICATION)
    await verification_handler(delivered(message))
    envelope = read_event(message.body).envelope
    renamed = message.body.replace(envelope.event_id.encode(), b"intake-relay-copy", 1)

    outcome = await verification_handler(delivered(message, seq=2, body=renamed))

    assert outcome == "ignored"
    assert verification_store.was_handled("intake-relay-copy")
    assert event_types(verification_store).count("ApplicationFile.Opened") == 1
    assert bell.rings == 1


async def test_a_batch_holding_a_message_handled_before_is_refused_whole_and_one_by_one_finds_the_duplicate(
    accepted, enforcement_store, bell, inbound_sample
):
    handler = integration_event_handler(enforcement_store, {TIP_SUBJECT: open_case_from_tip}, bell)
    _, tip = inbound_sample(TIP)
    first, second = accepted(TIP), accepted(TIP, seq=2, body_override={**tip, "record_id": "HL-2026-000999"})
    assert await handler.handle_many([delivered(first, seq=1)]) == ["ok"]
    head = enforcement_store.log_head()

    with pytest.raises(Exception):  # noqa: B017 - the store's integrity error: the consumer then goes one by one
        await handler.handle_many([delivered(first, seq=1), delivered(second, seq=2)])
    assert enforcement_store.log_head() == head, "nothing of the refused batch was saved"

    assert [await handler(delivered(first, seq=1)), await handler(delivered(second, seq=2))] == ["duplicate", "ok"]
    assert event_types(enforcement_store).count("Case.Opened") == 2


async def test_a_tip_delivered_twice_opens_one_case(accepted, enforcement_store, bell):
    handler = integration_event_handler(enforcement_store, {TIP_SUBJECT: open_case_from_tip}, bell)
    message = accepted(TIP)

    outcomes = [await handler(delivered(message)), await handler(delivered(message))]

    assert outcomes == ["ok", "duplicate"]
    assert event_types(enforcement_store) == ["HandledMessage.Handled", "Case.Opened"]


async def test_an_unreadable_body_raises_a_permanent_error(accepted, verification_store, verification_handler):
    message = accepted(APPLICATION)

    with pytest.raises(PermanentError, match="unreadable"):
        await verification_handler(delivered(message, body=b"\x00 not an envelope"))
    assert verification_store.log_head() == 0


async def test_an_event_of_an_unknown_type_raises_a_permanent_error(accepted, verification_handler):
    message = accepted(APPLICATION)
    body = message.body.replace(b'"type":"intake.submission.accepted"', b'"type":"intake.submission.withdrawn"')

    with pytest.raises(PermanentError):
        await verification_handler(delivered(message, body=body))


async def test_an_event_on_a_subject_without_a_route_raises_a_permanent_error(accepted, verification_handler):
    tip = accepted(TIP)

    with pytest.raises(PermanentError, match="no route"):
        await verification_handler(delivered(tip))


def test_a_handled_message_marker_is_keyed_by_the_message_id():
    assert HandledMessage.create_id("intake-1") == HandledMessage.create_id("intake-1")
    assert HandledMessage.create_id("intake-1") != HandledMessage.create_id("intake-2")
