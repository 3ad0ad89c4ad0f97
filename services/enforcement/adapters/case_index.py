"""Which cases exist, found by following the store's own notification log (no second
database). Only `Case.Opened` notifications are decoded; cases are loaded on demand."""

from __future__ import annotations

import threading
from uuid import UUID

from shared.eventstore.application import ServiceApplication

OPENED_TOPIC_SUFFIX = ":Case.Opened"
BATCH = 1000


class CaseIndex:
    def __init__(self, store: ServiceApplication) -> None:
        self._store = store
        self._position = 0
        self._ids: list[UUID] = []
        self._by_number: dict[str, UUID] = {}
        self._lock = threading.Lock()

    def catch_up(self) -> list[UUID]:
        with self._lock:
            while True:
                notifications = self._store.read_log(self._position, BATCH)
                for notification in notifications:
                    if notification.topic.endswith(OPENED_TOPIC_SUFFIX):
                        opened = self._store.decode(notification)
                        self._ids.append(opened.originator_id)
                        self._by_number[opened.case_number] = opened.originator_id
                    self._position = notification.id
                if len(notifications) < BATCH:
                    return list(self._ids)

    def by_number(self, case_number: str) -> UUID | None:
        self.catch_up()
        return self._by_number.get(case_number)
