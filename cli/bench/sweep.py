"""What verification's warning sweep and overdue list cost as open applications pile up
(`python -m cli.bench.sweep 20000`).

A fresh platform is fed RECORDS records of the benchmark's mix (its applications are
filed in the last days and weeks, and none is decided: they stay open), then settled.
Then verification is asked, over HTTP as the sweep worker and officers ask it, to raise
warnings and for the overdue list, each a few times on the same day; each call's wall
time and verification's CPU are printed. The first call also catches the applications
index up with the log. Runs on any version of the code that has these two routes, so
two versions can be compared in one sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections import Counter
import time
from datetime import datetime, timedelta, timezone

import httpx

from cli.bench.load import Visibility, cpu_seconds, sustained_throughput, temporary_platform, wait_until_settled

CHINA = timezone(timedelta(hours=8))
OPEN = ("submitted", "checked", "information_requested", "information_supplied")


def timed_call(call, pid: int) -> tuple[float, float, httpx.Response]:
    """Wall milliseconds and verification's CPU milliseconds of one request."""
    cpu, started = cpu_seconds(pid), time.perf_counter()
    response = call()
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000, (cpu_seconds(pid) - cpu) * 1000, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("records", type=int, nargs="?", default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    today = datetime.now(CHINA).date().isoformat()
    with temporary_platform("fpb-sweep-") as platform:
        verification = platform.services["verification"]
        pid, url = verification.process.pid, verification.url
        asyncio.run(sustained_throughput(platform.nats_url, Visibility(platform.store_url("reporting")), args.records, "sweep"))
        asyncio.run(wait_until_settled(platform.nats_url))
        with httpx.Client(base_url=url, timeout=600) as http:
            rows = http.get("/applications").json()["rows"]
            still_open = sum(row["status"] in OPEN for row in rows)
            by_status = Counter(row["status"] for row in rows)
            first = timed_call(lambda: http.post("/applications/warnings", params={"as_of": today}), pid)
            sweeps = [timed_call(lambda: http.post("/applications/warnings", params={"as_of": today}), pid) for _ in range(args.repeat)]
            lists = [timed_call(lambda: http.get("/applications/overdue", params={"as_of": today}), pid) for _ in range(args.repeat)]
    listed = len(lists[-1][2].json()["applications"])
    print(f"{args.records:,} records fed; {len(rows):,} applications ({dict(by_status)}), {still_open:,} open; {len(first[2].json()['warned']):,} warned by the first sweep;"
          f" {listed:,} nearing or past their limit on {today}")
    print(f"first sweep (with the index's catch-up and the warnings it raised): {first[0]:,.0f} ms, verification CPU {first[1]:,.0f} ms")
    for name, calls in (("sweep", sweeps), ("overdue list", lists)):
        print(f"{name}, median of {len(calls)}: {statistics.median(c[0] for c in calls):,.1f} ms, verification CPU {statistics.median(c[1] for c in calls):,.1f} ms")


if __name__ == "__main__":
    main()
