"""End-to-end load on the whole platform (separate processes, as `fpb up` runs it):
throughput, latency at fixed offered loads, and memory of every service."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import threading
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nats

from cli.bench import access
from nats.errors import TimeoutError as NatsTimeoutError

from cli.demo.records import generate_demo_records
from cli.platform import Platform
from services.enforcement.entrypoints.routes import TEAM_CONSUMER
from services.reporting.adapters.read_models import ReadModelStore

WINDOW = 200
MAX_IN_FLIGHT = 2000  # PubAcks a paced publisher waits for at once
# A sustained run of 20-30 s, polled every 50 ms: within 0.25% of the end, and the poller
# takes reporting's CPU 20 times a second instead of 100.
THROUGHPUT_POLL_SECONDS = 0.05


def load_records(count: int, tag: str) -> list[tuple[str, bytes, str]]:
    """A county's year in its real proportions (the demo generator), scaled up by
    generating more years, with ids made unique for this run."""
    records: list[tuple[str, bytes, str]] = []
    seed = 0
    while len(records) < count:
        seed += 1
        for subject, envelope in generate_demo_records(seed=seed, year=2025, births=2000):
            envelope["record_id"] = f"{envelope['record_id']}-{tag}{seed}"
            if "application_id" in envelope["data"]:
                envelope["data"]["application_id"] = f"{envelope['data']['application_id']}-{tag}{seed}"
            records.append((subject, json.dumps(envelope, ensure_ascii=False).encode(), envelope["record_id"]))
            if len(records) == count:
                break
    return records


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_kib(path: str, field: str) -> int:
    """A "Field:  N kB" line of a /proc file, in KiB; 0 once the process is gone."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    return proc_kib(f"/proc/{pid}/status", "VmRSS")


