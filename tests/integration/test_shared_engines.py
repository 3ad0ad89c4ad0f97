"""The adapters beside a service's event store share one engine (one connection pool) per
database, so a replica's PostgreSQL connections do not grow with its number of adapters."""

from __future__ import annotations

import os

import psycopg

from services.enforcement.adapters.case_rows import CASES
from services.verification.adapters.index_rows import APPLICATIONS
from shared.eventstore.chain_store import ChainTable
from shared.eventstore.engines import EngineLease
from shared.eventstore.index_rows import IndexRows
from shared.messaging.relay import RelayPositions, advisory_lock_key
from shared.observability.once import CountedOnce
from shared.privacy.keystore import KeyStore


def adapters_on(url: str) -> list:
    return [RelayPositions(url), ChainTable(url, "intake"), CountedOnce(url, "intake", lambda: None),
            IndexRows(url, CASES), IndexRows(url, APPLICATIONS), KeyStore(url, os.urandom(32))]


def use_each(adapters: list) -> None:
    relay, chain, once, cases, applications, keys = adapters
    relay.set("intake", 7)
    assert relay.get("intake") == 7
    assert chain.head() is None
    once("breach-1")
    assert cases.position() == applications.position() == 0
    assert keys.key_for("subject-1") == keys.existing_key("subject-1")


def client_connections(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as admin:
        return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]


def test_every_adapter_on_one_database_uses_the_same_engine(store_url: str):
    adapters = adapters_on(store_url)
    try:
        assert len({id(adapter._engine) for adapter in adapters}) == 1
        use_each(adapters)
    finally:
        for adapter in adapters:
            adapter.close()


def test_adapters_used_in_turn_on_postgresql_hold_one_connection_between_them(postgres_url: str):
    before = client_connections(postgres_url)  # an earlier test's pools on this database stay as they were
    adapters = adapters_on(postgres_url)
    try:
        use_each(adapters)
        assert client_connections(postgres_url) - before <= 1  # one engine per adapter kept six open
    finally:
        for adapter in adapters:
            adapter.close()


def test_the_engine_serves_its_other_users_after_one_closes_and_is_disposed_of_with_the_last(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    first, second = ChainTable(url, "intake"), RelayPositions(url)
    engine = second._engine
    first.close()
    first.close()  # closing twice lets go once: the engine still has its other user
    second.set("intake", 3)
    assert second.get("intake") == 3
    second.close()
    lease = EngineLease(url)
    try:
        assert lease.engine is not engine  # the last user's close disposed of it; a new one is made
    finally:
        lease.release()


def test_databases_at_different_urls_get_engines_of_their_own(tmp_path):
    one, other = EngineLease(f"sqlite:///{tmp_path / 'one.db'}"), EngineLease(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        assert one.engine is not other.engine
    finally:
        one.release()
        other.release()


def test_a_relay_that_stops_lets_go_of_its_lock_while_the_engine_serves_other_adapters(postgres_url: str):
    chain, relay = ChainTable(postgres_url, "intake"), RelayPositions(postgres_url)  # the chain keeps the engine
    try:
        assert relay.lead("intake") is True
        relay.close()  # its lock's connection must not go back to the shared pool still holding the lock
        with psycopg.connect(postgres_url, autocommit=True) as another_replica:
            assert another_replica.execute("SELECT pg_try_advisory_lock(%s)", (advisory_lock_key("intake"),)).fetchone()[0] is True
    finally:
        chain.close()
