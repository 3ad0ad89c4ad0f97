"""Verification's use cases for what arrives from intake: an accepted application opens
its file and is checked at once; a citizen's satisfaction rating is attached to it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from services.verification.application.facts import (
    exclusive_rules,
    fixed_facts,
    for_checks,
    holder_refs,
    live_facts,
    read_details,
    reveal,
)
from services.verification.domain.application_file import (
    ApplicationFile,
    Officer,
    application_file_id,
)
from services.verification.domain.falsification import already_held, children_mismatch, raise_or_join
from services.verification.domain.policy import PolicyTable, PolicyVersion, evaluate
from services.verification.domain.registers import Claim, claim_id, couple_key
from services.verification.domain.subsidy.beneficiary import Beneficiary, beneficiary_uuid
from shared.calendar import WorkingCalendar, county_day
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.integration import ReceivedEvent
from shared.privacy.protection import PersonalDataProtector

Find = Callable[[UUID], Any]


class UnknownApplicationError(LookupError):
    """A rating for an application verification has not opened (yet): retried, then dead-lettered."""


def claim(find: Find, key: str, application_id: str) -> Claim:
    existing: Claim | None = find(claim_id(key))
    holder = existing or Claim(key=key)
    holder.claim(application_id)
    return holder


def release(find: Find, key: str, application_id: str) -> Claim | None:
    existing: Claim | None = find(claim_id(key))
    if existing is None or application_id not in existing.holders:
        return None
    existing.release(application_id)
    return existing


@dataclass
class Applications:
    policy: PolicyTable
    calendar: WorkingCalendar
    protector: PersonalDataProtector | None

    def version_for(self, file: ApplicationFile) -> PolicyVersion:
        """The rules in force on the day the county received the application (where its clock
        starts): a township cannot pick the rules by the date it writes on the filing."""
        return self.policy.in_force_on(date.fromisoformat(file.submitted_on))

    def check(self, file: ApplicationFile, find: Find, on: date, officer: Officer | None,
              fixed: dict[str, Any] | None = None) -> list[Aggregate]:
        """Run every rule of the version in force on the day the county received it.
        Returns the falsification signals the check raised (to save with the file)."""
        version = self.version_for(file)
        fixed = fixed if fixed is not None else file.facts
        facts = live_facts(file, fixed, version, find)
        findings = [f.as_dict() for f in evaluate(version, file.application_kind, for_checks(facts))]
        file.check_documents(version.version, version.time_limits[file.application_kind], findings, facts, on, officer)
        return [*self.held_signals(file, facts, find, on), *self.children_signals(file, facts, find, on)]

    def children_signals(self, file: ApplicationFile, facts: dict[str, Any], find: Find, on: date) -> list[Aggregate]:
        """Children declared living whom a death report (or the pension roll) records as dead
        before the township received the application."""
        dead = [person for ref in facts.get("declared_living_refs", ())
                if (person := find(beneficiary_uuid(ref))) is not None and _dead_by(person, file.received_on)]
        if not dead:
            return []
        evidence = [file.intake_event_id, *(e for person in dead for e in person.death_evidence)]
        signal = raise_or_join(find, children_mismatch(file, [p.person_ref for p in dead], evidence), on.isoformat())
        return [signal] if signal else []

    def held_signals(self, file: ApplicationFile, facts: dict[str, Any], find: Find, on: date) -> list[Aggregate]:
        """A card, certificate or qualification already held through another application is
        a falsification signal to enforcement (one per application, whenever it is found)."""
        version = self.version_for(file)
        signals = []
        for register in exclusive_rules(version, file.application_kind):
            holder = facts.get(f"{register}_held_by")
            if not holder:
                continue
            holding: ApplicationFile | None = find(application_file_id(holder))
            evidence = [file.intake_event_id, holding.intake_event_id if holding else None]
            signal = raise_or_join(find, already_held(file, register, holder, holder_refs(register, file, facts), evidence), on.isoformat())
            signals += [signal] if signal else []
        return signals

    def open_application(self, received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
        """An accepted `application.submitted` opens its file once, and is checked at once."""
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data = submission.data
        existing: ApplicationFile | None = find(application_file_id(data["application_id"]))
        if existing is not None:
            if submission.submission_id in existing.submission_ids:
                return ()
            existing.note_resubmission(submission.submission_id)
            return (existing,)
        kind, received_on = data["kind"], date.fromisoformat(data["received_on"])
        # The county's clock starts when the county received it (intake's broker time), never
        # on a date the township sets itself: not its occurred_at (kept for C-3 under the older
        # versions and for the backdating check, C-4), nor its received_on (intake refuses one
        # later than the report; C-3 flags one later than the reception).
        submitted_on = county_day(submission.received_at)
        details = read_details(kind, reveal(self.protector, data.get("details")))
        ids = {name: reveal(self.protector, data.get(name)) for name in ("applicant_id_number", "spouse_id_number")}
        version = self.policy.in_force_on(submitted_on)
        person_ref = self.protector.person_ref if self.protector else None
        facts = fixed_facts(kind, ids, details, received_on, submitted_on, version, self.calendar, person_ref,
                            township_dated_on=county_day(submission.occurred_at))
        file = ApplicationFile(
            application_id=data["application_id"],
            application_kind=kind,
            township_code=submission.township_code or "",
            section=submission.section,
            submission_id=submission.submission_id,
            record_id=submission.record_id,
            received_on=data["received_on"],
            applicant_ref=submission.person_refs["applicant_id_number"],
            spouse_ref=submission.person_refs.get("spouse_id_number"),
            details=data.get("details"),
            submitted_on=submitted_on.isoformat(),
            submitted_by=details.submitted_by.id if details and details.submitted_by else None,
            intake_event_id=received.envelope.event_id,
        )
        signals = self.check(file, find, submitted_on, None, facts)
        couple = claim(find, couple_key(kind, file.applicant_ref, file.spouse_ref), file.application_id)
        return (file, couple, *signals)

    def rate_application(self, received: ReceivedEvent, find: Find) -> Sequence[Aggregate]:
        """A citizen's rating on the online hall, attached to the application (and so to its
        section and township)."""
        submission: SubmissionAcceptedV1 = received.payload  # type: ignore[assignment]
        data = submission.data
        file: ApplicationFile | None = find(application_file_id(data["application_id"]))
        if file is None:
            raise UnknownApplicationError(f"no application {data['application_id']!r} to attach the rating to")
        if any(r["submission_id"] == submission.submission_id for r in file.ratings):
            return ()
        file.rate(score=data["score"], comment=data.get("comment"), submission_id=submission.submission_id,
                  rated_on=county_day(submission.occurred_at).isoformat())
        return (file,)


def _dead_by(person: Beneficiary, day: str) -> bool:
    return person.deceased_since is not None and person.deceased_since <= day
