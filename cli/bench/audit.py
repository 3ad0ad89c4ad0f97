"""Audit figures: state as of a moment for a long-lived aggregate; chain verification."""

from __future__ import annotations

import random
import time
from datetime import timedelta
from pathlib import Path

from cli.bench.load import percentile
from cli.bench.raw import BenchRecord, BenchStore
from shared.eventstore.chain_store import ChainKeeper, ChainTable
from shared.eventstore.checkpoints import PUBLIC_KEY_FILE, load_public_key, read_all
from shared.eventstore.verify import verify_store
from shared.privacy.keys import AUDIT_KEY_FILE, ensure_key_files
from shared.runtime import freeze_startup_objects


def as_of_benchmark(workdir: Path, events: int = 1000, queries: int = 200) -> dict[str, float]:
    store = BenchStore(f"sqlite:///{workdir / 'as-of.db'}")
    freeze_startup_objects()  # as every service does once started (shared/runtime.py)
    record = BenchRecord(payload="0")
    for n in range(1, events):
        record.amend(str(n))
    store.save(record)
    stored = list(store.events.get(record.id))
    first, last = stored[0].timestamp, stored[-1].timestamp
    rng = random.Random(3)
    timings = []
    for _ in range(queries):
        moment = first + timedelta(seconds=rng.random() * (last - first).total_seconds())
        started = time.perf_counter()
        store.history(record.id, moment)
        timings.append((time.perf_counter() - started) * 1000)
    store.close()
    return {"events": events, "p50_ms": percentile(timings, 50), "p99_ms": percentile(timings, 99)}


def verify_benchmark(workdir: Path) -> dict[str, float]:
    """Chains the raw baseline's store (already written by raw.event_store_baseline), then verifies it."""
    url = f"sqlite:///{workdir / 'raw-store.db'}"
    ensure_key_files(workdir / "keys")
    store, chain = BenchStore(url), ChainTable(url, "bench")
    keeper = ChainKeeper(store, chain, workdir / "keys" / AUDIT_KEY_FILE, workdir / "checkpoints", checkpoint_every=10_000, batch_size=5000)
    started = time.perf_counter()
    while keeper.extend_once():
        pass
    keeper.checkpoint_if_due(True)
    chained = time.perf_counter() - started
    started = time.perf_counter()
    report = verify_store("bench", store.iter_log(page=5000), chain.links(), read_all(workdir / "checkpoints", "bench"), load_public_key(workdir / "checkpoints" / PUBLIC_KEY_FILE))
    verified = time.perf_counter() - started
    store.close()
    chain.close()
    if not report.ok:
        raise AssertionError(f"the benchmark store failed verification: {report.findings[:3]}")
    return {"events": report.events, "chain_per_s": report.events / chained, "verify_per_s": report.events / verified}
