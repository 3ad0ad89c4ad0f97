"""Tamper evidence on SQLite and PostgreSQL stores: every kind of tampering is found,
and where; an untouched store verifies with no false alarm."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from eventsourcing.domain import Aggregate, event
from sqlalchemy import create_engine, text

from cli.audit import verify_one
from shared.eventstore.application import ServiceApplication
from shared.eventstore.backend import sqlalchemy_url
from shared.eventstore.chain import extend
from shared.eventstore.chain_store import ChainKeeper, ChainTable, hash_chain
from shared.eventstore.checkpoints import PUBLIC_KEY_FILE
from shared.privacy.keys import AUDIT_KEY_FILE, ensure_key_files

EVENTS = 20


class Ledger(Aggregate):
    @event("Opened")
    def __init__(self, number: int) -> None:
        self.number = number
        self.entries: list[str] = []

    @event("Entered")
    def enter(self, text: str) -> None:
        self.entries.append(text)


class AuditedStore(ServiceApplication):
    name = "audited"


class Tamperer:
    """What a database administrator could do behind the application's back."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(sqlalchemy_url(url))
        postgres = self.engine.dialect.name == "postgresql"
        self.table = "audited_events" if postgres else "stored_events"
        self.id = "notification_id" if postgres else "rowid"

    def run(self, sql: str, **params) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql.format(table=self.table, id=self.id)), params)

    def edit(self, position: int) -> None:
        self.run("UPDATE {table} SET state = :state WHERE {id} = :p", state=b'{"text":"forged"}', p=position)

    def delete(self, position: int) -> None:
        self.run("DELETE FROM {table} WHERE {id} = :p", p=position)

    def swap(self, first: int, second: int) -> None:
        with self.engine.begin() as conn:
            rows = {
                r[0]: r[1:]
                for r in conn.execute(text(f"SELECT {self.id}, topic, state FROM {self.table} WHERE {self.id} IN (:a, :b)"), {"a": first, "b": second})
            }
            for mine, theirs in ((first, second), (second, first)):
                conn.execute(text(f"UPDATE {self.table} SET topic = :t, state = :s WHERE {self.id} = :p"), {"t": rows[theirs][0], "s": rows[theirs][1], "p": mine})


@pytest.fixture
def audited(store_url, tmp_path: Path):
    """A store with EVENTS events, chained, with a signed checkpoint every 5 events."""
    keys = tmp_path / "keys"
    ensure_key_files(keys)
    store = AuditedStore(store_url)
    ledgers = [Ledger(number=n) for n in range(4)]
    for n in range(EVENTS - len(ledgers)):
        ledgers[n % 4].enter(f"entry {n}")
    for ledger in ledgers:
        store.save(ledger)
    chain = ChainTable(store_url, "audited")
    keeper = ChainKeeper(store, chain, keys / AUDIT_KEY_FILE, tmp_path / "checkpoints", checkpoint_every=5, batch_size=5)
    while keeper.extend_once():
        pass
    yield store_url, tmp_path / "checkpoints"
    chain.close()
    store.close()


def verify(store_url: str, checkpoints: Path):
    return verify_one("audited", store_url, checkpoints, checkpoints / PUBLIC_KEY_FILE)


def kinds_at(report) -> set[tuple[str, int]]:
    return {(finding.kind, finding.position) for finding in report.findings}


def test_an_untouched_store_verifies_with_no_false_alarm(audited):
    report = verify(*audited)
    assert report.ok, report.findings
    assert report.events == EVENTS and report.checkpoints == 4


def test_an_edited_event_is_found_where_it_was_edited(audited):
    store_url, checkpoints = audited
    Tamperer(store_url).edit(7)
    report = verify(store_url, checkpoints)
    assert ("edited", 7) in kinds_at(report)
    assert ("rewritten", 10) in kinds_at(report)  # and no signed checkpoint after it still holds
    assert not any(kind == "edited" and position != 7 for kind, position in kinds_at(report))


def test_a_deleted_event_is_found(audited):
    store_url, checkpoints = audited
    Tamperer(store_url).delete(12)
    assert ("deleted", 12) in kinds_at(verify(store_url, checkpoints))


def test_reordered_events_are_found(audited):
    store_url, checkpoints = audited
    Tamperer(store_url).swap(5, 6)
    found = kinds_at(verify(store_url, checkpoints))
    assert {("edited", 5), ("edited", 6)} <= found


