"""The Prometheus configuration and alert rules: promtool accepts them, their unit tests
pass, and there is an alert for everything an operator must know (issue 8)."""

from __future__ import annotations

import re

import pytest
import yaml
from deploy_tools import ROOT, explain, run, system_tool

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
ALERTS = PROMETHEUS_DIR / "alerts.yml"
SERVICES = ("intake", "verification", "enforcement", "reporting")

# What an operator must know, and the metric each alert must read.
REQUIRED_ALERTS = {
    "FpbServiceDown": "up",
    "FpbServiceAbsent": "up",  # a service with no target at all: no `up` series to be 0
    "FpbDependencyUnreachable": "fpb_ready",
    "FpbConsumerLagGrowing": "fpb_consumer_lag_messages",
    "FpbDeadLettersArriving": "fpb_dead_letters_total",
    "FpbRelayLag": "fpb_relay_lag_events",
    "FpbDeadlineBreached": "fpb_deadline_breaches_total",
    "FpbAuditVerificationFailed": "fpb_audit_verification_failures_total",
}


def rules() -> dict[str, dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


@pytest.fixture(scope="module")
def promtool() -> str:
    return system_tool("promtool")


def test_promtool_accepts_the_alert_rules(promtool):
    result = run([promtool, "check", "rules", str(ALERTS)])
    assert result.returncode == 0, explain(result)
    assert f"SUCCESS: {len(rules())} rules found" in result.stdout


def test_promtool_accepts_the_compose_prometheus_configuration_and_its_rule_files(promtool):
    result = run([promtool, "check", "config", str(PROMETHEUS_DIR / "prometheus.yml")])
    assert result.returncode == 0, explain(result)
    assert "1 rule files found" in result.stdout, "prometheus.yml must load alerts.yml"


def test_every_alert_behaves_as_its_unit_tests_say(promtool):
    result = run([promtool, "test", "rules", str(PROMETHEUS_DIR / "alerts_test.yml")])
    assert result.returncode == 0, explain(result)


def test_promtool_accepts_the_rules_of_the_kubernetes_prometheus_rule(promtool, tmp_path):
    manifests = yaml.safe_load_all((ROOT / "deploy" / "k8s" / "monitoring.yaml").read_text())
    [rule] = [doc for doc in manifests if doc and doc["kind"] == "PrometheusRule"]
    extracted = tmp_path / "prometheus-rule.yml"
    extracted.write_text(yaml.safe_dump(rule["spec"]))
    result = run([promtool, "check", "rules", str(extracted)])
    assert result.returncode == 0, explain(result)


@pytest.mark.parametrize("alert", sorted(REQUIRED_ALERTS))
def test_there_is_an_alert_for_what_an_operator_must_know(alert):
    rule = rules().get(alert)
    assert rule is not None, f"alerts.yml has no {alert}"
    assert re.search(rf"\b{REQUIRED_ALERTS[alert]}\b", rule["expr"]), f"{alert} does not read {REQUIRED_ALERTS[alert]}"
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_every_alert_has_a_unit_test_and_a_runbook_entry():
    tested = (PROMETHEUS_DIR / "alerts_test.yml").read_text()
    readme = (ROOT / "README.md").read_text()
    operations = readme.split("## Operations", 1)[1].split("\n## ", 1)[0] if "## Operations" in readme else ""
    for alert in rules():
        assert f"alertname: {alert}" in tested, f"{alert} has no test in alerts_test.yml"
        assert f"`{alert}`" in operations, f"{alert} has no runbook entry in the README's Operations section"


def test_the_compose_prometheus_scrapes_each_service_as_its_own_job():
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(SERVICES)
    for name, job in jobs.items():
        [static] = job["static_configs"]
        assert static["targets"] == [f"{name}:8000"]
        assert static["labels"] == {"platform": "fpb"}


def test_every_service_is_watched_for_having_no_target_at_all():
    expr = rules()["FpbServiceAbsent"]["expr"]
    for service in SERVICES:
        assert f'absent(up{{platform="fpb", job="{service}"}})' in expr, f"FpbServiceAbsent does not watch {service}"


def series_names_services_export() -> set[str]:
    """Every series name a service's metrics produce (counters with _total, histograms
    with _bucket/_sum/_count), labelled or not, from the ServiceMetrics the services use."""
    from shared.observability.metrics import ServiceMetrics

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}
    names = set()
    for family in ServiceMetrics("intake").registry.collect():
        names.update(f"{family.name}{suffix}" for suffix in suffixes.get(family.type, ("",)))
    return names


def test_every_metric_an_alert_reads_is_one_the_services_export():
    exported = series_names_services_export()
    for alert, rule in rules().items():
        read = set(re.findall(r"\bfpb_[a-z_]+\b", rule["expr"]))
        assert read <= exported, f"{alert} reads {sorted(read - exported)}, which no service exports (renamed?)"
