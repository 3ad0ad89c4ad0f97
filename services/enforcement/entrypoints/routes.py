"""Enforcement's routing table: what it consumes and which use case decides."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from services.enforcement.application.cases import petition_decider, tip_decider
from services.enforcement.application.falsification_signals import open_case_from_falsification_signal
from services.enforcement.application.signals import Detection, birth_decider, drug_sale_decider, on_ultrasound, termination_decider
from services.enforcement.application.subsidy_signals import open_case_from_subsidy_signal
from services.enforcement.domain.deadlines import DeadlineRules
from shared.contracts.events.intake import accepted_subject
from shared.contracts.events.subsidy import SIGNAL_RAISED_SUBJECT
from shared.contracts.events.verification import FALSIFICATION_SIGNAL_SUBJECT
from shared.messaging.topology import ConsumerSpec

TIP = accepted_subject("hotline.tip.received")
PETITION = accepted_subject("petitions.petition.received")
ULTRASOUND = accepted_subject("health.ultrasound.recorded")
TERMINATION = accepted_subject("health.termination.recorded")
DRUG_SALE = accepted_subject("drug.sale.recorded")
BIRTH = accepted_subject("police.birth.registered")

INTAKE_CONSUMER = ConsumerSpec(
    stream="FP_INTAKE",
    durable="enforcement",
    filter_subjects=(TIP, PETITION, ULTRASOUND, TERMINATION, DRUG_SALE, BIRTH),
    description="Tips and petitions open cases; health, drug and birth records feed the two-illegals detectors",
)

VERIFICATION_CONSUMER = ConsumerSpec(
    stream="FP_VERIFICATION",
    durable="enforcement-verification",
    filter_subjects=(SIGNAL_RAISED_SUBJECT, FALSIFICATION_SIGNAL_SUBJECT),
    description="Subsidy signals (虚报, 冒领, 克扣…) open or join subsidy-fraud cases; falsification signals (弄虚作假) open or join falsification cases",
)

# The enforcement team's tools (`fpb cases watch --durable enforcement-team`) read the
# case stream through this durable: it remembers what was shown, so a watcher that
# stops resumes where it left off. Provisioned with the service's own; not pulled by it.
TEAM_CONSUMER = ConsumerSpec(
    stream="FP_ENFORCEMENT",
    durable="enforcement-team",
    filter_subjects=("fp.enforcement.case.>",),
    description="The enforcement team's case stream (fpb cases watch --durable), acknowledged as shown",
)

PULLED = (INTAKE_CONSUMER, VERIFICATION_CONSUMER)  # what the service itself handles
CONSUMERS = (*PULLED, TEAM_CONSUMER)  # every durable provisioned for enforcement


def routes(detection: Detection, deadlines: DeadlineRules, anonymous_tip_key: bytes) -> Mapping[str, Callable[..., Sequence]]:
    """subject -> decide(received, find); detectors, limits and the key anonymous tips'
    case ids are hashed under come from settings."""
    return {
        TIP: tip_decider(anonymous_tip_key),
        PETITION: petition_decider(deadlines),
        ULTRASOUND: on_ultrasound,
        TERMINATION: termination_decider(detection),
        DRUG_SALE: drug_sale_decider(detection),
        BIRTH: birth_decider(detection),
        SIGNAL_RAISED_SUBJECT: open_case_from_subsidy_signal,
        FALSIFICATION_SIGNAL_SUBJECT: open_case_from_falsification_signal,
    }
