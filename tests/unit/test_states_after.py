"""Outbox translators read an aggregate as each of its events left it, applying events
in log order to the state they already hold instead of replaying the history."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from shared.eventstore.application import ServiceApplication
from shared.eventstore.states import StatesAfter


class Counter(Aggregate):
    @event("Started")
    def __init__(self, name: str) -> None:
        self.name, self.count = name, 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


def stored_events(store: ServiceApplication) -> list:
    return [store.decode(n) for n in store.read_log(0, 100)]


def test_each_event_gives_the_state_it_left_the_same_as_a_replay_from_the_store():
    store = ServiceApplication("memory://")
    counters = [Counter(name=f"c{n}") for n in range(3)]
    for n, counter in enumerate(counters):
        for _ in range(n + 2):
            counter.count_one()
    store.save(*counters)
    states_after = StatesAfter(store)

    for stored in stored_events(store):
        state = states_after(stored)
        replayed = store.repository.get(stored.originator_id, version=stored.originator_version)
        assert (state.version, state.name, state.count) == (replayed.version, replayed.name, replayed.count)


def test_an_event_met_out_of_order_or_again_is_read_from_the_store():
    store = ServiceApplication("memory://")
    counter = Counter(name="c")
    for _ in range(5):
        counter.count_one()
    store.save(counter)
    events = stored_events(store)
    states_after = StatesAfter(store, capacity=1)

    assert states_after(events[4]).count == 4  # first met at version 5: from the store
    assert states_after(events[4]).count == 4  # the same event again (a relay retry)
    assert states_after(events[5]).count == 5  # the next one: applied
    assert states_after(events[2]).count == 2  # going back: from the store
