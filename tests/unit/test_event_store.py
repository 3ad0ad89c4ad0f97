"""The service store base: a message is handled once (its marker is saved with its
events, atomically), and any aggregate can be read as it was at a moment in time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from shared.eventstore.application import (
    HandledMessage,
    ServiceApplication,
    StaleAggregateError,
    aggregate_state,
    event_record,
)
from shared.eventstore.backend import StoreUrlError, event_store_env

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Ledger(Aggregate):
    """A test aggregate whose events carry the moments we give them."""

    class Opened(Aggregate.Created):
        owner: str

    class Credited(Aggregate.Event):
        amount: int

        def apply(self, aggregate: Any) -> None:
            aggregate.balance += self.amount

    class Closed(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.open = False

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.balance = 0
        self.open = True

    @classmethod
    def open_at(cls, owner: str, at: datetime, ledger_id: UUID | None = None) -> Ledger:
        return cls._create(cls.Opened, id=ledger_id or uuid4(), owner=owner, timestamp=at)

    def credit(self, amount: int, at: datetime) -> None:
        self.trigger_event(self.Credited, amount=amount, timestamp=at)

    def close(self, at: datetime) -> None:
        self.trigger_event(self.Closed, timestamp=at)


class TestStore(ServiceApplication):
    __test__ = False  # not a test class, despite its name
    name = "test"


# Fast, in memory here; tests/integration/test_store_checks_on_every_backend.py runs the
# same tests on SQLite and PostgreSQL with this fixture overridden.
@pytest.fixture
def store() -> TestStore:
    return TestStore("memory://")


def a_ledger_with_history(store: TestStore) -> Ledger:
    """Opened at T0, credited 10 at T0+1d and 5 at T0+2d, closed at T0+3d."""
    ledger = Ledger.open_at("槐阳镇计生办", T0)
    ledger.credit(10, T0 + timedelta(days=1))
    ledger.credit(5, T0 + timedelta(days=2))
    ledger.close(T0 + timedelta(days=3))
    store.save(ledger)
    return ledger


# --- save_once / was_handled ---------------------------------------------------------------


def test_save_once_returns_true_then_false_for_the_same_message_id(store):
    assert store.save_once("intake-1", "fp.intake.accepted.x", Ledger.open_at("a", T0)) is True

    assert store.save_once("intake-1", "fp.intake.accepted.x", Ledger.open_at("b", T0)) is False


def test_the_second_save_once_of_a_message_stores_nothing(store):
    first = Ledger.open_at("a", T0)
    store.save_once("intake-1", "fp.intake.accepted.x", first)
    head = store.log_head()
    second = Ledger.open_at("b", T0)

    store.save_once("intake-1", "fp.intake.accepted.x", second)

    assert store.log_head() == head
    assert store.find(second.id) is None
    assert store.find(first.id).owner == "a"


def test_the_handled_marker_is_saved_in_the_same_transaction_as_the_events(store):
    ledger = Ledger.open_at("a", T0)

    store.save_once("verification-9", "fp.verification.application.opened", ledger)

    events = [store.decode(n) for n in store.read_log(0, 100)]
    assert [type(event).__qualname__ for event in events] == ["HandledMessage.Handled", "Ledger.Opened"]
    marker = store.find(HandledMessage.create_id("verification-9"))
    assert (marker.message_id, marker.subject) == ("verification-9", "fp.verification.application.opened")


def test_a_handled_marker_takes_no_place_in_the_aggregate_cache_while_what_it_saved_does(tmp_path):
    store = TestStore(f"sqlite:///{tmp_path / 'events.db'}")  # SQLite: the library caches what is saved
    ledger = Ledger.open_at("a", T0)

    store.save_once("verification-9", "fp.verification.application.opened", ledger)

    cached = store.repository.cache
    assert cached.get(ledger.id) is ledger
    with pytest.raises(KeyError):
        cached.get(HandledMessage.create_id("verification-9"))
    assert store.was_handled("verification-9")


def test_a_look_in_passing_uses_a_cached_aggregate_and_caches_none_it_had_to_read(tmp_path):
    store = TestStore(f"sqlite:///{tmp_path / 'events.db'}")
    cached, read = Ledger.open_at("a", T0), Ledger.open_at("b", T0)
    store.save(cached, read)
    store.forget(read)

    seen = [store.find_in_passing(cached.id), store.find_in_passing(read.id), store.find_in_passing(uuid4())]

    assert [ledger.owner for ledger in seen[:2]] == ["a", "b"] and seen[2] is None
    assert seen[0] is not store.repository.cache.get(cached.id), "a copy, as find gives"
    with pytest.raises(KeyError):
        store.repository.cache.get(read.id)


def test_a_message_that_changes_nothing_is_still_marked_handled(store):
    assert store.save_once("intake-2", "fp.intake.accepted.x") is True

    assert store.was_handled("intake-2")
    assert store.save_once("intake-2", "fp.intake.accepted.x") is False


def test_was_handled_is_false_for_a_message_never_seen(store):
    store.save_once("intake-1", "fp.intake.accepted.x")

    assert store.was_handled("intake-1")
    assert not store.was_handled("intake-10")


def test_a_conflict_on_an_aggregate_of_a_new_message_is_a_stale_aggregate_error_and_saves_nothing(store):
    ledger_id = uuid4()
    store.save(Ledger.open_at("first", T0, ledger_id))
    head = store.log_head()

    with pytest.raises(StaleAggregateError):
        store.save_once("intake-3", "fp.intake.accepted.x", Ledger.open_at("second", T0, ledger_id))

    assert store.log_head() == head
    assert not store.was_handled("intake-3"), "the marker is rolled back with the events"


def test_two_copies_of_an_aggregate_cannot_both_move_it_on(store):
    ledger = Ledger.open_at("a", T0)
    store.save(ledger)
    one, other = store.find(ledger.id), store.find(ledger.id)
    one.credit(1, T0 + timedelta(hours=1))
    store.save_once("m-1", "s", one)
    other.credit(2, T0 + timedelta(hours=1))

    with pytest.raises(StaleAggregateError):
        store.save_once("m-2", "s", other)
    assert store.find(ledger.id).balance == 1


# --- find / history -------------------------------------------------------------------------


def test_find_gives_none_for_an_aggregate_that_does_not_exist(store):
    assert store.find(uuid4()) is None


def test_history_without_a_moment_gives_every_event_and_the_current_state(store):
    ledger = a_ledger_with_history(store)

    events, state = store.history(ledger.id)

    assert [type(e).__qualname__ for e in events] == ["Ledger.Opened", "Ledger.Credited", "Ledger.Credited", "Ledger.Closed"]
    assert (state.balance, state.open, state.version) == (15, False, 4)


def test_history_as_of_a_moment_gives_only_the_events_up_to_it_and_the_state_they_produce(store):
    ledger = a_ledger_with_history(store)

    events, state = store.history(ledger.id, as_of=T0 + timedelta(days=1, hours=12))

    assert [e.originator_version for e in events] == [1, 2]
    assert all(e.timestamp <= T0 + timedelta(days=1, hours=12) for e in events)
    assert (state.owner, state.balance, state.open, state.version) == ("槐阳镇计生办", 10, True, 2)


def test_history_as_of_the_exact_moment_of_an_event_includes_it(store):
    ledger = a_ledger_with_history(store)

    events, state = store.history(ledger.id, as_of=T0 + timedelta(days=2))

    assert len(events) == 3
    assert state.balance == 15


def test_history_as_of_a_moment_in_another_time_zone_compares_instants(store):
    ledger = a_ledger_with_history(store)
    china = timezone(timedelta(hours=8))

    events, _ = store.history(ledger.id, as_of=(T0 + timedelta(days=1)).astimezone(china))

    assert [e.originator_version for e in events] == [1, 2]


def test_history_as_of_a_moment_before_the_aggregate_existed_is_empty(store):
    ledger = a_ledger_with_history(store)

    assert store.history(ledger.id, as_of=T0 - timedelta(seconds=1)) == ([], None)


def test_history_of_an_unknown_aggregate_is_empty(store):
    assert store.history(uuid4()) == ([], None)


# --- the log (outbox) and display helpers -------------------------------------------------------


def test_read_log_pages_after_a_notification_id(store):
    a_ledger_with_history(store)

    assert [n.id for n in store.read_log(0, 100)] == [1, 2, 3, 4]
    assert [n.id for n in store.read_log(2, 100)] == [3, 4]
    assert [n.id for n in store.read_log(1, 2)] == [2, 3]
    assert store.log_head() == 4


def test_an_empty_store_has_log_head_zero(store):
    assert store.log_head() == 0
    assert list(store.read_log(0, 10)) == []


def test_aggregate_state_and_event_record_show_public_attributes(store):
    ledger = a_ledger_with_history(store)
    events, state = store.history(ledger.id)

    shown = aggregate_state(state)
    assert shown["id"] == str(ledger.id)
    assert (shown["version"], shown["owner"], shown["balance"]) == (4, "槐阳镇计生办", 15)
    assert not any(key.startswith("_") for key in shown)
    assert aggregate_state(None) == {}
    record = event_record(events[1])
    assert record == {"type": "Ledger.Credited", "version": 2, "timestamp": (T0 + timedelta(days=1)).isoformat(), "data": {"amount": 10}}


# --- store URLs ------------------------------------------------------------------------------


def test_a_memory_url_uses_the_in_memory_recorders():
    assert event_store_env("memory://") == {"PERSISTENCE_MODULE": "eventsourcing.popo"}


def test_an_unsupported_store_url_is_refused():
    with pytest.raises(StoreUrlError, match="unsupported"):
        event_store_env("mysql://localhost/fpb")
