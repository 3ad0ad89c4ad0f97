"""Enforcement's routing table: what it consumes and which use case decides."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from services.enforcement.application.cases import open_case_from_tip, petition_decider
from services.enforcement.application.signals import Detection, birth_decider, drug_sale_decider, on_ultrasound, termination_decider
from services.enforcement.application.subsidy_signals import open_case_from_subsidy_signal
from services.enforcement.domain.deadlines import DeadlineRules
from shared.contracts.events.intake import accepted_subject
from shared.contracts.events.subsidy import SIGNAL_RAISED_SUBJECT
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
    filter_subjects=(SIGNAL_RAISED_SUBJECT,),
    description="Subsidy signals (虚报, 冒领, 克扣…) open or join subsidy-fraud cases",
)

CONSUMERS = (INTAKE_CONSUMER, VERIFICATION_CONSUMER)


def routes(detection: Detection, deadlines: DeadlineRules) -> Mapping[str, Callable[..., Sequence]]:
    """subject -> decide(received, find); detectors and limits come from settings."""
    return {
        TIP: open_case_from_tip,
        PETITION: petition_decider(deadlines),
        ULTRASOUND: on_ultrasound,
        TERMINATION: termination_decider(detection),
        DRUG_SALE: drug_sale_decider(detection),
        BIRTH: birth_decider(detection),
        SIGNAL_RAISED_SUBJECT: open_case_from_subsidy_signal,
    }
