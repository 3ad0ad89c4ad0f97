"""Where a record's latency goes: the whole platform at a fixed offered load, publish →
visible in reporting, split into hops by the times the broker stored each message.

    .venv/bin/python -m cli.bench.latency [--rate 500] [--seconds 15] [--runs 3]

After --history records (default 500) of warm-up, and before each run, it waits until the platform has
settled (every consumer caught up). Per record: published (the publisher's clock),
stored in COUNTY_INBOX, the submission event created in intake (its `occurred_at`),
its announcement stored in FP_INTAKE (after intake's commit and relay), and first seen
in reporting's read models. All clocks are this machine's. It also prints how busy the
machine was and, per process, the share of a core it ran and the share it waited
runnable for a core (/proc schedstat): contention, not work. --spy DIR records py-spy
profiles of the services during each run (see cli.bench.cpu).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from datetime import datetime
from pathlib import Path

import nats

from cli.bench import access
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.errors import TimeoutError as NatsTimeoutError

from cli.bench.cpu import start_profiles, stop_profiles
from cli.bench.load import Visibility, latency_samples, load_records, percentile, process_ids, sustained_throughput, temporary_platform, wait_until_settled

HOPS = ("publish → inbox", "inbox → event created", "event created → FP_INTAKE", "FP_INTAKE → visible", "publish → visible")


async def stored_times(js, stream: str, since_sequence: int) -> dict[str, tuple[float, dict]]:
    """By correlation id (the record id): when the broker stored the stream's first message
    for it after `since_sequence`, as Unix time, and the message's JSON body."""
    config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=since_sequence + 1, ack_policy=AckPolicy.NONE)
    subscription = await js.pull_subscribe(">", stream=stream, config=config)
    found: dict[str, tuple[float, dict]] = {}
    try:
        while True:
            try:
                messages = await subscription.fetch(1000, timeout=1)
            except (NatsTimeoutError, asyncio.TimeoutError):  # nats-py raises either at the end
                return found
            for message in messages:
                headers = message.headers or {}
                record_id = headers.get("Fp-Correlation-Id") or headers.get("Nats-Msg-Id")
                if record_id and record_id not in found:
                    found[record_id] = (message.metadata.timestamp.timestamp(), json.loads(message.data))
    finally:
        await subscription.unsubscribe()


def scheduling(pid: int) -> tuple[float, float]:
    """Seconds a process's threads have run on a CPU, and waited runnable for one
    (/proc/PID/task/*/schedstat; threads that have ended are not counted)."""
    ran = waited = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            on_cpu, on_queue, _ = (task / "schedstat").read_text().split()
        except (FileNotFoundError, ValueError):
            continue
        ran, waited = ran + int(on_cpu), waited + int(on_queue)
    return ran / 1e9, waited / 1e9


def machine_times() -> list[int]:
    """The machine's CPU time in clock ticks: user, nice, system, idle, iowait, irq, softirq, steal."""
    return [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]


async def one_run(nats_url: str, visible: Visibility, rate: int, seconds: float, tag: str) -> dict[str, list[float]]:
    """Each hop's times in ms, over the records intake accepted."""
    connection = await access.connect(nats_url)
    js = connection.jetstream()
    heads = {name: (await js.stream_info(name)).state.last_seq for name in ("COUNTY_INBOX", "FP_INTAKE")}
    times = await latency_samples(nats_url, visible, load_records(int(rate * seconds), tag), rate)
    inbox = await stored_times(js, "COUNTY_INBOX", heads["COUNTY_INBOX"])
    announced = await stored_times(js, "FP_INTAKE", heads["FP_INTAKE"])
    await connection.close()
    hops: dict[str, list[float]] = {hop: [] for hop in HOPS}
    for record_id, (sent, seen) in times.items():
        if record_id not in inbox or record_id not in announced:
            continue  # a rejected record announces no submission
        stored, (announced_at, envelope) = inbox[record_id][0], announced[record_id]
        created = datetime.fromisoformat(envelope["occurred_at"]).timestamp()
        for hop, begin, end in zip(HOPS, (sent, stored, created, announced_at, sent), (stored, created, announced_at, seen, seen), strict=True):
            hops[hop].append((end - begin) * 1000)
    return hops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=500, help="records offered per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--spy", type=Path, help="directory for py-spy profiles of the services during the runs (see cli.bench.cpu)")
    parser.add_argument("--history", type=int, default=500, help="records fed (as fast as accepted) before the runs; `fpb bench` measures latency after 20,000")
    parser.add_argument("--settle-timeout", type=float, default=600, help="seconds to wait for the platform to settle before a run")
    args = parser.parse_args()
    with temporary_platform("fpb-latency-") as platform:
        visible = Visibility(platform.store_url("reporting"))
        asyncio.run(sustained_throughput(platform.nats_url, visible, args.history, "warm"))
        pids = {"benchmark": os.getpid()} | process_ids(platform)
        for run in range(1, args.runs + 1):
            settled = asyncio.run(wait_until_settled(platform.nats_url, timeout=args.settle_timeout))
            before, machine_before, started = {name: scheduling(pid) for name, pid in pids.items()}, machine_times(), time.perf_counter()
            spies = start_profiles(args.spy / f"run{run}", {name: pids[name] for name in platform.services}) if args.spy else []
            hops = asyncio.run(one_run(platform.nats_url, visible, args.rate, args.seconds, f"r{run}-"))
            stop_profiles(spies)
            elapsed = time.perf_counter() - started
            print(f"run {run} at {args.rate}/s for {args.seconds:g} s (settled after {settled:.1f} s), p50 / p95 / p99 ms:")
            for hop, values in hops.items():
                print(f"  {hop:28} " + " / ".join(f"{percentile(values, p):6.1f}" for p in (50, 95, 99)) + f"   ({len(values)} records)")
            # A process's threads waiting runnable while others hold both cores: the
            # part of the latency that is contention for the CPU, not work.
            machine = [after - was for after, was in zip(machine_times(), machine_before, strict=True)]
            busy = 100 * (sum(machine) - machine[3] - machine[4]) / sum(machine)
            print(f"  machine: {busy:.0f}% of all cores busy (steal {100 * machine[7] / sum(machine):.0f}%)")
            print("  per process, share of one core: on CPU / waiting runnable for a CPU")
            for name, pid in pids.items():
                ran, waited = (after - was for after, was in zip(scheduling(pid), before[name], strict=True))
                print(f"    {name:14} {100 * ran / elapsed:5.1f}% / {100 * waited / elapsed:5.1f}%")


if __name__ == "__main__":
    main()
