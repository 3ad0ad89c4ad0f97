"""Intake's AsyncAPI document: the inbound contract it receives, and what it sends."""

from __future__ import annotations

from typing import Any

from services.intake.entrypoints.inbox import CONSUMERS
from shared.contracts.asyncapi import Channel, RejectedRecordV1, asyncapi_document, dead_letters
from shared.contracts.events.intake import SubmissionAcceptedV1, SubmissionRejectedV1, accepted_subject, rejected_subject
from shared.contracts.inbound import Envelope
from shared.contracts.inbound_models import DATA_MODELS_V1
from shared.contracts.receipts import Receipt


def inbound_subject(kind: str) -> str:
    if kind.startswith("township."):
        return "township.{township_code}." + kind.removeprefix("township.")
    return f"county.{kind}"


def document() -> dict[str, Any]:
    receives = [
        Channel(inbound_subject(kind), f"inbound.{kind}.v1", model, "Inbound record (CONTRACT.md)", Envelope, "data")
        for kind, model in DATA_MODELS_V1.items()
    ]
    sends = [
        Channel(accepted_subject("{kind}"), "intake.submission.accepted.v1", SubmissionAcceptedV1, "An accepted record, routed to its section"),
        Channel(rejected_subject("{source}"), "intake.submission.rejected.v1", SubmissionRejectedV1, "A rejected record's reasons"),
        Channel("fp.receipts.{source}", "receipt", Receipt, "One receipt per inbound record (CONTRACT.md)", None),
        Channel("fp.dlq.intake.rejected.{source}", "intake.rejected_record.v1", RejectedRecordV1,
                "A rejected record with its (encrypted) bytes, for whoever corrects it at the source", None),
        *dead_letters("intake", CONSUMERS),
    ]
    return asyncapi_document("intake", "Validates, de-duplicates and routes every inbound record", receives, sends)
