"""End-to-end throughput of this tree against an earlier commit, in one run.

    python -m cli.bench.before_after --base 3144ad3 --records 10000 --rounds 2

The earlier commit is checked out in a temporary git worktree; rounds alternate (base,
this tree, base, …) so that a drift of the machine falls on both; each round starts a
fresh platform of that tree (`cli.platform.Platform`, as `fpb up` does) and publishes
`--records` records as fast as the broker takes them, until reporting shows them all.
Prints each round, the medians and their ratio; writes the figures as JSON (`--out`).
What is measured is the code as a whole (a change's cost), not one part of it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]

# Run inside the tree measured: only names both old and new trees have.
ROUND = """
import asyncio, json, sys, tempfile, time
from pathlib import Path
from cli.platform import Platform
from cli.bench import load
try:
    from cli.bench import access  # an authenticated platform's clients (since issue 20)
except ImportError:
    access = None
records = int(sys.argv[1])
with tempfile.TemporaryDirectory() as workdir:
    platform = Platform(Path(workdir) / "platform")
    platform.start()
    if access is not None:
        access.register(platform)
    try:
        visible = load.Visibility(platform.store_url("reporting"))
        pids = load.process_ids(platform)
        before = {name: load.cpu_seconds(pid) for name, pid in pids.items()}
        client_before = time.process_time()
        result = asyncio.run(load.sustained_throughput(platform.nats_url, visible, records, tag="ba"))
        cpu = {name: 1000 * (load.cpu_seconds(pid) - before[name]) / records for name, pid in pids.items()}
        # The publishing client shares the machine's cores with the platform: its own cost.
        cpu["publishing client"] = 1000 * (time.process_time() - client_before) / records
        print("ROUND " + json.dumps({"records_per_s": result["records_per_s"], "cpu_ms_per_record": cpu}), flush=True)
    finally:
        platform.stop()
"""


def one_round(tree: Path, records: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", ROUND, str(records)], cwd=tree, env=env, capture_output=True, text=True, timeout=900)
    for line in done.stdout.splitlines():
        if line.startswith("ROUND "):
            return json.loads(line.removeprefix("ROUND "))
    raise RuntimeError(f"a round in {tree} gave no figures:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="The earlier commit (any git revision)")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "bench/results/before_after.json")
    args = parser.parse_args()
    base = subprocess.run(["git", "rev-parse", "--short", args.base], cwd=HERE, capture_output=True, text=True, check=True).stdout.strip()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="fpb-before-") as temporary:
        worktree = Path(temporary) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), base], cwd=HERE, check=True, capture_output=True)
        try:
            rounds: dict[str, list[dict]] = {"before": [], "after": []}
            for number in range(args.rounds):
                for label, tree in (("before", worktree), ("after", HERE)):
                    figures = one_round(tree, args.records)
                    rounds[label].append(figures)
                    cpu = ", ".join(f"{name} {ms * 1000:,.0f}" for name, ms in figures["cpu_ms_per_record"].items())
                    print(f"round {number + 1} {label:<6} ({base if label == 'before' else head + ' + working tree'}): {figures['records_per_s']:,.0f} records/s;"
                          f" CPU µs per record: {cpu}", flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=HERE, capture_output=True)
    medians = {label: statistics.median(r["records_per_s"] for r in runs) for label, runs in rounds.items()}
    ratio = medians["after"] / medians["before"]
    print(f"median: before {medians['before']:,.0f}, after {medians['after']:,.0f} records/s; after ÷ before {ratio:.1%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"base": base, "head": head, "records": args.records, "rounds": rounds, "medians": medians, "ratio": ratio}, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
