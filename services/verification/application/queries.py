"""What officers and third parties ask of verification: lists by state, overdue
applications per section and township, warnings before a time limit is breached,
satisfaction per section and township, and whether a certificate is genuine.

The index (a LogIndex, shared/eventstore/log_index.py) keeps one row per application in
verification's database, up to date with the log position it has read, so a question
never scans histories and a restart reads only what is new; the files it lists are
loaded from the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from services.verification.application.applications import Applications
from services.verification.domain.application_file import (
    APPLICATION_KINDS,
    OPEN,
    ApplicationFile,
)
from services.verification.domain.clock import ClockReading, earliest_warning_day, read_clock
from services.verification.domain.registers import code_id
from shared.eventstore.application import ServiceApplication
from shared.eventstore.log_index import Batch, LogIndex

STATUS_AFTER = {
    "Opened": "submitted", "DocumentsChecked": "checked", "InformationRequested": "information_requested",
    "InformationSupplied": "information_supplied", "Approved": "approved", "Refused": "refused", "Published": "published",
    "CertificateIssued": "certificate_issued", "Withdrawn": "withdrawn", "Revoked": "revoked",
}


class ApplicationIndex(LogIndex):
    """One row per application: kind, township, owning section, status and ratings."""

    AGGREGATES = ("ApplicationFile",)

    def rows_of(self, event: Any) -> list[tuple[str, str]]:
        return [("application", str(event.originator_id))] if type(event).__qualname__.startswith("ApplicationFile.") else []

    def apply(self, rows: Batch, event: Any) -> None:
        name = type(event).__qualname__.partition(".")[2]
        key = str(event.originator_id)
        if name == "Opened":
            rows.put("application", key, {
                "application_id": event.application_id, "application_kind": event.application_kind,
                "township_code": event.township_code, "section": event.section, "status": "submitted", "scores": [],
                # the clock's start and limit: a sweep tells from them alone which files can warn
                "submitted_on": event.submitted_on or event.received_on, "time_limit": None, "policy_version": None,
            })
        row = rows.get("application", key)
        if row is None:
            return
        if name in STATUS_AFTER:
            row["status"] = STATUS_AFTER[name]
        if name == "SatisfactionRated":
            row["scores"] = [*row["scores"], event.score]
        if name == "DocumentsChecked":
            row["time_limit"], row["policy_version"] = event.time_limit, event.policy_version

    def select(self, kind: str | None = None, **filters: str | tuple[str, ...] | None) -> Iterator[dict[str, Any]]:
        """The matching rows, read a page at a time; a filter is a value or a tuple of them."""
        self.catch_up()
        for key, row in self.rows.select("application", {"application_kind": kind, **filters}):
            # "kind" to callers, as an application's kind is called everywhere else
            yield {**{k: v for k, v in row.items() if k != "application_kind"}, "kind": row["application_kind"], "id": UUID(key)}


@dataclass
class Queries:
    store: ServiceApplication
    applications: Applications
    index: ApplicationIndex
    # Told "<application_id>@<due_on>" at every sweep that finds a limit breached; counts
    # each once (fpb_deadline_breaches_total{kind="application"}, shared/observability/once.py).
    on_breached: Callable[[str], None] = lambda fact: None

    def warning_days(self, policy_version: str | None) -> int:
        version = self.applications.policy.version(policy_version) if policy_version else None
        return version.warning_days if version else 0

    def clock(self, file: ApplicationFile, as_of: date) -> ClockReading | None:
        if file.time_limit is None:
            return None
        warning = self.warning_days(file.policy_version)
        stopped = date.fromisoformat(file.stopped_on) if file.stopped_on else None
        return read_clock(date.fromisoformat(file.submitted_on), file.time_limit, file.pauses, stopped, as_of, warning,
                          self.applications.calendar)

    def may_warn(self, row: dict[str, Any], as_of: date) -> bool:
        """Whether an open application's clock can be nearing or past its limit on `as_of`,
        told from its index row: the sweep and the overdue list load only those files (they
        loaded every open one, every five minutes)."""
        if row.get("submitted_on") is None or "time_limit" not in row:
            return True  # a row kept before rows held the clock's inputs: the file tells
        if row["time_limit"] is None:
            return False  # not checked yet: no clock runs
        return as_of >= earliest_warning_day(date.fromisoformat(row["submitted_on"]), row["time_limit"], self.warning_days(row["policy_version"]))

    def nearing_or_overdue(self, as_of: date, **filters: str | None) -> Iterator[tuple[ApplicationFile, ClockReading]]:
        """Each open file (matching `filters`) whose clock is nearing or past its limit on
        `as_of`, with its reading; only the files whose row says they may be are loaded."""
        for row in self.index.select(status=OPEN, **filters):
            if not self.may_warn(row, as_of):
                continue
            file: ApplicationFile = self.store.find_in_passing(row["id"])
            reading = self.clock(file, as_of)
            if reading is not None and reading.state in ("overdue", "nearing"):
                yield file, reading

    def overdue(self, as_of: date, section: str | None = None, township_code: str | None = None) -> dict[str, Any]:
        """Open applications past their time limit or close to it, and counts per section and township."""
        listed = []
        by_section: dict[str, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "nearing": 0})
        by_township: dict[str, dict[str, int]] = defaultdict(lambda: {"overdue": 0, "nearing": 0})
        for file, reading in self.nearing_or_overdue(as_of, section=section, township_code=township_code):
            listed.append({**_summary(file), "clock": reading.as_dict()})
            by_section[file.section][reading.state] += 1
            by_township[file.township_code][reading.state] += 1
        listed.sort(key=lambda item: (item["clock"]["working_days_left"], item["application_id"]))
        return {"as_of": as_of.isoformat(), "applications": listed, "by_section": dict(by_section), "by_township": dict(by_township),
                "calendar_estimated": self.applications.calendar.is_estimated(as_of)}

    def raise_warnings(self, as_of: date) -> list[str]:
        """Warn once per due date for every open application nearing or past its limit."""
        warned = []
        for file, reading in self.nearing_or_overdue(as_of):
            if reading.due_on is None:
                continue
            if reading.state == "overdue":
                # Before the once-per-due-date check: the one warning usually went out while
                # the limit was only nearing, and the breach must still be counted.
                self.on_breached(f"{file.application_id}@{reading.due_on.isoformat()}")
            if reading.due_on.isoformat() in file.warned_due_dates:
                continue
            file.warn_overdue(as_of=as_of.isoformat(), due_on=reading.due_on.isoformat(), working_days_left=reading.working_days_left)
            try:
                self.store.save(file)
            except IntegrityError:
                continue  # an officer acted at the same moment: the next sweep looks again
            warned.append(file.application_id)
        return warned

    def satisfaction(self) -> dict[str, Any]:
        """Citizens' ratings per section and per township (count and average)."""
        totals: dict[str, dict[str, list[int]]] = {"by_section": defaultdict(list), "by_township": defaultdict(list)}
        for row in self.index.select():
            totals["by_section"][row["section"]] += row["scores"]
            totals["by_township"][row["township_code"]] += row["scores"]
        return {
            view: {key: {"ratings": len(scores), "average": round(sum(scores) / len(scores), 2)} for key, scores in groups.items() if scores}
            for view, groups in totals.items()
        }

    def verify(self, code: str) -> dict[str, Any]:
        """Is this a genuine certificate, and is it still valid?"""
        assigned = self.store.find(code_id(code.strip().upper()))
        if assigned is None:
            return {"code": code, "genuine": False, "message": "no certificate carries this verification code"}
        file: ApplicationFile = self.store.find(ApplicationFile.create_id(assigned.application_id))
        current = file.status == "certificate_issued"
        answer = {
            "code": assigned.code, "genuine": True, "current": current, "certificate_no": assigned.certificate_no,
            "kind": file.application_kind, "kind_zh": APPLICATION_KINDS[file.application_kind],
            "issued_on": (file.certificate or {}).get("issued_on"), "township_code": file.township_code,
        }
        if file.revocation:
            answer.update(revoked_on=file.revocation["on"], message=f"revoked on {file.revocation['on']}: {file.revocation['reason']}")
        else:
            answer["message"] = "genuine and valid"
        return answer


def _summary(file: ApplicationFile) -> dict[str, Any]:
    return {
        "application_id": file.application_id, "kind": file.application_kind, "township_code": file.township_code,
        "section": file.section, "status": file.status, "received_on": file.received_on, "submitted_on": file.submitted_on,
    }


def describe(file: ApplicationFile, clock: ClockReading | None) -> dict[str, Any]:
    """An application as officers see it (no personal values: details stay encrypted)."""
    return {
        **_summary(file), "kind_zh": APPLICATION_KINDS.get(file.application_kind), "policy_version": file.policy_version,
        "findings": file.findings, "documents": file.documents, "pauses": file.pauses, "decision": file.decision,
        "published_on": file.published_on, "certificate": file.certificate, "revocation": file.revocation,
        "ratings": [{"score": r["score"], "rated_on": r["rated_on"]} for r in file.ratings],
        "clock": clock.as_dict() if clock else None, "version": file.version,
    }
