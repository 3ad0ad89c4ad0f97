"""The base of every service's eventsourcing application.

Adds what the platform needs on top of the library: configuration from one store URL,
idempotent handling of a message (the record that a message was handled is saved in
the same transaction as the events it caused), and history as of a point in time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate, BaseAggregate, event
from eventsourcing.persistence import IntegrityError, InternalError, Notification, Recording

from shared.eventstore.backend import event_store_env
from shared.ids import stable_id


class HandledMessage(Aggregate):
    """Marks one inbound message as handled. Saving it twice fails, atomically with the
    events the message caused, so a redelivered or republished message changes nothing."""

    @staticmethod
    def create_id(message_id: str) -> UUID:
        return stable_id("handled-message", message_id)

    @event("Handled")
    def __init__(self, message_id: str, subject: str) -> None:
        self.message_id = message_id
        self.subject = subject


class StaleAggregateError(Exception):
    """A concurrent writer saved the same aggregate first; retry the command."""


def _mutate_in_turn(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its `assert isinstance(event,
    CanMutateProtocol)` per event: a runtime-checkable typing Protocol, slow on Python 3.11
    (8% of enforcement's and verification's CPU once their aggregates outgrow the cache
    and are replayed from the store, py-spy after 75,000 records). Every stored event is a
    library domain event, which mutates."""
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


