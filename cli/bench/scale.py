"""Scale-out of the intake stage: how throughput grows with replicas on NATS and PostgreSQL.

    .venv/bin/python -m cli.bench.scale [--records 20000] [--replicas 1,2]

For each replica count N, on the same starting conditions (a fresh nats-server with
freshly provisioned streams, a fresh PostgreSQL database), it:

1. publishes K inbound records (the demo's proportions) to COUNTY_INBOX while no
   service runs: a backlog, so the publisher takes no CPU from the replicas later;
2. starts N intake replicas on the one PostgreSQL store and key store, and waits until
   every one of them is ready;
3. measures from that moment until intake's durable consumer has nothing pending or
   unacknowledged and FP_INTAKE holds K messages (the outbox relay published them all).

Why this window: a replica that is ready first starts on the backlog before the others,
so timing from the first start would count one replica's work as N's (and the start-up
of Python processes as work). From the moment all N are ready, all N draw from a full
backlog until it is empty: the intake stage's sustained rate with N replicas. What was
handled before that moment is taken off (records = K minus those already acknowledged),
and the CPU figures cover the same window.

What it records per N: records/s; each replica's CPU seconds; CPU µs per record of the
replicas together, of nats-server and of PostgreSQL (every `postgres` process of the
server, so nothing else should use that server during the run); and each replica's share
of the messages it handled (`fpb_messages_in_total` on its GET /metrics).

On a machine with few cores the replicas share them with nats-server and PostgreSQL: N=2
on 2 cores cannot be twice N=1, whatever the coordination. The figure that says whether
replicas scale is the CPU per record: flat when replicas are added means no coordination
cost, and then each core given to a replica adds 1e6 / (µs per record) records/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx
import nats
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.table import Table

from cli.bench.load import cpu_seconds, load_records, publish
from cli.bench.run import machine
from cli.platform import ServiceProcess, provision_platform
from shared.messaging.nats_server import EmbeddedNatsServer, free_port
from shared.privacy.keys import AUDIT_KEY_FILE, ensure_key_files

ADMIN_URL = os.environ.get("FPB_SCALE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
OUT = Path("bench/results/scale.json")
POLL_SECONDS = 0.05
TIMEOUT_SECONDS = 900.0
PROJECTED_CORES = (1, 2, 4, 8)
NOT_HANDLED = {"retry", "outage"}  # the same message comes back: counted when it is handled


# --- pure parts (tests/unit/test_scale_bench.py) ---------------------------------------


def messages_in(metrics_text: str) -> dict[str, float]:
    """A replica's `fpb_messages_in_total`, summed by outcome over message types."""
    outcomes: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "fpb_messages_in_total":
                outcome = sample.labels.get("outcome", "")
                outcomes[outcome] = outcomes.get(outcome, 0.0) + sample.value
    return outcomes


def handled(metrics_text: str) -> float:
    """Messages a replica handled to the end (acknowledged), whatever the outcome."""
    return sum(value for outcome, value in messages_in(metrics_text).items() if outcome not in NOT_HANDLED)


def leads_relay(metrics_text: str) -> bool:
    """Only the replica holding the relay's advisory lock reports the relay's lag."""
    return any(
        sample.name == "fpb_relay_lag_events"
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
    )


@dataclass(frozen=True)
class Snapshot:
    """Everything measured at one moment of a run."""

    at: float  # time.perf_counter()
    acknowledged: int  # inbound records intake has acknowledged
    relayed: int  # messages in FP_INTAKE
    replica_cpu: tuple[float, ...]  # CPU seconds, per replica
    nats_cpu: float
    postgres_cpu: dict[int, float]  # pid -> CPU seconds, every postgres process
    handled: tuple[float, ...]  # per replica, from its /metrics
    leaders: tuple[bool, ...]  # per replica: holds the relay's lock


def figures(start: Snapshot, end: Snapshot) -> dict:
    """The figures of one run, over the window from `start` to `end`."""
    records = end.acknowledged - start.acknowledged
    seconds = end.at - start.at
    replica_cpu = [after - before for before, after in zip(start.replica_cpu, end.replica_cpu, strict=True)]
    nats_cpu = end.nats_cpu - start.nats_cpu
    # A backend that appeared during the window counts whole; one that ended is lost
    # (the replicas' pooled connections live through the window).
    postgres_cpu = sum(cpu - start.postgres_cpu.get(pid, 0.0) for pid, cpu in end.postgres_cpu.items())
    handled_in_window = [after - before for before, after in zip(start.handled, end.handled, strict=True)]
    total_handled = sum(handled_in_window)
    return {
        "replicas": len(replica_cpu),
        "records": records,
        "acknowledged_before_window": start.acknowledged,
        "relayed_before_window": start.relayed,
        "seconds": seconds,
        "records_per_s": records / seconds,
        "replica_cpu_s": replica_cpu,
        "intake_cpu_us_per_record": 1e6 * sum(replica_cpu) / records,
        "nats_cpu_us_per_record": 1e6 * nats_cpu / records,
        "postgres_cpu_us_per_record": 1e6 * postgres_cpu / records,
        # Above the machine's core count is impossible; at it, the machine is the bound.
        "cores_busy": (sum(replica_cpu) + nats_cpu + postgres_cpu) / seconds,
        "handled_share": [count / total_handled if total_handled else 0.0 for count in handled_in_window],
        "relay_leader": [number for number, leads in enumerate(end.leaders, start=1) if leads],
    }


