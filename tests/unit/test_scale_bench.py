"""The pure parts of the scale-out benchmark (cli/bench/scale.py): what it reads from a
replica's /metrics, and the figures, rows and projection it derives from its samples."""

from __future__ import annotations

import pytest

from cli.bench.scale import Snapshot, figures, handled, leads_relay, messages_in, projection, table_rows
from shared.observability.metrics import ServiceMetrics


def exposition(**outcomes: int) -> str:
    """A replica's real /metrics text, after handling messages with these outcomes."""
    metrics = ServiceMetrics("intake")
    for outcome, count in outcomes.items():
        metrics.messages_in.labels("intake", "county.police.birth.registered", outcome).inc(count)
        metrics.messages_in.labels("intake", "township.*.birth.reported", outcome).inc(count)
    return metrics.exposition().decode()


def snapshot(at: float, acknowledged: int, replica_cpu: tuple[float, ...], nats_cpu: float, postgres_cpu: dict[int, float], handled: tuple[float, ...], leaders: tuple[bool, ...]) -> Snapshot:
    return Snapshot(at, acknowledged, acknowledged, replica_cpu, nats_cpu, postgres_cpu, handled, leaders)


def test_a_replicas_messages_are_summed_by_outcome_over_message_types() -> None:
    assert messages_in(exposition(ok=30, rejected=2)) == {"ok": 60.0, "rejected": 4.0}


def test_a_message_retried_is_counted_once_when_it_is_handled_not_at_each_retry() -> None:
    assert handled(exposition(ok=30, duplicate=1, retry=5, outage=3)) == 62.0


def test_a_replica_that_handled_nothing_has_handled_nothing() -> None:
    assert handled(ServiceMetrics("intake").exposition().decode()) == 0.0


def test_only_the_replica_reporting_the_relays_lag_leads_the_relay() -> None:
    leader, standby = ServiceMetrics("intake"), ServiceMetrics("intake")
    leader.relay_lag.labels("intake").set(0)
    standby.relay_lag.labels("intake").set(12)
    standby.relay_lag.clear()  # what a standby does at each turn

    assert leads_relay(leader.exposition().decode())
    assert not leads_relay(standby.exposition().decode())


def test_figures_cover_only_the_window_from_all_replicas_ready_to_done() -> None:
    start = snapshot(10.0, 1000, (2.0, 1.5), 4.0, {1: 7.0, 2: 1.0}, (600, 400), (True, False))
    end = snapshot(12.5, 6000, (4.5, 4.0), 5.0, {1: 9.0, 3: 0.5}, (3100, 2900), (True, False))

    run = figures(start, end)

    assert run["records"] == 5000
    assert run["acknowledged_before_window"] == 1000
    assert run["records_per_s"] == pytest.approx(2000)
    assert run["replica_cpu_s"] == pytest.approx([2.5, 2.5])
    assert run["intake_cpu_us_per_record"] == pytest.approx(1000)
    assert run["nats_cpu_us_per_record"] == pytest.approx(200)
    # pid 1 went on (+2 s), pid 3 appeared (0.5 s counted whole), pid 2 ended (lost).
    assert run["postgres_cpu_us_per_record"] == pytest.approx(500)
    assert run["cores_busy"] == pytest.approx((5.0 + 1.0 + 2.5) / 2.5)
    assert run["handled_share"] == pytest.approx([0.5, 0.5])
    assert run["relay_leader"] == [1]


def test_rows_give_each_replica_counts_value_and_the_last_ones_ratio_to_the_first() -> None:
    one = {"records_per_s": 1000.0, "records": 6000, "intake_cpu_us_per_record": 500.0, "nats_cpu_us_per_record": 100.0,
           "postgres_cpu_us_per_record": 200.0, "cores_busy": 1.6, "replica_cpu_s": [3.0], "handled_share": [1.0], "relay_leader": [1]}
    two = {**one, "records_per_s": 1500.0, "intake_cpu_us_per_record": 550.0, "cores_busy": 2.0,
           "replica_cpu_s": [1.7, 1.6], "handled_share": [0.52, 0.48], "relay_leader": [2]}

    rows = {row["figure"]: row for row in table_rows({1: one, 2: two})}

    assert rows["intake throughput (records/s)"] == {"figure": "intake throughput (records/s)", "values": [1000.0, 1500.0], "ratio": 1.5}
    assert rows["intake CPU µs per record (all replicas)"]["ratio"] == 1.1
    assert rows["CPU seconds per replica"]["values"] == ["3.00", "1.70 / 1.60"]
    assert rows["share of handled messages per replica"]["values"] == ["100%", "52% / 48%"]
    assert rows["replica running the outbox relay"] == {"figure": "replica running the outbox relay", "values": ["1", "2"], "ratio": None}


def test_the_projection_gives_c_cores_c_times_a_millionth_of_one_replicas_cost_per_record() -> None:
    one = {"intake_cpu_us_per_record": 500.0, "nats_cpu_us_per_record": 100.0, "postgres_cpu_us_per_record": 250.0}

    projected = projection(one, cores=(1, 4))

    assert projected["1"] == {"records_per_s": 2000, "nats_server_cores": 0.2, "postgres_cores": 0.5}
    assert projected["4"] == {"records_per_s": 8000, "nats_server_cores": 0.8, "postgres_cores": 2.0}
