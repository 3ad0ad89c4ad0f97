"""How a township's reports fare in one program and year: the township-failure-rate
signal is about the office that reports, not the people reported, so it needs a count
that no single beneficiary holds. Saved with the beneficiary whose check moved it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.eventstore.copying import SharesStateWhenCopied
from shared.ids import stable_id


def tally_uuid(program: str, year: int, township_code: str) -> UUID:
    return stable_id("subsidy-tally", program, str(year), township_code)


class TownshipTally(SharesStateWhenCopied, Aggregate):
    """Its events replace attributes, never change one in place: a copy of the cached tally
    shares its state (deep-copying its refusals' evidence, on every subsidy report, grew
    with the township's year)."""

    @staticmethod
    def create_id(program: str, year: int, township_code: str, **_: Any) -> UUID:
        return tally_uuid(program, year, township_code)

    @event("Started")
    def __init__(self, program: str, year: int, township_code: str) -> None:
        self.program, self.year, self.township_code = program, year, township_code
        self.checked, self.refused = 0, 0
        self.refused_evidence: list[str] = []

    @event("EnrolmentCounted")
    def count_checked(self, beneficiary_id: str) -> None:
        self.checked += 1

    @event("RefusalCounted")
    def count_refused(self, beneficiary_id: str, evidence: str) -> None:
        self.refused += 1
        self.refused_evidence = [*self.refused_evidence, evidence]