class ServiceApplication(Application):
    """One service's event store. `store_url` is sqlite:///... or postgresql://..."""

    def __init__(self, store_url: str, extra_env: dict[str, str] | None = None) -> None:
        env = event_store_env(store_url)
        # Keep recently used aggregates in memory (bounded LRU). A hit still reads the
        # events saved since (the library's fast-forward: one indexed query), so other
        # replicas' writes are seen; it saves replaying long-lived aggregates such as a
        # facility's birth tally on every message (measured: `find` was a third of
        # enforcement's time under load). Commands get a deep copy, never the cached object.
        # 2,000: handled-message markers take no place in it (see save), so this holds more
        # aggregates that are loaded again than 5,000 places did when two thirds were markers.
        env["AGGREGATE_CACHE_MAXSIZE"] = "2000"
        if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
            # A SQLite store belongs to one process (see RelayPositions), and the library
            # puts every aggregate this application saves into the cache: a cached one is
            # current without the fast-forward query per hit (measured: most of `find`'s
            # time in verification and enforcement). A stale one could only come from a
            # writer outside this application; its save then conflicts, and save_once
            # evicts it so the retry reads the store.
            env["AGGREGATE_CACHE_FASTFORWARD"] = "n"
        env.update(extra_env or {})
        # Services starting together on one PostgreSQL database may create their tables and
        # functions at the same moment ("tuple concurrently updated", or a duplicate key in
        # pg_proc): try again shortly.
        for attempt in range(5):
            try:
                super().__init__(env=env)
                return
            except (InternalError, IntegrityError):
                if attempt == 4:
                    raise
                time.sleep(0.2 + random.random() * 0.3)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording]:
        """The library's save, with aggregates told apart by their class: it asks each object
        whether it is a domain event, then whether it collects events, through
        runtime-checkable Protocols (12 µs an aggregate on Python 3.11, about a twentieth
        of verification's CPU under load; a class check takes 0.15 µs). Anything else
        goes the library's way."""
        processing_event: ProcessingEvent = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, HandledMessage):
                # Its events only: the library caches every aggregate in `aggregates`, and a
                # marker is never loaded again (was_handled reads its event). One per message,
                # markers had filled two thirds of the cache and pushed out the cases and
                # tallies that are loaded again.
                processing_event.events.extend(obj.collect_events())
            elif isinstance(obj, BaseAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            elif obj is not None:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def find(self, aggregate_id: UUID) -> Any:
        """The aggregate, or None when it does not exist."""
        try:
            return self.load(aggregate_id)
        except AggregateNotFoundError:
            return None

    def find_in_passing(self, aggregate_id: UUID) -> Any:
        """The aggregate, or None, for a look over many of them (a sweep, a list): a cached
        one is used, and one read from the store is not cached. Through `find`, a sweep over
        thousands of open applications pushed every aggregate that messages are about out
        of the cache, and filled it with its own (tens of MiB at once)."""
        cache = self.repository.cache
        if cache is not None:
            try:
                cache.get(aggregate_id)
            except KeyError:
                pass
            else:
                return self.find(aggregate_id)  # the library's way: fast-forwarded, a copy
        try:
            # What the repository does on a miss, without its put into the cache.
            return self.repository._reconstruct_aggregate(aggregate_id, None, _mutate_in_turn)
        except AggregateNotFoundError:
            return None

    def load(self, aggregate_id: UUID, version: int | None = None) -> Any:
        """The aggregate (as of `version`, if given); AggregateNotFoundError when it does not exist."""
        return self.repository.get(aggregate_id, version=version, projector_func=_mutate_in_turn)

    def was_handled(self, message_id: str) -> bool:
        return next(iter(self.events.get(HandledMessage.create_id(message_id), lte=1)), None) is not None

    def save_once(self, message_id: str, subject: str, *aggregates: Aggregate) -> bool:
        """Save the aggregates' new events together with the handled-message marker.

        Returns False (and saves nothing) when the message was handled before.
        """
        marker = HandledMessage(message_id=message_id, subject=subject)
        try:
            self.save(marker, *aggregates)
        except IntegrityError:
            if self.was_handled(message_id):
                return False
            self.forget(*aggregates)
            raise StaleAggregateError(f"stale aggregate while handling {message_id}") from None
        return True

    def forget(self, *aggregates: Aggregate) -> None:
        """Drop aggregates from the cache: the next find reads them from the store."""
        if self.repository.cache is not None:
            for aggregate in aggregates:
                try:
                    self.repository.cache.get(aggregate.id, evict=True)
                except KeyError:
                    pass  # not cached

    def read_log(self, after: int, limit: int) -> Sequence[Notification]:
        """Notifications with id > after (the outbox is the store's own log)."""
        return self.recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)

    def iter_log(self, page: int = 1000) -> Iterator[Notification]:
        """The whole log in order, a page at a time (bounded memory)."""
        after = 0
        while notifications := self.read_log(after, page):
            yield from notifications
            after = notifications[-1].id

    def log_head(self) -> int:
        return self.recorder.max_notification_id() or 0

    def decode(self, notification: Notification) -> Any:
        return self.mapper.to_domain_event(notification)

    def history(self, aggregate_id: UUID, as_of: datetime | None = None) -> tuple[list[Any], Any]:
        """The aggregate's events (up to as_of, inclusive) and the state they produce."""
        events, state = [], None
        for domain_event in self.events.get(aggregate_id):  # decoded lazily, in version order
            if as_of is not None and domain_event.timestamp > as_of:
                break  # timestamps grow with versions: nothing later can be earlier
            events.append(domain_event)
            state = domain_event.mutate(state)
        return events, state


def aggregate_state(aggregate: Any) -> dict[str, Any]:
    """Public attributes of an aggregate, for display."""
    if aggregate is None:
        return {}
    state = {"id": str(aggregate.id), "version": aggregate.version}
    state.update({k: v for k, v in vars(aggregate).items() if not k.startswith("_")})
    return state


def event_record(domain_event: Any) -> dict[str, Any]:
    """An event as a plain dict for display and HTTP."""
    payload = {
        k: v
        for k, v in vars(domain_event).items()
        if k not in ("originator_id", "originator_version", "timestamp")
    }
    return {
        "type": type(domain_event).__qualname__,
        "version": domain_event.originator_version,
        "timestamp": domain_event.timestamp.isoformat(),
        "data": payload,
    }