def test_an_event_inserted_into_a_gap_of_the_log_is_found(store_url, tmp_path):
    # PostgreSQL leaves gaps in notification ids (rolled-back saves); an attacker could
    # fill one. Make a gap before chaining, then fill it afterwards.
    keys = tmp_path / "keys"
    ensure_key_files(keys)
    store = AuditedStore(store_url)
    for n in range(6):
        store.save(Ledger(number=n))
    tamperer = Tamperer(store_url)
    with tamperer.engine.connect() as conn:
        gap_row = conn.execute(text(f"SELECT originator_id, originator_version, topic, state FROM {tamperer.table} WHERE {tamperer.id} = 3")).one()
    tamperer.delete(3)
    chain = ChainTable(store_url, "audited")
    ChainKeeper(store, chain, keys / AUDIT_KEY_FILE, tmp_path / "checkpoints", checkpoint_every=1).extend_once()
    columns = "originator_id, originator_version, topic, state, " + tamperer.id
    tamperer.run(f"INSERT INTO {{table}} ({columns}) VALUES (:o, :v, :t, :s, 3)", o=gap_row[0], v=gap_row[1], t=gap_row[2], s=gap_row[3])
    report = verify(store_url, tmp_path / "checkpoints")
    assert ("inserted", 3) in kinds_at(report)
    chain.close()
    store.close()


def test_a_truncated_log_is_found_even_when_its_chain_is_truncated_too(audited):
    store_url, checkpoints = audited
    tamperer = Tamperer(store_url)
    tamperer.run("DELETE FROM {table} WHERE {id} > 12")
    with tamperer.engine.begin() as conn:
        conn.execute(hash_chain.delete().where(hash_chain.c.position > 12))
    found = kinds_at(verify(store_url, checkpoints))
    assert ("truncated", 15) in found and ("truncated", 20) in found


def test_a_rewrite_that_also_recomputes_the_chain_is_exposed_by_the_signed_checkpoints(audited):
    store_url, checkpoints = audited
    tamperer = Tamperer(store_url)
    tamperer.edit(7)
    # The administrator recomputes a bare chain over the rewritten log.
    store = AuditedStore(store_url)
    with tamperer.engine.begin() as conn:
        conn.execute(hash_chain.delete())
    chain = ChainTable(store_url, "audited")
    chain.append(extend(None, list(store.iter_log())))
    report = verify(store_url, checkpoints)
    assert ("rewritten", 10) in kinds_at(report)
    assert not any(kind == "edited" for kind, _ in kinds_at(report))  # the bare chain agrees
    chain.close()
    store.close()


def test_an_altered_checkpoint_file_is_reported_as_forged(audited):
    store_url, checkpoints = audited
    path = checkpoints / "audited" / f"{10:012d}.json"
    checkpoint = json.loads(path.read_text())
    checkpoint["head"] = "00" * 32
    path.write_text(json.dumps(checkpoint))
    assert ("forged", 10) in kinds_at(verify(store_url, checkpoints))


async def test_a_service_verifies_its_own_store_and_reports_findings_to_its_metrics(store_url, tmp_path):
    import asyncio

    keys = tmp_path / "keys"
    ensure_key_files(keys)
    store = AuditedStore(store_url)
    store.save(*[Ledger(number=n) for n in range(6)])
    chain = ChainTable(store_url, "audited")
    counted: list[int] = []
    keeper = ChainKeeper(store, chain, keys / AUDIT_KEY_FILE, tmp_path / "checkpoints", checkpoint_every=2, on_findings=counted.append)
    while keeper.extend_once():
        pass
    assert keeper.verify_own_store() == []  # untouched: no false alarm
    Tamperer(store_url).edit(4)
    stop = asyncio.Event()
    run = asyncio.create_task(keeper.run(stop))  # its first round verifies the store
    for _ in range(100):
        if counted:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await run
    assert counted and counted[0] >= 1
    chain.close()
    store.close()


async def test_a_chain_keeper_that_stops_chains_what_was_saved_since_its_last_pass(tmp_path, store_url):
    keys = tmp_path / "keys"
    ensure_key_files(keys)
    store = AuditedStore(store_url)
    store.save(Ledger(number=1), Ledger(number=2))
    chain = ChainTable(store_url, "audited")
    keeper = ChainKeeper(store, chain, keys / AUDIT_KEY_FILE, tmp_path / "checkpoints")
    stopped = asyncio.Event()
    stopped.set()  # stopping before any pass: what it holds back while caught up

    await keeper.run(stopped)

    assert chain.head().position == store.log_head() == 2
    chain.close()
    store.close()
