"""`fpb bench`: one run, one machine, one table (figure, value, raw baseline, ratio).

Never part of the test suite's pass/fail: it prints and records figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import platform as host
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cli.bench.audit import as_of_benchmark, verify_benchmark
from cli.bench.load import access_overhead, run_load
from cli.bench.raw import event_store_baseline, jetstream_baseline, reference_speed
from cli.bench.replay import replay_benchmark
from cli.bench.targets import summary, verdicts

MESSAGE_SIZE = 1200  # bytes: about the size of an inbound record with its envelope


@dataclass(frozen=True)
class Scale:
    raw_messages: int
    store_events: int
    throughput_records: int
    latency_rates: tuple[int, ...]
    latency_seconds: float
    replay_events: int


FULL = Scale(raw_messages=50_000, store_events=20_000, throughput_records=20_000, latency_rates=(100, 500, 1000), latency_seconds=15, replay_events=1_000_000)
QUICK = Scale(raw_messages=5_000, store_events=2_000, throughput_records=2_000, latency_rates=(100, 500), latency_seconds=5, replay_events=20_000)


def machine() -> dict[str, str]:
    return {"cpus": str(os.cpu_count()), "python": host.python_version(), "system": f"{host.system()} {host.release()}", "processor": host.machine()}


def run(scale: Scale, out: Path, console: Console) -> dict:
    with tempfile.TemporaryDirectory(prefix="fpb-bench-") as temporary:
        workdir = Path(temporary)
        results: dict = {"machine": machine(), "started_at": datetime.now(timezone.utc).isoformat(), "scale": scale.__dict__,
                         "reference_speed": {"start": reference_speed()}}
        console.print("raw JetStream baseline…")
        results["jetstream"] = asyncio.run(jetstream_baseline(workdir, scale.raw_messages, MESSAGE_SIZE))
        console.print("raw event store baseline…")
        results["event_store"] = event_store_baseline(workdir, scale.store_events)
        console.print("end to end: throughput, latency, memory, overload…")
        results["platform"] = run_load(workdir, scale.throughput_records, list(scale.latency_rates), scale.latency_seconds, overload_factor=10)
        console.print("end to end with and without the broker's authentication and permissions…")
        results["access"] = access_overhead(workdir, max(1000, scale.throughput_records // 2))
        console.print(f"replay of {scale.replay_events:,} events…")
        results["replay"] = asyncio.run(replay_benchmark(workdir, scale.replay_events))
        console.print("audit…")
        results["as_of"] = as_of_benchmark(workdir)
        results["verify"] = verify_benchmark(workdir)
        results["reference_speed"]["end"] = reference_speed()
    results["table"] = table_rows(results)
    judged = verdicts(results)
    results["targets"] = [v.as_dict() for v in judged]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_table(results["table"], console)
    console.print(f"targets: {summary(judged)}")
    console.print(f"written to {out}")
    return results


def table_rows(r: dict) -> list[dict]:
    js, store, load, replay = r["jetstream"], r["event_store"], r["platform"], r["replay"]
    raw_rate = js["publish_then_consume_per_s"]

    def row(figure: str, value: float, unit: str, baseline: float | None = None, base_unit: str = "") -> dict:
        return {"figure": figure, "value": round(value, 1), "unit": unit, "baseline": round(baseline, 1) if baseline else None,
                "baseline_unit": base_unit, "ratio": round(value / baseline, 3) if baseline else None}

    rows = [
        row("machine speed at the start, reference Python work", r["reference_speed"]["start"], "rounds/s"),
        row("machine speed at the end, reference Python work", r["reference_speed"]["end"], "rounds/s"),
        row("raw JetStream publish (durable, pipelined)", js["publish_per_s"], "msg/s"),
        row("raw JetStream pull-consume with ack", js["consume_per_s"], "msg/s"),
        row("raw event store append, 1 event/transaction", store["append_one_per_s"], "events/s"),
        row("raw event store log read", store["log_read_per_s"], "events/s"),
        row("end-to-end sustained throughput (visible in reporting)", load["throughput"]["records_per_s"], "records/s", raw_rate, "raw publish→consume msg/s"),
    ]
    if "access" in r:  # results stored before it was measured have none
        a = r["access"]
        rows.append(row("end to end, NKeys + permissions (median)", statistics.median(a["authenticated_records_per_s"]), "records/s",
                        statistics.median(a["open_records_per_s"]), "same platform, open broker"))
    for rate, figures in load["latency"].items():
        for p in (50, 95, 99):
            rows.append(row(f"publish→visible p{p} at {rate}/s offered", figures[f"p{p}_ms"], "ms"))
    for name, ms in load.get("cpu_ms_per_record", {}).items():
        rows.append(row(f"CPU per record, {name}", ms * 1000, "µs"))
    rows.append(row("rebuild read models", replay["rebuild_per_s"], "events/s", replay["raw_stream_read_per_s"], "raw stream read events/s"))
    for name, us in replay.get("cpu_us_per_event", {}).items():
        rows.append(row(f"rebuild CPU per event, {name}", us, "µs"))
    for name, mib in replay.get("peak_rss_mib", {}).items():
        rows.append(row(f"peak RSS rebuild {name}", mib, "MiB"))
    rows.append(row("as-of reconstruction, 1,000-event aggregate, p50", r["as_of"]["p50_ms"], "ms"))
    rows.append(row("as-of reconstruction, 1,000-event aggregate, p99", r["as_of"]["p99_ms"], "ms"))
    rows.append(row("audit verify (recompute chain, check checkpoints)", r["verify"]["verify_per_s"], "events/s", store["log_read_per_s"], "raw log read events/s"))
    for name, kib in sorted(load["memory_peak_kib"].items()):
        rows.append(row(f"peak RSS {name} (steps 2-5)", kib / 1024, "MiB"))
    for name, kib in sorted(load["overload"]["memory_peak_kib"].items()):
        rows.append(row(f"peak RSS {name} at 10x overload", kib / 1024, "MiB"))
    return rows


def print_table(rows: list[dict], console: Console) -> None:
    table = Table(title="fpb bench")
    for column in ("figure", "value", "raw baseline", "ratio"):
        table.add_column(column)
    for row in rows:
        baseline = f"{row['baseline']} {row['baseline_unit']}" if row["baseline"] else ""
        table.add_row(row["figure"], f"{row['value']} {row['unit']}", baseline, f"{row['ratio']:.0%}" if row["ratio"] else "")
    console.print(table)
