"""The unit tier's store checks (handled-message markers saved with the events in one
transaction, stale aggregates, history as of a moment, intake recording each record
once, verification and enforcement opening files and cases once) on SQLite and on
PostgreSQL. The bodies live in tests/unit; only the stores differ (`store_url`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from unit_checks import store_checks, unit_module

event_store = unit_module("test_event_store")
intake_use_case = unit_module("test_intake_use_case")
verification_and_enforcement = unit_module("test_verification_and_enforcement")
unit_fixtures = unit_module("conftest")

CHECKS = [
    store_checks(event_store, {"store"}),
    store_checks(intake_use_case, {"intake", "intake_store", "new_intake_store"}, fixtures=("invalid_birth",)),
    store_checks(
        verification_and_enforcement,
        {"verification_store", "enforcement_store", "verification_handler"},
        fixtures=("accepted", "bell", "verification_handler"),
    ),
    # What those tests need from the unit tier's conftest (its fakes: key store, samples).
    {name: getattr(unit_fixtures, name) for name in ("inbound_sample_fixture", "key_store", "protector", "duty_register", "intake", "delivery", "announced")},
]
assert len({name for checks in CHECKS for name in checks}) == sum(map(len, CHECKS)), "two checks share a name"
for checks in CHECKS:
    globals().update(checks)


@pytest.fixture
def url_of(store_url: str) -> Callable[[str], str]:
    """url_of(store name): where that store lives. On PostgreSQL several stores share the
    database (their tables carry the store's name); on SQLite each has its file."""
    return lambda name: store_url.replace("store.db", f"{name}.db")


def closing(store):
    """Yield the store, then close it (PostgreSQL connections go back before the next test)."""
    yield store
    store.close()


@pytest.fixture
def store(url_of) -> Iterator:
    yield from closing(event_store.TestStore(url_of("test")))


@pytest.fixture
def intake_store(url_of) -> Iterator:
    yield from closing(unit_fixtures.IntakeStore(url_of("intake")))


@pytest.fixture
def new_intake_store(url_of) -> Iterator[Callable]:
    """Each call: another intake store, with a name (and so a place) of its own."""
    opened, numbers = [], itertools.count(1)

    def open_another():
        name = f"intake{next(numbers)}"
        opened.append(type("OtherIntakeStore", (unit_fixtures.IntakeStore,), {"name": name})(url_of(name)))
        return opened[-1]

    yield open_another
    for store in opened:
        store.close()


@pytest.fixture
def verification_store(url_of) -> Iterator:
    yield from closing(verification_and_enforcement.VerificationStore(url_of("verification")))


@pytest.fixture
def enforcement_store(url_of) -> Iterator:
    yield from closing(verification_and_enforcement.EnforcementStore(url_of("enforcement")))
