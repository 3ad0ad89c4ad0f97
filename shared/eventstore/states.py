"""The state of an aggregate right after one of its events, for outbox translators.

A relay reads the log in order, so the state after an aggregate's previous event is
usually at hand: applying the event to it costs one `mutate`, where reading the
aggregate from the store at that version replays its whole history (measured: a sixth
of verification's time under load went to those replays). A bounded LRU keeps the
recent aggregates; anything else (a restart, an evicted aggregate) falls back to the store.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID

from shared.eventstore.application import ServiceApplication


class StatesAfter:
    def __init__(self, store: ServiceApplication, capacity: int = 2000) -> None:
        self._store, self._capacity = store, capacity
        self._states: OrderedDict[UUID, Any] = OrderedDict()

    def __call__(self, event: Any) -> Any:
        """The aggregate as `event` left it. Read it, never change it."""
        key, version = event.originator_id, event.originator_version
        known = self._states.pop(key, None)
        if known is not None and known.version == version:
            state = known  # the same event translated again (a relay retry)
        elif (known is not None and known.version == version - 1) or version == 1:
            state = event.mutate(known if version > 1 else None)
        else:
            state = self._store.load(key, version=version)
        self._states[key] = state
        if len(self._states) > self._capacity:
            self._states.popitem(last=False)
        return state
