"""Reporting's routing table: the integration events its read models are built from."""

from __future__ import annotations

from shared.messaging.topology import ConsumerSpec

CONSUMERS = (
    ConsumerSpec("FP_INTAKE", "reporting-intake", ("fp.intake.>",), "Submissions and rejections per township and source"),
    ConsumerSpec("FP_VERIFICATION", "reporting-verification", ("fp.verification.>",), "Applications"),
    ConsumerSpec("FP_ENFORCEMENT", "reporting-enforcement", ("fp.enforcement.>",), "Cases"),
)