def table_rows(runs: dict[int, dict]) -> list[dict]:
    """One row per figure, a value per replica count, and the last count's ratio to the first."""

    def row(figure: str, key: str, digits: int = 1) -> dict:
        values = [runs[n][key] for n in runs]
        return {"figure": figure, "values": [round(v, digits) for v in values], "ratio": round(values[-1] / values[0], 3) if values[0] else None}

    def listed(figure: str, key: str, show) -> dict:
        return {"figure": figure, "values": [" / ".join(show(v) for v in runs[n][key]) for n in runs], "ratio": None}

    return [
        row("intake throughput (records/s)", "records_per_s"),
        row("records in the window", "records", 0),
        row("intake CPU µs per record (all replicas)", "intake_cpu_us_per_record"),
        row("nats-server CPU µs per record", "nats_cpu_us_per_record"),
        row("PostgreSQL CPU µs per record", "postgres_cpu_us_per_record"),
        row("cores busy (intake + nats-server + PostgreSQL)", "cores_busy", 2),
        listed("CPU seconds per replica", "replica_cpu_s", lambda v: f"{v:.2f}"),
        listed("share of handled messages per replica", "handled_share", lambda v: f"{v:.0%}"),
        listed("replica running the outbox relay", "relay_leader", str),
    ]


def projection(one_replica: dict, cores: tuple[int, ...] = PROJECTED_CORES) -> dict:
    """Records/s with C cores for intake, from one replica's CPU per record, and what
    nats-server and PostgreSQL then need (cores), at the per-record costs measured."""
    intake_us = one_replica["intake_cpu_us_per_record"]
    result = {}
    for c in cores:
        rate = c * 1e6 / intake_us
        result[str(c)] = {
            "records_per_s": round(rate),
            "nats_server_cores": round(rate * one_replica["nats_cpu_us_per_record"] / 1e6, 2),
            "postgres_cores": round(rate * one_replica["postgres_cpu_us_per_record"] / 1e6, 2),
        }
    return result


# --- measurement ------------------------------------------------------------------------


def postgres_cpu() -> dict[int, float]:
    """CPU seconds of every process named postgres (the server and its backends)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = cpu_seconds(int(entry.name))
            except OSError:  # gone meanwhile
                continue
    return found


def create_database(admin_url: str) -> str:
    """A new database of this run's own (the server may hold others): its URL."""
    name = f"fpb_scale_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def drop_database(admin_url: str, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def replica(index: int, workdir: Path, nats_url: str, database_url: str) -> ServiceProcess:
    """An intake process configured as cli/platform.py configures it, on the shared database."""
    port = free_port()
    env = {
        "FPB_NATS_URL": nats_url,
        "FPB_STORE_URL": database_url,
        "FPB_KEYSTORE_URL": database_url,
        "FPB_KEY_DIR": str(workdir / "keys"),
        "FPB_AUDIT_KEY_FILE": str(workdir / "keys" / AUDIT_KEY_FILE),
        "FPB_CHECKPOINT_DIR": str(workdir / "checkpoints"),
        "FPB_HTTP_PORT": str(port),
    }
    return ServiceProcess("intake", env, workdir / f"intake-{index}.log", port)


async def publish_backlog(js, records: list[tuple[str, bytes, str]]) -> None:
    await publish(js, records)
    inbox = await js.stream_info("COUNTY_INBOX")
    if inbox.state.messages != len(records):
        raise RuntimeError(f"COUNTY_INBOX holds {inbox.state.messages} messages, not {len(records)}")


async def progress(js, total: int) -> tuple[int, int]:
    """(records intake has acknowledged, messages in FP_INTAKE)."""
    consumer = await js.consumer_info("COUNTY_INBOX", "intake")
    stream = await js.stream_info("FP_INTAKE")
    return total - consumer.num_pending - consumer.num_ack_pending, stream.state.messages


async def snapshot(js, total: int, replicas: list[ServiceProcess], nats_pid: int) -> Snapshot:
    at = time.perf_counter()
    acknowledged, relayed = await progress(js, total)
    texts = [httpx.get(f"{r.url}/metrics", timeout=5).text for r in replicas]
    return Snapshot(
        at=at,
        acknowledged=acknowledged,
        relayed=relayed,
        replica_cpu=tuple(cpu_seconds(r.process.pid) for r in replicas),
        nats_cpu=cpu_seconds(nats_pid),
        postgres_cpu=postgres_cpu(),
        handled=tuple(handled(text) for text in texts),
        leaders=tuple(leads_relay(text) for text in texts),
    )


