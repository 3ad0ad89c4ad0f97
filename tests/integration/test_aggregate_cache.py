"""The aggregate cache on each backend: a SQLite store belongs to one process, so a
cached aggregate is served without a query; PostgreSQL replicas share a store, so a
cached one is brought up to date from it on every find. On both, an aggregate moved on
by a writer outside the application is evicted on the conflict, and the retry reads it
from the store."""

from __future__ import annotations

import pytest
from eventsourcing.domain import Aggregate, event

from shared.eventstore.application import ServiceApplication, StaleAggregateError


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name, self.count = name, 0

    @event("Counted")
    def add(self) -> None:
        self.count += 1


class CounterStore(ServiceApplication):
    name = "counters"


def test_an_aggregate_moved_on_outside_the_application_is_evicted_on_conflict_and_reread(store_url):
    mine, outside = CounterStore(store_url), CounterStore(store_url)
    counter = Counter(name="births")
    mine.save(counter)
    mine.find(counter.id)  # cached here
    theirs = outside.find(counter.id)
    theirs.add()
    outside.save(theirs)

    decided_on = mine.find(counter.id)
    decided_on.add()
    if decided_on.version == 2:  # SQLite: the cached one, not the store's
        with pytest.raises(StaleAggregateError):
            mine.save_once("message-1", "fp.test", decided_on)
    reread = mine.find(counter.id)

    assert (reread.version, reread.count) == (2, 1)
    reread.add()
    assert mine.save_once("message-1", "fp.test", reread)
    mine.close(), outside.close()
    in_the_store = CounterStore(store_url)
    assert in_the_store.find(counter.id).count == 2
    in_the_store.close()


def test_a_postgresql_replica_sees_another_replicas_write_on_its_next_find(postgres_url):
    first, second = CounterStore(postgres_url), CounterStore(postgres_url)
    counter = Counter(name="births")
    first.save(counter)
    first.find(counter.id)  # cached in the first replica
    moved = second.find(counter.id)
    moved.add()
    second.save(moved)

    assert first.find(counter.id).count == 1
    first.close(), second.close()


def test_a_sqlite_store_serves_a_cached_aggregate_without_reading_the_store(tmp_path, monkeypatch):
    store = CounterStore(f"sqlite:///{tmp_path / 'counters.db'}")
    counter = Counter(name="births")
    store.save(counter)
    reads = []
    monkeypatch.setattr(store.events, "get", lambda *a, **k: reads.append(a) or iter(()))

    found = store.find(counter.id)
    found.add()
    store.save(found)

    assert store.find(counter.id).count == 1 and reads == []
    store.close()
