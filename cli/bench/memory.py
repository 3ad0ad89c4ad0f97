"""Memory and CPU as the history grows: a fresh platform fed chunks of records, each
service's resident memory and CPU per record printed after every chunk once the platform
has settled. Memory that grows with every chunk, not only with the first few, is a cache
or a list without a bound; CPU per record that grows is a cost that grows with the
history: see README, Performance (session 8).

    .venv/bin/python -m cli.bench.memory [--chunks 8] [--records 25000]

Per service: the peak while the chunk was handled, and now: resident (anonymous) MiB;
then the chunk's CPU per record, in µs.
"""

from __future__ import annotations

import argparse
import asyncio

from cli.bench.load import MemoryWatch, Visibility, cpu_seconds, proc_kib, process_ids, rss_kib, sustained_throughput, temporary_platform, wait_until_settled


def anonymous_kib(pid: int) -> int:
    """The private memory the process allocated itself (its heap), without the mapped files."""
    return proc_kib(f"/proc/{pid}/smaps_rollup", "Anonymous")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=8)
    parser.add_argument("--records", type=int, default=25_000, help="records per chunk")
    args = parser.parse_args()
    with temporary_platform("fpb-memory-") as platform:
        pids = {name: pid for name, pid in process_ids(platform).items() if name in platform.services}
        visible = Visibility(platform.store_url("reporting"))
        print("MiB after start: " + ", ".join(f"{name} {rss_kib(pid) // 1024}" for name, pid in pids.items()))
        for chunk in range(1, args.chunks + 1):
            cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            with MemoryWatch(pids) as memory:
                rate = asyncio.run(sustained_throughput(platform.nats_url, visible, args.records, f"m{chunk}-"))["records_per_s"]
                asyncio.run(wait_until_settled(platform.nats_url))
            print(f"after {chunk * args.records:,} records ({rate:,.0f}/s), MiB peak / now (anonymous): " + ", ".join(
                f"{name} {memory.peaks.get(name, 0) // 1024} / {rss_kib(pid) // 1024} ({anonymous_kib(pid) // 1024})" for name, pid in pids.items()))
            print("  CPU µs per record: " + ", ".join(
                f"{name} {1e6 * (cpu_seconds(pid) - cpu_before[name]) / args.records:.0f}" for name, pid in pids.items()))


if __name__ == "__main__":
    main()
