"""Cheap copies of cached aggregates whose state is replaced, never changed in place."""

from __future__ import annotations

from typing import Any


class SharesStateWhenCopied:
    """A mixin for an aggregate whose every event replaces attributes with new values and
    never changes one in place (no `.append`, no item assignment: `self.xs = [*self.xs, x]`).

    The library deep-copies a cached aggregate for every command, element by element: for
    a facility's birth tally that was a tenth of enforcement's time, and for a case the cost
    (and the garbage) grew with every signal it had joined. A copy that shares the state is
    as safe, given that rule: only the list of pending events is the copy's own."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__dict__)
        copy._pending_events = list(self._pending_events)  # type: ignore[attr-defined]
        return copy