async def drain(nats_url: str, nats_pid: int, replicas: list[ServiceProcess], records: list[tuple[str, bytes, str]]) -> dict:
    total = len(records)
    connection = await nats.connect(nats_url)
    try:
        js = connection.jetstream()
        await publish_backlog(js, records)
        for r in replicas:  # all at once: none should get a head start on the backlog
            r.start()
        for r in replicas:
            r.wait_ready()
        start = await snapshot(js, total, replicas, nats_pid)
        if start.acknowledged > total // 2:  # the window would measure a tail, not a sustained rate
            raise RuntimeError(f"{start.acknowledged} of {total} records were handled before all replicas were ready: raise --records")
        deadline = time.perf_counter() + TIMEOUT_SECONDS
        while (state := await progress(js, total)) != (total, total):
            if state[1] > total:
                raise RuntimeError(f"FP_INTAKE holds {state[1]} messages for {total} records")
            if time.perf_counter() > deadline:
                raise TimeoutError(f"after {TIMEOUT_SECONDS}s: {state[0]} of {total} acknowledged, {state[1]} relayed")
            await asyncio.sleep(POLL_SECONDS)
        end = await snapshot(js, total, replicas, nats_pid)
    finally:
        await connection.close()
    return figures(start, end)


def measure(n: int, records: list[tuple[str, bytes, str]], workdir: Path, admin_url: str) -> dict:
    """One run with n replicas, from nothing (broker, streams, database) to nothing."""
    workdir.mkdir(parents=True)
    ensure_key_files(workdir / "keys")
    database_url = create_database(admin_url)
    server: EmbeddedNatsServer | None = None
    replicas: list[ServiceProcess] = []
    try:
        server = EmbeddedNatsServer(workdir / "nats", allow_anonymous=True).start()  # a broker of its own, for this measurement only
        asyncio.run(provision_platform(server.url))
        replicas = [replica(index, workdir, server.url, database_url) for index in range(n)]
        assert server.process is not None
        return asyncio.run(drain(server.url, server.process.pid, replicas, records))
    except BaseException:
        for r in replicas:  # the temporary directory goes with the logs: show their ends
            if r.log_path.exists():
                print(f"--- {r.log_path.name} ---\n" + "\n".join(r.log_path.read_text(errors="replace").splitlines()[-20:]))
        raise
    finally:
        for r in replicas:
            r.stop()
        if server is not None:
            server.stop()
        drop_database(admin_url, database_url)


NOTE = (
    "On this machine ({cpus} cores) N replicas share the cores with nats-server and PostgreSQL, so the "
    "throughput ratio is bounded by cores, not by coordination (see 'cores busy'). What says whether "
    "replicas scale: CPU µs per record staying flat as replicas are added (no coordination cost) and "
    "handled messages shared evenly. Projection: with C cores for intake, records/s ≈ C × 1e6 / (CPU µs per "
    "record of one replica), as long as nats-server and PostgreSQL get the cores listed, and the one outbox "
    "relay (a single leader, whatever N) keeps up."
)


def print_table(rows: list[dict], counts: list[int], console: Console) -> None:
    table = Table(title="intake scale-out")
    table.add_column("figure")
    for n in counts:
        table.add_column(f"N={n}", justify="right")
    table.add_column(f"ratio N={counts[-1]}/N={counts[0]}", justify="right")
    for row in rows:
        table.add_row(row["figure"], *(str(v) for v in row["values"]), f"{row['ratio']:.2f}" if row["ratio"] is not None else "")
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000, help="records in the backlog (K)")
    parser.add_argument("--replicas", default="1,2", help="replica counts, comma-separated")
    parser.add_argument("--postgres-url", default=ADMIN_URL, help="a database to connect to for CREATE/DROP DATABASE")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    counts = [int(n) for n in args.replicas.split(",")]
    console = Console()
    results: dict = {"machine": machine(), "started_at": datetime.now(timezone.utc).isoformat(), "records": args.records, "method": __doc__}
    runs: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="fpb-scale-") as temporary:
        for n in counts:
            console.print(f"N={n}: {args.records:,} records through {n} intake replica(s)…")
            # The same records each time: each run has its own broker and database.
            runs[n] = measure(n, load_records(args.records, "s"), Path(temporary) / f"n{n}", args.postgres_url)
    results["runs"] = {str(n): run for n, run in runs.items()}
    results["table"] = table_rows(runs)
    results["projection_by_intake_cores"] = projection(runs[counts[0]]) if counts[0] == 1 else None
    results["note"] = NOTE.format(cpus=os.cpu_count())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_table(results["table"], counts, console)
    if results["projection_by_intake_cores"]:
        for cores, p in results["projection_by_intake_cores"].items():
            console.print(f"projected, {cores} intake core(s): {p['records_per_s']:,} records/s (nats-server {p['nats_server_cores']} cores, PostgreSQL {p['postgres_cores']} cores)")
    console.print(results["note"])
    console.print(f"written to {args.out}")


if __name__ == "__main__":
    main()
