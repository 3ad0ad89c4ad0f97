"""Officers' commands on an application (run in a worker thread: the store is synchronous).

Each command loads the file, lets the domain decide, and saves the file together with
the small register aggregates the step needs (claims, the certificate counter, the
verification code) in one transaction. A concurrent writer makes the save stale: the
command is decided again on fresh state, a few times, before giving up.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.verification.application.applications import Applications, claim, release
from services.verification.application.facts import holder_key, registers_of
from services.verification.domain.application_file import (
    ApplicationFile,
    Officer,
    application_file_id,
)
from services.verification.domain.errors import RuleViolation
from services.verification.domain.registers import (
    CertificateCode,
    CertificateSequence,
    couple_key,
    sequence_id,
)
from shared.eventstore.application import ServiceApplication, StaleAggregateError

RETRIES = 8
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone


class ApplicationNotFoundError(LookupError):
    pass


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


Step = Callable[[ApplicationFile], list[Aggregate]]


@dataclass
class OfficerCommands:
    store: ServiceApplication
    applications: Applications
    new_code: Callable[[], str] = new_verification_code
    wake: Callable[[], None] = lambda: None  # wakes the outbox relay after a save

    def _run(self, ref: str, step: Step) -> ApplicationFile:
        for _ in range(RETRIES):
            file: ApplicationFile | None = self.store.find(application_file_id(ref))
            if file is None:
                raise ApplicationNotFoundError(ref)
            others = step(file)
            try:
                self.store.save(file, *others)
            except IntegrityError:
                continue  # someone else moved one of them on: decide again
            return file
        raise StaleAggregateError(f"gave up on {ref} after {RETRIES} concurrent conflicts")

    def _version(self, file: ApplicationFile) -> Any:
        return self.applications.policy.in_force_on(date.fromisoformat(file.received_on))

    def check(self, ref: str, officer: Officer, on: date) -> ApplicationFile:
        return self._run(ref, lambda f: self.applications.check(f, self.store.find, on, officer) or [])

    def request_information(self, ref: str, officer: Officer, on: date, items: list[str]) -> ApplicationFile:
        return self._run(ref, lambda f: f.request_information(items, on, officer) or [])

    def supply_information(self, ref: str, officer: Officer, on: date, documents: list[str], note: str | None) -> ApplicationFile:
        def step(file: ApplicationFile) -> list[Aggregate]:
            file.supply_information(documents, note, on, officer)
            self.applications.check(file, self.store.find, on, None)  # re-checked at once, by the system
            return []

        return self._run(ref, step)

    def approve(self, ref: str, officer: Officer, on: date, note: str | None) -> ApplicationFile:
        def step(file: ApplicationFile) -> list[Aggregate]:
            file.approve(on, officer, note)
            granted = []
            for register in registers_of(self._version(file), file.application_kind):
                key = holder_key(register, file, file.facts)
                if key is not None:
                    granted.append(claim(self.store.find, key, file.application_id))
            return granted

        return self._run(ref, step)

    def refuse(self, ref: str, officer: Officer, on: date, reasons: list[dict[str, str]]) -> ApplicationFile:
        def step(file: ApplicationFile) -> list[Aggregate]:
            known = {rule.id for rule in self._version(file).rules_for(file.application_kind)}
            file.refuse(on, officer, reasons, known)
            return self._release_couple(file)

        return self._run(ref, step)

    def publish(self, ref: str, officer: Officer, on: date) -> ApplicationFile:
        return self._run(ref, lambda f: f.publish(on, officer) or [])

    def issue_certificate(self, ref: str, officer: Officer, on: date) -> ApplicationFile:
        def step(file: ApplicationFile) -> list[Aggregate]:
            if file.status != "published":
                file.issue_certificate("", "", on, officer)  # raises the domain's explanation
            sequence = self.store.find(sequence_id(file.application_kind, on.year)) or CertificateSequence(file.application_kind, on.year)
            number = sequence.next_number(file.application_id)
            code = self.new_code()
            file.issue_certificate(number, code, on, officer)
            return [sequence, CertificateCode(code=code, application_id=file.application_id, certificate_no=number)]

        return self._run(ref, step)

    def withdraw(self, ref: str, officer: Officer, on: date, reason: str | None) -> ApplicationFile:
        def step(file: ApplicationFile) -> list[Aggregate]:
            file.withdraw(on, reason, officer)
            return self._release_couple(file)

        return self._run(ref, step)

    def revoke(self, ref: str, officer: Officer, on: date, reason: str, enforcement_case: str) -> ApplicationFile:
        def step(file: ApplicationFile) -> list[Aggregate]:
            file.revoke(on, reason, enforcement_case, officer)
            released = self._release_couple(file)
            for register in registers_of(self._version(file), file.application_kind):
                key = holder_key(register, file, file.facts)
                holder = release(self.store.find, key, file.application_id) if key else None
                released += [holder] if holder else []
            return released

        return self._run(ref, step)

    def _release_couple(self, file: ApplicationFile) -> list[Aggregate]:
        holder = release(self.store.find, couple_key(file.application_kind, file.applicant_ref, file.spouse_ref), file.application_id)
        return [holder] if holder else []


__all__ = ["ApplicationNotFoundError", "OfficerCommands", "RuleViolation", "new_verification_code"]
