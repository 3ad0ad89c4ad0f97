"""An in-memory index kept by reading the service's own log from where it last stopped
(so it is rebuilt from the log at start: O(log) once, then O(new events) per catch-up).
Subclasses say what each event changes in their rows."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from shared.eventstore.application import ServiceApplication


@dataclass
class LogIndex:
    store: ServiceApplication
    position: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def catch_up(self) -> None:
        with self._lock:
            while batch := self.store.read_log(self.position, 500):
                for notification in batch:
                    self._apply(self.store.decode(notification))
                self.position = batch[-1].id

    def _apply(self, event: Any) -> None:
        raise NotImplementedError
