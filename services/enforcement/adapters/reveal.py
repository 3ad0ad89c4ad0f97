"""The audited port through which detectors read the few health details they need.

Reading personal data is itself a fact (DESIGN.md): every read is logged with what
was read and why, never the value. An erased subject reads as UNREADABLE."""

from __future__ import annotations

from typing import Any

import structlog

from services.enforcement.application.signals import UNREADABLE, Reveal
from shared.privacy.keystore import KeyErasedError
from shared.privacy.protection import PersonalDataProtector, is_token

log = structlog.get_logger("personal_data")


def revealer(protector: PersonalDataProtector) -> Reveal:
    def reveal(value: Any, purpose: str, cause: str) -> Any:
        if not is_token(value):
            return value
        try:
            plain = protector.decrypt(value)
        except KeyErasedError:
            return UNREADABLE
        # The line names the record read (`cause`, its event id), not every message of the
        # batch being handled: an anonymous tip's correlation id is its hotline record id.
        with structlog.contextvars.bound_contextvars(correlation_id=cause, causation_id=cause):
            log.info("personal_data_read", by="enforcement.detectors", field=value.get("field"), subject=value["subject"][:12], purpose=purpose)
        return plain

    return reveal
