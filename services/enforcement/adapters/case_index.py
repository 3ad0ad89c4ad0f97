"""Which cases have a statutory clock still running, found by following the store's own
notification log. Only the events that open a case or start, stop or spend its clock are
decoded; cases are loaded on demand. (Lists of cases read the case listing's rows:
application/case_listing.py.)"""

from __future__ import annotations

import threading
from uuid import UUID

from services.enforcement.domain.case import Case
from shared.eventstore.application import ServiceApplication

BATCH = 1000
# The events the index reads, by the end of their topic ("module:Case.Opened").
READ = tuple(f":Case.{name}" for name in ("Opened", "DeadlineSet", "Concluded", "Reopened", "DeadlineAlert"))


class CaseIndex:
    def __init__(self, store: ServiceApplication) -> None:
        self._store = store
        self._position = 0
        # Cases whose clock may still raise a "nearing" or "breached" alert: a deadline set
        # and neither answered (concluded) nor breached since. The deadline watch loads
        # only these, not every case ever opened (its cost grew with the county's history).
        self._clock_running: dict[UUID, None] = {}  # an ordered set
        self._lock = threading.Lock()

    def clock_running(self) -> list[UUID]:
        """The cases a deadline check must look at; any other case can raise no alert."""
        with self._lock:
            self._follow_log()
            return list(self._clock_running)

    def _follow_log(self) -> None:
        while True:
            notifications = self._store.read_log(self._position, BATCH)
            for notification in notifications:
                if notification.topic.endswith(READ):
                    self._note(self._store.decode(notification))
                self._position = notification.id
            if len(notifications) < BATCH:
                return

    def _note(self, event: Case.Event) -> None:
        case_id = event.originator_id
        if isinstance(event, Case.Opened):
            if event.deadline:
                self._clock_running[case_id] = None
        elif isinstance(event, Case.DeadlineSet):  # a new clock: its alerts start afresh
            self._clock_running[case_id] = None
        elif isinstance(event, Case.Concluded) or (isinstance(event, Case.DeadlineAlert) and event.alert == "breached"):
            self._clock_running.pop(case_id, None)
        elif isinstance(event, Case.Reopened):
            # Unanswered again: its clock runs on unless it has none or was spent. Reopening
            # is rare, so the case itself says (later events in the log correct it further).
            case = self._store.find(case_id)
            if case is not None and case.deadline and "breached" not in case.deadline_alerts:
                self._clock_running[case_id] = None
