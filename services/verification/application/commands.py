"""Officers' commands on an application (run in a worker thread: the store is synchronous).

Each command loads the file, lets the domain decide, and saves the file together with
the small register aggregates the step needs (claims, the certificate counter, the
verification code) in one transaction. A concurrent writer makes the save stale: the
command is decided again on fresh state, a few times, before giving up.

An approval asks the exclusive registers again (card, certificate, qualification): two
applications for the same child can both pass their check while neither is approved.
If the register is held, the approval is refused, and what was found is recorded first
(a fresh check citing the rule, and a falsification signal to enforcement), so nothing
found is lost with the refusal. Two approvals racing meet on the register's version.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.verification.application.applications import Applications, release
from services.verification.application.facts import exclusive_rules, holder_key, registers_of
from services.verification.domain.application_file import (
    ApplicationFile,
    Officer,
    application_file_id,
)
from services.verification.domain.errors import RuleViolation
from services.verification.domain.registers import (
    AlreadyHeldError,
    CertificateCode,
    CertificateSequence,
    Claim,
    KnownCase,
    claim_id,
    couple_key,
    known_case_id,
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
        return self.applications.version_for(file)

    def check(self, ref: str, officer: Officer, on: date) -> ApplicationFile:
        return self._run(ref, lambda f: self.applications.check(f, self.store.find, on, officer))

    def request_information(self, ref: str, officer: Officer, on: date, items: list[str]) -> ApplicationFile:
        return self._run(ref, lambda f: f.request_information(items, on, officer) or [])

    def supply_information(self, ref: str, officer: Officer, on: date, documents: list[str], note: str | None) -> ApplicationFile:
        def step(file: ApplicationFile) -> list[Aggregate]:
            file.supply_information(documents, note, on, officer)
            return self.applications.check(file, self.store.find, on, None)  # re-checked at once, by the system

        return self._run(ref, step)

    def approve(self, ref: str, officer: Officer, on: date, note: str | None) -> ApplicationFile:
        held: list[AlreadyHeldError] = []

        def step(file: ApplicationFile) -> list[Aggregate]:
            held.clear()
            file.expect_approver(on, officer)
            holders = self._exclusive_holders(file)
            held.extend(AlreadyHeldError(rule, other) for rule, holder in holders if (other := _other_holder(holder, file)))
            if held:
                on_record = {f["rule"] for f in file.findings if f["outcome"] == "fail"}
                if all(error.rule in on_record for error in held):  # the check on record already says so
                    return self.applications.held_signals(file, file.facts, self.store.find, on)  # nothing new if signalled
                return self.applications.check(file, self.store.find, on, None)  # records the finding and the signal
            file.approve(on, officer, note)
            for rule, holder in holders:
                holder.hold(file.application_id, rule)  # the register's own guard; a racing approval makes this save stale
            return [holder for _, holder in holders]

        file = self._run(ref, step)
        if held:
            raise held[0]
        return file

    def _exclusive_holders(self, file: ApplicationFile) -> list[tuple[str, Claim]]:
        """(rule, register entry) of each exclusive register this approval would hold."""
        found = []
        for register, rule in exclusive_rules(self._version(file), file.application_kind).items():
            key = holder_key(register, file, file.facts)
            if key is not None:
                found.append((rule, self.store.find(claim_id(key)) or Claim(key=key)))
        return found

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
        # Only a case enforcement announced (case.opened) and concluded as substantiated
        # (case.concluded) proves a falsification.
        case: KnownCase | None = self.store.find(known_case_id(enforcement_case))
        if case is None:
            raise RuleViolation("enforcement_case", f"执法大队没有编号为 {enforcement_case} 的案件 · no enforcement case {enforcement_case!r} is known "
                                "(open it in enforcement first, e.g. POST /cases, and name its case_number)", 422)
        case.expect_proven()

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


def _other_holder(holder: Claim, file: ApplicationFile) -> str | None:
    return next((h for h in holder.holders if h != file.application_id), None)


__all__ = ["ApplicationNotFoundError", "OfficerCommands", "RuleViolation", "new_verification_code"]
