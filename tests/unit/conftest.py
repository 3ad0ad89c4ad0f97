"""Fakes and fixtures for the unit tier: in-memory stores, a dict-backed key store,
the real duty register, and deliveries built from the frozen inbound samples."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.intake.bootstrap import IntakeStore
from services.intake.adapters.data_files import load_duty_register
from services.intake.adapters.outbox import translate
from services.intake.application.handlers import IntakeUseCase
from services.intake.domain.routing import DutyRegister
from shared.contracts.integration import OutgoingMessage
from shared.messaging.consumer import Delivery
from shared.privacy.keystore import KeyErasedError
from shared.privacy.protection import PersonalDataProtector

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
INBOUND_SAMPLES = SAMPLES / "inbound"
INTEGRATION_SAMPLES = SAMPLES / "integration"
MATCHING_KEY = b"k" * 32
# When the broker stored the inbound message (JetStream's timestamp): aware, fixed.
PUBLISHED_AT = datetime(2026, 3, 9, 1, 30, tzinfo=timezone.utc)


class FakeKeyStore:
    """The key store's interface over a dict: one AES-256-GCM key per data subject."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.erased: set[str] = set()
        self.closed = False

    def key_for(self, subject_ref: str) -> bytes:
        if subject_ref in self.erased:
            raise KeyErasedError(f"data key of subject {subject_ref[:12]}… was erased")
        if subject_ref not in self.keys:
            self.keys[subject_ref] = AESGCM.generate_key(bit_length=256)
        return self.keys[subject_ref]

    def keys_for(self, subject_refs: set[str]) -> None:
        for subject_ref in subject_refs - self.erased:
            self.key_for(subject_ref)

    def existing_key(self, subject_ref: str) -> bytes:
        if subject_ref in self.erased or subject_ref not in self.keys:
            raise KeyErasedError(f"no data key for subject {subject_ref[:12]}…")
        return self.keys[subject_ref]

    def erase(self, subject_ref: str, at: object = None) -> bool:
        readable = subject_ref in self.keys
        self.keys.pop(subject_ref, None)
        self.erased.add(subject_ref)
        return readable

    def is_erased(self, subject_ref: str) -> bool:
        return subject_ref in self.erased

    def erased_subjects(self) -> set[str]:
        return set(self.erased)

    def forget(self, subject_refs: set[str]) -> None:
        """Nothing cached: every read asks the dict."""

    def close(self) -> None:
        self.closed = True


def inbound_sample(kind: str) -> tuple[str, dict[str, Any]]:
    """(subject, message) of a frozen, valid v1 inbound record; the message is a copy."""
    frozen = json.loads((INBOUND_SAMPLES / f"{kind}.v1.json").read_text(encoding="utf-8"))
    return frozen["subject"], copy.deepcopy(frozen["message"])


def encode(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


@pytest.fixture(name="inbound_sample")
def inbound_sample_fixture() -> Callable[[str], tuple[str, dict[str, Any]]]:
    """inbound_sample(kind) -> (subject, message): a fresh copy of the frozen v1 sample."""
    return inbound_sample


@pytest.fixture
def new_intake_store() -> Callable[[], IntakeStore]:
    return lambda: IntakeStore("memory://")


@pytest.fixture
def key_store() -> FakeKeyStore:
    return FakeKeyStore()


@pytest.fixture
def protector(key_store: FakeKeyStore) -> PersonalDataProtector:
    return PersonalDataProtector(key_store, matching_key=MATCHING_KEY)  # type: ignore[arg-type]


@pytest.fixture
def intake_store() -> IntakeStore:
    return IntakeStore("memory://")


@pytest.fixture(scope="session")
def duty_register() -> DutyRegister:
    return load_duty_register()


@pytest.fixture
def intake(intake_store: IntakeStore, protector: PersonalDataProtector, duty_register: DutyRegister) -> IntakeUseCase:
    return IntakeUseCase(intake_store, protector, duty_register)


DeliveryFactory = Callable[..., Delivery]


@pytest.fixture
def delivery() -> DeliveryFactory:
    """delivery(sample_kind, seq=1, body_override=None): the frozen sample of that kind as
    the inbox delivers it at stream sequence `seq`. `body_override` replaces the body:
    bytes are sent as they are, anything else is encoded as JSON."""

    def make(sample_kind: str, seq: int = 1, body_override: Any = None) -> Delivery:
        subject, message = inbound_sample(sample_kind)
        if body_override is None:
            body = encode(message)
        elif isinstance(body_override, bytes):
            body = body_override
        else:
            body = encode(body_override)
        return Delivery(
            subject=subject,
            body=body,
            headers={"Nats-Msg-Id": str(message["record_id"])},
            stream="COUNTY_INBOX",
            stream_sequence=seq,
            num_delivered=1,
            published_at=PUBLISHED_AT,
        )

    return make


@pytest.fixture
def announced(intake: IntakeUseCase, intake_store: IntakeStore) -> Callable[[Delivery], list[OutgoingMessage]]:
    """Record a delivery with intake and return what intake's outbox announces for the
    events that recording added (integration events, receipts, dead letters)."""

    def record_and_translate(inbound: Delivery) -> list[OutgoingMessage]:
        head = intake_store.log_head()
        intake.record(inbound)
        messages: list[OutgoingMessage] = []
        for notification in intake_store.read_log(head, 100):
            messages.extend(translate(notification.id, intake_store.decode(notification)))
        return messages

    return record_and_translate


@pytest.fixture
def integration_samples() -> dict[str, dict[str, Any]]:
    """The frozen integration event envelopes, by event type."""
    return {
        path.name.removesuffix(".v1.json"): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(INTEGRATION_SAMPLES.glob("*.v1.json"))
    }
