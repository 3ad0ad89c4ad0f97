"""The provisioned Grafana dashboard reads only metrics the services export, and every
query is valid PromQL (promtool parses it)."""

from __future__ import annotations

import json
import re

from deploy_tools import ROOT, explain, run, system_tool
from prometheus_client.parser import text_string_to_metric_families

from shared.observability.metrics import ServiceMetrics

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "fpb.json"


def queries() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel.get("targets", []) if target.get("expr")]


def exported_series_names() -> set[str]:
    metrics = ServiceMetrics("intake")
    # Touch each labelled metric once so that its samples (with suffixes) are exposed.
    metrics.messages_in.labels("intake", "t", "ok").inc()
    metrics.messages_out.labels("intake", "t", "false").inc()
    metrics.handling_seconds.labels("intake", "t").observe(0.01)
    metrics.consumer_lag.labels("intake", "c").set(1)
    metrics.relay_lag.labels("intake").set(1)
    metrics.dead_letters.labels("intake", "c", "r").inc()
    metrics.ready.labels("intake", "broker").set(1)
    metrics.http_requests.labels("intake", "5xx").inc()
    text = metrics.exposition().decode()
    return {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}


def test_the_dashboard_covers_throughput_latency_lag_dead_letters_and_errors():
    used = {name for query in queries() for name in re.findall(r"\b(fpb_\w+)", query)}
    assert {"fpb_messages_in_total", "fpb_handling_seconds_bucket", "fpb_consumer_lag_messages", "fpb_dead_letters_total"} <= used
    assert used <= exported_series_names(), f"unknown metrics: {used - exported_series_names()}"


def test_there_is_an_errors_row_with_failed_handling_and_http_5xx_per_service():
    panels = json.loads(DASHBOARD.read_text())["panels"]
    row = next(p for p in panels if p["type"] == "row" and p["title"] == "Errors")
    below = [p for p in panels if p["type"] != "row" and p["gridPos"]["y"] > row["gridPos"]["y"]]
    exprs = [t["expr"] for p in below for t in p.get("targets", [])]
    assert any("fpb_messages_in_total" in e and "retry|dead_letter" in e and "by (service, outcome)" in e for e in exprs)
    assert any("fpb_http_requests_total" in e and 'status="5xx"' in e and "by (service)" in e for e in exprs)


def test_every_dashboard_query_is_valid_promql(tmp_path):
    promtool = system_tool("promtool")
    # Grafana's $__rate_interval and $variables are not PromQL; substitute what Grafana would.
    exprs = [re.sub(r"\$(\w+)", r"\1", re.sub(r"\$__\w+", "1m", q)) for q in queries()]
    rules = tmp_path / "dashboard-queries.yml"
    rules.write_text(json.dumps({"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)]}]}))
    result = run([promtool, "check", "rules", str(rules)])
    assert result.returncode == 0, explain(result)
    assert len(exprs) > 0
