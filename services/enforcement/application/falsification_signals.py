"""Cases from verification's falsification signals (弄虚作假): a pure decision.

Verification publishes a FalsificationSignalV1 when an application contradicts another
record the bureau holds (a certificate already held under another application, declared
children that police records deny). The first signal on an application opens a
falsification case owned by the enforcement brigade; a later signal on the same
application joins it (and reopens it if it was closed). Redelivery changes nothing: the
handled-message marker catches the same message, the same evidence joins nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.enforcement.application.cases import Find, open_or_join_signal_case, signal_fields
from services.enforcement.domain.case import Case
from shared.contracts.events.verification import FalsificationSignalV1
from shared.contracts.integration import ReceivedEvent

CATEGORY = "falsification"
SECTION = "执法大队"  # duty 9 item 1: investigating violations is the brigade's case work


def signal_record(signal: FalsificationSignalV1) -> dict[str, Any]:
    """The fields every signal record has, plus the falsification signal's own."""
    return {**signal_fields(signal), "application_id": signal.application_id, "application_kind": signal.application_kind, "summary": signal.summary}


def open_case_from_falsification_signal(received: ReceivedEvent, find: Find) -> Sequence[Case]:
    signal: FalsificationSignalV1 = received.payload  # type: ignore[assignment]
    case = open_or_join_signal_case(find, signal_record(signal), category=CATEGORY, section=SECTION,
                                    township_code=signal.township_code, subjects={"application_id": signal.application_id})
    return (case,) if case is not None else ()
