"""Where a record's CPU goes: the whole platform under load, CPU per record of each
process, and what each record adds to every stream and consumer. For comparing two
versions of the code in one sitting (run-to-run noise on a small VM is about ±10%).

    .venv/bin/python -m cli.bench.cpu [RECORDS] [--cold] [--history N] [--spy DIR]

--cold skips the warm-up (--history records first, default 500, then settled; `fpb bench`
has none); --spy DIR records a py-spy profile of each service (the thread holding the
GIL only; raw collapsed stacks, one file per service) into DIR. py-spy is in the `profile` extra:
`.venv/bin/pip install -e '.[profile]'`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

import nats

from cli.bench import access

from cli.bench.load import Visibility, cpu_seconds, process_ids, sustained_throughput, temporary_platform, wait_until_settled


async def stream_counts(nats_url: str) -> dict[str, int]:
    """Messages per stream, and the last stream sequence each consumer was delivered."""
    connection = await access.connect(nats_url)
    js, counts = connection.jetstream(), {}
    for stream in await js.streams_info():
        counts[stream.config.name] = stream.state.messages
        for consumer in await js.consumers_info(stream.config.name):
            counts[f"{stream.config.name} → {consumer.name}"] = consumer.delivered.stream_seq
    await connection.close()
    return counts


def start_profiles(directory: Path, pids: dict[str, int]) -> list[subprocess.Popen]:
    """py-spy recording each process (the thread holding the GIL only; raw collapsed
    stacks) into DIRECTORY/NAME.txt, until stop_profiles."""
    directory.mkdir(parents=True, exist_ok=True)
    spies = []
    for name, pid in pids.items():
        command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-o", str(directory / f"{name}.txt"), "-f", "raw", "-r", "200", "--nonblocking", "--gil"]
        spies.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return spies


def stop_profiles(spies: list[subprocess.Popen]) -> None:
    for spy in spies:
        spy.send_signal(2)  # SIGINT: py-spy writes its profile and exits
        spy.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=int, nargs="?", default=10_000)
    parser.add_argument("--cold", action="store_true", help="no warm-up")
    parser.add_argument("--history", type=int, default=500, help="records fed first, then settled (the warm-up); more, to see a long history's costs")
    parser.add_argument("--spy", type=Path, help="directory for py-spy profiles of the services")
    args = parser.parse_args()
    with temporary_platform("fpb-cpu-") as platform:
        pids = process_ids(platform)
        visible = Visibility(platform.store_url("reporting"))
        if not args.cold:
            asyncio.run(sustained_throughput(platform.nats_url, visible, args.history, "warm"))
            asyncio.run(wait_until_settled(platform.nats_url))
        counts_before = asyncio.run(stream_counts(platform.nats_url))
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        spies = start_profiles(args.spy, {name: pids[name] for name in platform.services}) if args.spy else []
        rate = asyncio.run(sustained_throughput(platform.nats_url, visible, args.records, "run"))["records_per_s"]
        stop_profiles(spies)
        cpu = {name: 1e6 * (cpu_seconds(pid) - cpu_before[name]) / args.records for name, pid in pids.items()}
        counts_after = asyncio.run(stream_counts(platform.nats_url))
    print(f"{rate:.0f} records/s visible in reporting")
    print("CPU µs per record: " + ", ".join(f"{name} {value:.0f}" for name, value in cpu.items()) + f"; all {sum(cpu.values()):.0f}")
    for name, after in counts_after.items():
        print(f"  {name}: {(after - counts_before.get(name, 0)) / args.records:.2f} per record")


if __name__ == "__main__":
    main()