@dataclass
class MemoryWatch:
    """Samples every service's resident memory in the background; keeps the peaks."""

    pids: dict[str, int]
    peaks: dict[str, int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> "MemoryWatch":
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for name, pid in self.pids.items():
                self.peaks[name] = max(self.peaks.get(name, 0), rss_kib(pid))


class Visibility:
    """How many records reporting's read models hold, read from their store itself.

    Reporting's `GET /reports/totals` answers the same, but each request cost reporting
    about a millisecond of CPU: polled every 5 ms, a fifth of a core taken from the process
    being measured. The benchmark's platform is the embedded one, so the store is at hand;
    a query costs about 0.1 ms of this process's CPU."""

    def __init__(self, read_models_url: str) -> None:
        self._store = ReadModelStore(read_models_url)

    def total(self) -> int:
        return self._store.accepted_total()

    def wait_for(self, target: int, timeout: float, on_sample: Callable[[float, int], None] | None = None, every: float = 0.01) -> float:
        """When `target` records are visible."""
        deadline = time.perf_counter() + timeout
        while True:
            now, total = time.perf_counter(), self.total()
            if on_sample:
                on_sample(now, total)
            if total >= target:
                return now
            if now > deadline:
                raise TimeoutError(f"only {total} of {target} records visible after {timeout}s")
            time.sleep(every)


async def publish(js, records: list[tuple[str, bytes, str]], rate: float | None = None) -> list[float]:
    """Publish with PubAcks; as fast as accepted (rate None) or at a fixed offered rate."""
    sent: list[float] = []
    if rate is None:
        for first in range(0, len(records), WINDOW):
            chunk = records[first : first + WINDOW]
            sent.extend([time.perf_counter()] * len(chunk))
            await asyncio.gather(*(js.publish(s, b, headers={"Nats-Msg-Id": r}, timeout=30) for s, b, r in chunk))
        return sent
    started = time.perf_counter()
    pending = []
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    for index, (subject, body, record_id) in enumerate(records):
        due = started + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await in_flight.acquire()  # a publisher's own window: beyond it, the broker's pace is the offer
        sent.append(time.perf_counter())
        pending.append(asyncio.ensure_future(_publish_until_acknowledged(js, subject, body, record_id, in_flight)))
    await asyncio.gather(*pending)
    return sent


async def _publish_until_acknowledged(js, subject: str, body: bytes, record_id: str, in_flight: asyncio.Semaphore) -> None:
    """As a county system publishes: a PubAck that does not come in time is asked for again
    under the same Nats-Msg-Id (the broker keeps one copy). Under a tenfold overload the
    broker's acknowledgements can take longer than any one timeout."""
    try:
        while True:
            try:
                await js.publish(subject, body, headers={"Nats-Msg-Id": record_id}, timeout=30)
                return
            except NatsTimeoutError:
                continue
    finally:
        in_flight.release()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def process_ids(platform: Platform) -> dict[str, int]:
    """Every running service's process id by name, and the embedded nats-server's."""
    pids = {name: service.process.pid for name, service in platform.services.items() if service.process}
    if platform.nats_server and platform.nats_server.process:
        pids["nats-server"] = platform.nats_server.process.pid
    return pids


@contextmanager
def temporary_platform(prefix: str) -> Iterator[Platform]:
    """A fresh platform in a temporary directory (the benchmark tools'), stopped and removed after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as temporary:
        platform = Platform(Path(temporary) / "platform")
        platform.start()
        access.register(platform)  # its clients authenticate (cli/bench/access.py)
        try:
            yield platform
        finally:
            platform.stop()


def run_load(workdir: Path, throughput_records: int, latency_rates: list[int], latency_seconds: float, overload_factor: float) -> dict:
    platform = Platform(workdir / "platform")
    platform.start()
    access.register(platform)  # its clients authenticate (cli/bench/access.py)
    results: dict = {}
    try:
        processes = process_ids(platform)
        pids = {name: pid for name, pid in processes.items() if name in platform.services}
        visible = Visibility(platform.store_url("reporting"))
        with MemoryWatch(pids) as memory:
            before = {name: cpu_seconds(pid) for name, pid in processes.items()}
            results["throughput"] = asyncio.run(sustained_throughput(platform.nats_url, visible, throughput_records))
            # What each record costs each process: the basis of the scaling-out projection.
            results["cpu_ms_per_record"] = {name: 1000 * (cpu_seconds(pid) - before[name]) / throughput_records for name, pid in processes.items()}
            results["latency"] = {}
            for rate in latency_rates:
                # At a fixed offered load, not that load plus the previous run's backlog:
                # verification and enforcement are still working through the sustained
                # run's records when reporting has shown them all.
                results["latency"][rate] = {"settled_after_s": asyncio.run(wait_until_settled(platform.nats_url))}
                results["latency"][rate].update(asyncio.run(_latency(platform.nats_url, visible, rate, latency_seconds)))
            results["memory_peak_kib"] = dict(memory.peaks)
        sustained = results["throughput"]["records_per_s"]
        asyncio.run(wait_until_settled(platform.nats_url))
        with MemoryWatch(pids) as overload_memory:
            results["overload"] = asyncio.run(_overload(platform.nats_url, visible, sustained * overload_factor, latency_seconds))
            results["overload"]["memory_peak_kib"] = dict(overload_memory.peaks)
    finally:
        platform.stop()
    return results


def access_overhead(workdir: Path, records: int, rounds: int = 2) -> dict:
    """End-to-end throughput with the broker's authentication and permissions (NKeys, the
    platform's default) against the same platform on an open broker, in the same run,
    alternating so that a drift of the machine's speed falls on both. HTTP is not on a
    record's way (officers' commands are), so this is what access control costs the data path."""
    rates: dict[str, list[float]] = {"open": [], "authenticated": []}
    cpu: dict[str, list[dict[str, float]]] = {"open": [], "authenticated": []}  # µs per record, by process
    for round_no in range(rounds):
        for mode in ("open", "authenticated"):
            platform = Platform(workdir / f"access-{round_no}-{mode}", open_broker=mode == "open")
            platform.start()
            access.register(platform)
            try:
                visible = Visibility(platform.store_url("reporting"))
                pids = process_ids(platform)
                before, client_before = {name: cpu_seconds(pid) for name, pid in pids.items()}, time.process_time()
                rates[mode].append(asyncio.run(sustained_throughput(platform.nats_url, visible, records, tag=f"a{round_no}{mode[0]}"))["records_per_s"])
                used = {name: 1e6 * (cpu_seconds(pid) - before[name]) / records for name, pid in pids.items()}
                cpu[mode].append({**used, "publishing client": 1e6 * (time.process_time() - client_before) / records})
            finally:
                platform.stop()
    middle = {mode: statistics.median(values) for mode, values in rates.items()}
    mean_cpu = {mode: {name: statistics.mean(r[name] for r in runs) for name in runs[0]} for mode, runs in cpu.items()}
    return {"records": records, "rounds": rounds, "open_records_per_s": rates["open"], "authenticated_records_per_s": rates["authenticated"],
            "ratio": middle["authenticated"] / middle["open"], "cpu_us_per_record": mean_cpu}


async def sustained_throughput(nats_url: str, visible: Visibility, count: int, tag: str = "t") -> dict:
    """`count` records published as fast as the broker accepts them; rates until all are visible in reporting."""
    records = load_records(count, tag)
    connection = await access.connect(nats_url)
    base = visible.total()
    started = time.perf_counter()
    await publish(connection.jetstream(), records)
    accepted_by_broker = time.perf_counter()
    done = visible.wait_for(base + count, timeout=600, every=THROUGHPUT_POLL_SECONDS)
    await connection.close()
    return {"records": count, "publish_per_s": count / (accepted_by_broker - started), "records_per_s": count / (done - started)}


async def wait_until_settled(nats_url: str, timeout: float = 600, quiet_for: float = 1.0) -> float:
    """Waits until every consumer the platform pulls has handled everything and no stream
    has grown for `quiet_for` seconds (relays finish what they started); returns the
    seconds waited. The enforcement team's durable is read by people, not the platform."""
    connection = await access.connect(nats_url)
    js = connection.jetstream()
    started = time.perf_counter()
    previous: dict[str, int] | None = None
    try:
        while True:
            heads, busy = {}, []
            for stream in await js.streams_info():
                heads[stream.config.name] = stream.state.last_seq
                for consumer in await js.consumers_info(stream.config.name):
                    if consumer.name == TEAM_CONSUMER.durable:
                        continue
                    if consumer.num_pending > 0 or consumer.num_ack_pending > 0:
                        busy.append(f"{consumer.name}: {consumer.num_pending} pending, {consumer.num_ack_pending} unacknowledged")
            if not busy and heads == previous:
                return time.perf_counter() - started
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"the platform was still busy after {timeout}s: {'; '.join(busy) or f'streams growing: {heads}'}")
            previous = None if busy else heads
            await asyncio.sleep(quiet_for)
    finally:
        await connection.close()


