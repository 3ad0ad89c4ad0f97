"""Cases from verification's subsidy signals (奖扶特扶违规): a pure decision.

Verification cross-checks reward and special assistance (false reporting, fraudulent
collection, skimming…) and publishes each hit as a SubsidySignalV1. The first signal
on a subject (a payment, a beneficiary or a township office) opens a case owned by
the enforcement brigade; a later signal on the same subject joins that case, so one
irregularity never becomes two cases. The signal's id travels with the case (on
case.opened, and in a signal_joined change's details) so verification can link the
signal to the case it became. People appear only as person_refs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.enforcement.application.cases import Find, open_or_join_signal_case, signal_fields
from services.enforcement.domain.case import Case
from shared.contracts.events.subsidy import SubsidySignalV1
from shared.contracts.integration import ReceivedEvent

CATEGORY = "subsidy_fraud"
SECTION = "执法大队"  # the enforcement brigade investigates irregularities in payments
# subject prefix -> the key it is filed under in the case's subjects
SUBJECT_KEYS = {"payment": "payment_id", "beneficiary": "beneficiary_id", "township": "township_code"}


def signal_record(signal: SubsidySignalV1) -> dict[str, Any]:
    """What the case keeps of a signal: the fields every signal record has, plus the
    subsidy signal's own (id, offence, money at stake, its one-line summary)."""
    return {
        **signal_fields(signal),
        "offence": signal.offence,
        "amount": None if signal.amount is None else str(signal.amount),
        "summary": signal.summary,
    }


def subjects_of(subject: str) -> dict[str, str]:
    kind, _, ref = subject.partition(":")
    key = SUBJECT_KEYS.get(kind)
    return {key: ref} if key and ref else {}


def open_case_from_subsidy_signal(received: ReceivedEvent, find: Find) -> Sequence[Case]:
    signal: SubsidySignalV1 = received.payload  # type: ignore[assignment]
    case = open_or_join_signal_case(find, signal_record(signal), category=CATEGORY, section=SECTION,
                                    township_code=signal.township_code, subjects=subjects_of(signal.subject))
    return (case,) if case is not None else ()
