"""Issue 7's targets, judged against one run's results: which hold, by how much.

Pure: reads the results dict `cli.bench.run.run` writes, so a stored JSON file can be
judged again (`python -m cli.bench.targets FILE`).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

MB_IN_MIB = 1_000_000 / 2**20  # the memory target is 200 MB, figures are in MiB


@dataclass(frozen=True)
class Verdict:
    target: str
    value: float
    limit: float
    unit: str
    at_least: bool  # the value must reach the limit (else: stay within it)
    judged: bool  # False: this run's scale is too small to judge the target

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


def verdicts(results: dict[str, Any]) -> list[Verdict]:
    load, replay, scale = results["platform"], results["replay"], results["scale"]
    raw_rate = results["jetstream"]["publish_then_consume_per_s"]
    throughput = load["throughput"]["records_per_s"]
    judged = [
        Verdict("end-to-end throughput", throughput, 1000, "records/s", True, True),
        Verdict("end-to-end throughput ÷ raw publish→consume", throughput / raw_rate, 0.30, "ratio", True, True),
    ]
    if "access" in results:  # authentication and permission checks cost at most 5% (issue 20)
        judged.append(Verdict("end-to-end throughput with NKeys + permissions ÷ open broker", results["access"]["ratio"], 0.95, "ratio", True, True))
    latency = {str(rate): figures for rate, figures in load["latency"].items()}  # rates are ints until stored as JSON
    if "500" in latency:
        judged.append(Verdict("p99 publish→visible at 500/s offered", latency["500"]["p99_ms"], 250, "ms", False, True))
    judged += [
        Verdict("rebuild over 1,000,000 events", replay["rebuild_per_s"], 50_000, "events/s", True, scale["replay_events"] >= 1_000_000),
        Verdict("as-of reconstruction of a 1,000-event aggregate, p99", results["as_of"]["p99_ms"], 20, "ms", False, True),
        Verdict("largest service RSS during the run", max(load["memory_peak_kib"].values()) / 1024, 200 * MB_IN_MIB, "MiB", False, True),
        Verdict("largest service RSS at 10× overload", max(load["overload"]["memory_peak_kib"].values()) / 1024, 200 * MB_IN_MIB, "MiB", False, True),
    ]
    return judged


def summary(judged: list[Verdict]) -> str:
    missed = [v.target for v in judged if v.judged and not v.met]
    unjudged = sum(not v.judged for v in judged)
    held = f"{sum(v.judged and v.met for v in judged)} of {sum(v.judged for v in judged)} targets met"
    return held + (f"; missed: {', '.join(missed)}" if missed else "") + (f"; {unjudged} not judged at this scale" if unjudged else "")


def main(argv: list[str]) -> int:
    for path in argv:
        judged = verdicts(json.loads(Path(path).read_text()))
        print(path)
        for v in judged:
            standing = "not judged" if not v.judged else "met" if v.met else "MISSED"
            print(f"  {v.target}: {v.value:,.2f} {v.unit} ({'≥' if v.at_least else '≤'} {v.limit:,.2f}): {standing}")
        print(f"  {summary(judged)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