async def _latency(nats_url: str, visible: Visibility, rate: int, seconds: float) -> dict:
    times = await latency_samples(nats_url, visible, load_records(int(rate * seconds), f"l{rate}"), rate)
    latencies = [(seen - sent) * 1000 for sent, seen in times.values()]
    return {"offered_per_s": rate, "records": len(latencies), **{f"p{p}_ms": percentile(latencies, p) for p in (50, 95, 99)}}


async def latency_samples(nats_url: str, visible: Visibility, records: list[tuple[str, bytes, str]], rate: float) -> dict[str, tuple[float, float]]:
    """At a fixed offered rate: when each record was published and when reporting first
    showed it, by record id, in Unix time (the broker's timestamps are comparable)."""
    wall_minus_perf = time.time() - time.perf_counter()
    connection = await access.connect(nats_url)
    base = visible.total()
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter(), visible.total() - base))
            time.sleep(0.005)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    sent = await publish(connection.jetstream(), records, rate)
    await asyncio.to_thread(visible.wait_for, base + len(records), 300)
    await asyncio.sleep(0.05)
    stop.set()
    poller.join()
    await connection.close()
    times = {}
    cursor = 0
    for index, sent_at in enumerate(sent):  # record i is visible once the count passes i
        while cursor < len(samples) and samples[cursor][1] <= index:
            cursor += 1
        if cursor < len(samples):
            times[records[index][2]] = (sent_at + wall_minus_perf, samples[cursor][0] + wall_minus_perf)
    return times


async def _overload(nats_url: str, visible: Visibility, rate: float, seconds: float) -> dict:
    records = load_records(int(rate * seconds), "o")
    connection = await access.connect(nats_url)
    base = visible.total()
    started = time.perf_counter()
    await publish(connection.jetstream(), records, rate)
    offered_for = time.perf_counter() - started
    done = await asyncio.to_thread(visible.wait_for, base + len(records), 900)
    await connection.close()
    return {"offered_per_s": rate, "achieved_offer_per_s": len(records) / offered_for, "records": len(records), "drained_per_s": len(records) / (done - started)}
