"""The enforcement team's case lists, read from rows kept in enforcement's database.

Listing used to load every case ever opened at each request: a province's years of
cases made one list a minute's work. The listing (a LogIndex) follows enforcement's log
and keeps one row per case, the case's line in a list (domain/views.py, case_row),
written from the case's state after each batch of the log that touched it. A list reads
rows a page at a time, in the order the cases were opened; the overdue list reads only
the cases whose statutory clock runs unanswered.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any
from uuid import UUID

from services.enforcement.domain.views import case_row
from shared.eventstore.log_index import Batch, LogIndex

KIND = "case"


def listing_key(case: Any) -> str:
    """Rows sort as the cases were opened (their creation time, to the microsecond), and
    two cases opened in the same microsecond by their ids."""
    return f"{case.created_on.strftime('%Y%m%dT%H%M%S%f')}|{case.id}"


class CaseListing(LogIndex):
    AGGREGATES = ("Case",)

    def rows_of(self, event: Any) -> list[tuple[str, str]]:
        return []  # a row is written afresh from the case's state: no stored row is read

    def apply_batch(self, rows: Batch, events: list[Any]) -> None:
        # Each case the batch touched, loaded once, whatever the number of its events in it.
        for case_id in dict.fromkeys(event.originator_id for event in events):
            case = self.store.find_in_passing(case_id)
            row = case_row(case)
            rows.put(KIND, listing_key(case), {**row, "awaiting_answer": int(bool(row["deadline"]) and not row["answered"])})

    def page(self, filters: dict[str, str | None], limit: int, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` rows matching `filters` (None: any) after the cursor `after`, and
        the cursor of the next page (None: this was the last)."""
        self.catch_up()
        found = list(islice(self.rows.select(KIND, filters, after), limit + 1))
        more = len(found) > limit
        return [row for _, row in found[:limit]], found[limit - 1][0] if more else None

    def awaiting_answer(self) -> Iterator[dict[str, Any]]:
        """The cases whose statutory clock runs unanswered (may be nearing or breached)."""
        self.catch_up()
        return (row for _, row in self.rows.select(KIND, {"awaiting_answer": 1}))

    def by_number(self, case_number: str) -> UUID | None:
        self.catch_up()
        for _, row in self.rows.select(KIND, {"case_number": case_number}):
            return UUID(row["case_id"])
        return None
