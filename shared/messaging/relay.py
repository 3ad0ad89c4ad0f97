"""The outbox relay: publishes a store's log to NATS, in order, at least once.

The store's notification log *is* the outbox: a command's events are committed in one
transaction and the relay picks them up from there. Each outgoing message carries a
stable Nats-Msg-Id derived from the notification id, and the relay records its
position only after every PubAck of a batch. A relay killed in between republishes
the batch; the broker's de-duplication window and the consumers' own de-duplication
turn that into no effect downstream.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from shared.contracts.integration import OutgoingMessage
from shared.eventstore.application import ServiceApplication
from shared.eventstore.backend import create_tables
from shared.eventstore.engines import EngineLease
from shared.messaging.publisher import Publisher
from shared.observability.metrics import ServiceMetrics

log = structlog.get_logger("relay")

metadata = MetaData()
relay_positions = Table(
    "fpb_relay_positions",
    metadata,
    Column("relay", String(100), primary_key=True),
    Column("position", Integer, nullable=False),
)

LAG_EVERY_SECONDS = 1.0
# While busy, a relay saves its position at most this often, and when it has been idle
# for its idle wait (a quarter of a second) or stops. Every save is a write to the store
# the service itself writes to: saved once a pass (20 a second at 500 records/s), they
# took turns for SQLite's one writer with the service's own commits. A relay that dies
# republishes at most this much, which the broker's duplicate window (minutes) and the
# consumers drop.
POSITION_SAVE_SECONDS = 1.0

# A translator turns one stored domain event into the messages it announces.
Translator = Callable[[int, Any], Sequence[OutgoingMessage]]


def advisory_lock_key(relay: str) -> int:
    """The PostgreSQL advisory lock the replica that relays `relay` holds."""
    return int.from_bytes(hashlib.sha256(f"fpb-relay:{relay}".encode()).digest()[:8], "big", signed=True)


class RelayPositions:
    """The last notification id whose messages all got a PubAck, per relay.

    With several replicas of a service on one PostgreSQL store, only the replica holding
    the relay's advisory lock relays; the others stand by and take over if it dies
    (PostgreSQL releases the lock with its connection). A SQLite store belongs to one
    process, which always leads.
    """

    def __init__(self, store_url: str) -> None:
        self._lease = EngineLease(store_url)
        self._engine = self._lease.engine
        create_tables(metadata, self._engine)
        self._lock_connection: Any = None
        self.always_leads = self._engine.dialect.name != "postgresql"  # the relay need not ask (lead) each pass

    def lead(self, relay: str) -> bool:
        if self.always_leads:
            return True
        if self._lock_connection is not None:
            try:
                self._lock_connection.execute(select(1))
                self._lock_connection.commit()  # never sit idle in a transaction
                return True
            except Exception:  # noqa: BLE001 - connection lost: so is the lock
                self._let_go_of_lock()
        connection = self._engine.connect()
        if connection.execute(select(func.pg_try_advisory_lock(advisory_lock_key(relay)))).scalar():
            connection.commit()
            self._lock_connection = connection
            return True
        connection.close()
        return False

    def get(self, relay: str) -> int:
        with self._engine.connect() as conn:
            value = conn.execute(select(relay_positions.c.position).where(relay_positions.c.relay == relay)).scalar()
        return value or 0

    def set(self, relay: str, position: int) -> None:
        with self._engine.begin() as conn:
            dialect = self._engine.dialect.name
            insert = (postgresql if dialect == "postgresql" else sqlite).insert
            statement = insert(relay_positions).values(relay=relay, position=position)
            conn.execute(statement.on_conflict_do_update(index_elements=["relay"], set_={"position": position}))

    def _let_go_of_lock(self) -> None:
        """Close the lock's connection for good. Returned to the pool the engine shares with
        the service's other adapters, it would keep the session's advisory lock: this
        replica would still lead while stopped, and no other could take over."""
        connection, self._lock_connection = self._lock_connection, None
        if connection is not None:
            connection.invalidate()
            connection.close()

    def close(self) -> None:
        self._let_go_of_lock()
        self._lease.release()


class OutboxRelay:
    def __init__(
        self,
        name: str,
        store: ServiceApplication,
        translate: Translator,
        positions: RelayPositions,
        publisher: Publisher,
        metrics: ServiceMetrics,
        batch_size: int = 500,
        idle_seconds: float = 0.25,
        relays_topic: Callable[[str], bool] | None = None,
    ) -> None:
        """`relays_topic(topic)`: whether the translator announces anything for events of
        that topic; the others are passed over undecoded (enforcement announces its cases
        only, about one event in forty of its log; decoding each costs its JSON and an
        event object)."""
        self.name = name
        self._relays_topic = relays_topic
        self._store = store
        self._translate = translate
        self._positions = positions
        self._publisher = publisher
        self._metrics = metrics
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._position: int | None = None  # read from the store whenever leadership (re)starts
        self._saving: asyncio.Future | None = None  # the position being saved
        self._saved_position: int | None = None  # the last position whose save started
        self._saved_at = float("-inf")
        self._lag_measured_at = float("-inf")

    def wake(self) -> None:
        """Called after a save so new events go out without waiting for the poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            # Cleared before the log is read, never after: a save that lands while a pass
            # runs must wake the next wait (clearing after the pass lost such wakes, and the
            # events waited the whole idle time: a quarter of a second).
            self._wake.clear()
            failed = False
            try:
                if not (self._positions.always_leads or await asyncio.to_thread(self._positions.lead, self.name)):
                    self._position = self._saved_position = None
                    # The leader reports the lag; a stale value here would keep FpbRelayLag
                    # firing (max by service) after this replica handed over.
                    self._metrics.relay_lag.clear()
                    await asyncio.sleep(2.0)  # another replica relays this store
                    continue
                published = await self.publish_next_batch()
            except Exception:  # broker down, store busy: keep trying, never skip
                log.exception("relay_batch_failed", relay=self.name)
                published, failed = 0, True
            # Whatever the outcome: while the broker is down nothing is published, and the
            # lag must still grow with every event saved (alert FpbRelayLag). While busy,
            # once a second is enough (a query each pass was a tenth of a pass's time); a
            # pass that found nothing after its position has just seen the lag at 0.
            if failed or loop.time() - self._lag_measured_at >= LAG_EVERY_SECONDS:
                await self.measure_lag()
                self._lag_measured_at = loop.time()
            elif published == 0:
                self._metrics.relay_lag.labels(self._metrics.service).set(0)
            if failed:
                await asyncio.sleep(1.0)
            if published == 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), self._idle_seconds)
                except TimeoutError:
                    await self._save_position_reporting_failure()  # idle: where it got to
        await self._save_position_reporting_failure()

    async def _save_position_reporting_failure(self) -> None:
        try:
            await self.save_position()
        except Exception:  # noqa: BLE001 - saved at the next chance; a restart republishes from the saved one
            log.exception("relay_position_not_saved", relay=self.name)

    async def measure_lag(self) -> None:
        """fpb_relay_lag_events: events stored but not yet published with a PubAck."""
        try:
            if self._position is None:
                self._position = await asyncio.to_thread(self._positions.get, self.name)
            head = await asyncio.to_thread(self._store.log_head)
        except Exception:  # noqa: BLE001 - store unreachable: FpbDependencyUnreachable says so; keep the last value
            return
        self._metrics.relay_lag.labels(self._metrics.service).set(max(head - self._position, 0))

    async def publish_next_batch(self) -> int:
        """Publish the next batch; returns how many notifications it covered."""
        if self._position is None:
            self._position = await asyncio.to_thread(self._positions.get, self.name)
        position = self._position
        notifications = await asyncio.to_thread(self._store.read_log, position, self._batch_size)
        if not notifications:
            return 0
        wanted = self._relays_topic
        messages = [
            message
            for notification in notifications
            if wanted is None or wanted(notification.topic)
            for message in self._translate(notification.id, self._store.decode(notification))
        ]
        await self._publisher.publish_all(messages)
        self._position = notifications[-1].id
        await self._save_position(force=False)
        return len(notifications)

    async def _save_position(self, force: bool) -> None:
        """Start saving the position if it moved, and POSITION_SAVE_SECONDS have passed or
        `force`. It is saved while the next batch is read and published: waiting for that
        commit added its time to every event's way out. One save at a time, in order; a
        relay that dies before a save republishes, and the broker and the consumers drop
        the repeats."""
        now = asyncio.get_running_loop().time()
        if self._position is None or self._position == self._saved_position:
            return
        if not force and now - self._saved_at < POSITION_SAVE_SECONDS:
            return
        await self.position_saved()
        self._saving = asyncio.ensure_future(asyncio.to_thread(self._positions.set, self.name, self._position))
        self._saved_position, self._saved_at = self._position, now

    async def save_position(self) -> None:
        """Save the position published last now, if it is not saved yet (when idle, and
        when stopping)."""
        await self._save_position(force=True)
        await self.position_saved()

    async def position_saved(self) -> None:
        """Wait for the save in progress, if any (raises what saving it raised)."""
        saving, self._saving = self._saving, None
        if saving is not None:
            try:
                await saving
            except BaseException:
                self._saved_position = None  # not saved: the next chance saves it again
                raise
