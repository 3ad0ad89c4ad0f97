"""The hash chain's table in the store's own database, and the task that keeps it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import structlog
from sqlalchemy import BigInteger, Column, LargeBinary, MetaData, String, Table, insert, select
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError

from shared.eventstore import checkpoints
from shared.eventstore.application import ServiceApplication
from shared.eventstore.backend import create_tables
from shared.eventstore.chain import Link, extend
from shared.eventstore.engines import EngineLease
from shared.eventstore.verify import verify_store

log = structlog.get_logger("chain")

metadata = MetaData()
hash_chain = Table(
    "fpb_hash_chain",
    metadata,
    Column("store", String(64), primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("previous_position", BigInteger, nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
)


class ChainTable:
    def __init__(self, store_url: str, store: str) -> None:
        self._lease = EngineLease(store_url)
        self._engine = self._lease.engine
        create_tables(metadata, self._engine)
        self.store = store

    def close(self) -> None:
        self._lease.release()

    def head(self) -> Link | None:
        query = select(hash_chain).where(hash_chain.c.store == self.store).order_by(hash_chain.c.position.desc()).limit(1)
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        return Link(row.position, row.previous_position, row.digest) if row else None

    def append(self, links: list[Link]) -> None:
        if links:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(hash_chain),
                    [{"store": self.store, "position": l.position, "previous_position": l.previous_position, "digest": l.digest} for l in links],
                )

    def links(self, page: int = 5000) -> Iterator[Link]:
        """Every link in position order, read a page at a time (bounded memory)."""
        after = -1
        while True:
            query = (
                select(hash_chain)
                .where(hash_chain.c.store == self.store, hash_chain.c.position > after)
                .order_by(hash_chain.c.position)
                .limit(page)
            )
            with self._engine.connect() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield Link(row.position, row.previous_position, row.digest)
            if len(rows) < page:
                return
            after = rows[-1].position


CAUGHT_UP_WAIT_SECONDS = 0.5


class ChainKeeper:
    """Extends the chain as the log grows, and writes a signed checkpoint every
    `checkpoint_every` events or `checkpoint_seconds` (when anything is new)."""

    def __init__(
        self,
        store: ServiceApplication,
        chain: ChainTable,
        signing_key_file: Path | None = None,
        checkpoint_dir: Path | None = None,
        checkpoint_every: int = 1000,
        checkpoint_seconds: float = 60.0,
        batch_size: int = 1000,
        on_findings: Callable[[int], None] | None = None,
        verify_every_seconds: float = 3600.0,
    ) -> None:
        self._store = store
        self._chain = chain
        self._signing_key = checkpoints.load_private_key(signing_key_file) if signing_key_file else None
        self._checkpoint_dir = checkpoint_dir
        self._checkpoint_every = checkpoint_every
        self._checkpoint_seconds = checkpoint_seconds
        self._batch_size = batch_size
        self._last_checkpoint: tuple[int, float] = (0, time.monotonic())
        self._on_findings = on_findings
        self._verify_every = verify_every_seconds
        # None: the first round verifies the store as it stands. (Not 0.0: time.monotonic()
        # counts from boot, so on a machine up for less than an hour 0.0 meant "just verified".)
        self._last_verified: float | None = None
        if self._signing_key and checkpoint_dir:
            checkpoints.export_public_key(checkpoint_dir, self._signing_key)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                due = self._last_verified is None or time.monotonic() - self._last_verified >= self._verify_every
                if self._on_findings and due:
                    self._last_verified = time.monotonic()
                    findings = await asyncio.to_thread(self.verify_own_store)
                    if findings:
                        self._on_findings(len(findings))
                chained = await asyncio.to_thread(self.extend_once)
            except IntegrityError:  # another replica chained the same events: re-read the head
                chained = 0
            except Exception:  # noqa: BLE001 - keep going; the chain only ever lags
                log.exception("chain_extension_failed")
                chained = 0
            # Caught up (less than a full batch): wait before the next pass. Going again at
            # once chained a few events at a time under a steady load, three queries and a
            # commit each (a fifteenth of a service's CPU at 500 records/s); half a
            # second's events in one pass cost little more than one event.
            if chained < self._batch_size:
                try:
                    await asyncio.wait_for(stop.wait(), CAUGHT_UP_WAIT_SECONDS)
                except TimeoutError:
                    pass
        try:
            await asyncio.to_thread(self.extend_once)  # what came in the last half second
        except Exception:  # noqa: BLE001 - the next start chains it
            log.exception("chain_extension_failed")
        await asyncio.to_thread(self.checkpoint_if_due, True)

    def extend_once(self) -> int:
        head = self._chain.head()
        notifications = self._store.read_log(head.position if head else 0, self._batch_size)
        links = extend(head, notifications)
        self._chain.append(links)
        self.checkpoint_if_due(False)
        return len(links)

    def verify_own_store(self) -> list:
        """The auditor's check, run by the service on itself (alerts: FpbAuditVerificationFailed).
        Checks the chain and, when this service signs them, its own checkpoints."""
        own_checkpoints = checkpoints.read_all(self._checkpoint_dir, self._chain.store) if self._checkpoint_dir else []
        public_key = self._signing_key.public_key() if self._signing_key else Ed25519PrivateKey.generate().public_key()
        report = verify_store(self._chain.store, self._store.iter_log(page=5000), self._chain.links(), own_checkpoints, public_key)
        for finding in report.findings:
            log.error("audit_verification_finding", kind=finding.kind, position=finding.position, message=finding.message)
        return report.findings

    def checkpoint_if_due(self, final: bool) -> None:
        if self._signing_key is None or self._checkpoint_dir is None:
            return
        head = self._chain.head()
        last_position, last_time = self._last_checkpoint
        if head is None or head.position == last_position:
            return
        due = final or head.position - last_position >= self._checkpoint_every or time.monotonic() - last_time >= self._checkpoint_seconds
        if due:
            created_at = datetime.now(timezone.utc).isoformat()
            checkpoint = checkpoints.sign(self._signing_key, self._chain.store, head.position, head.digest, created_at)
            checkpoints.write(self._checkpoint_dir, checkpoint)
            self._last_checkpoint = (head.position, time.monotonic())
