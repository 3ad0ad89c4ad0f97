"""A real Prometheus (the Debian `prometheus` binary) against the running platform: every
service's target is up, every fpb_* metric a service exports is scraped, the alert rules
load and evaluate, and a stopped service shows as down with FpbServiceDown pending.

The platform is started as `fpb up` starts it (cli.platform.Platform: its own
nats-server, its OpenID provider, SQLite stores, four processes); Prometheus listens on a
free port with a generated configuration, scraping every second. /metrics needs the role
`operations`: Prometheus logs in as the `prometheus` client (client credentials, its secret
in DATA_DIR/prometheus.secret), as deploy/prometheus/prometheus.yml does in compose.
Nothing is shared with the machine.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from deploy_tools import ROOT, explain, run, system_tool

from cli.platform import SERVICE_NAMES, Platform
from shared.messaging.nats_server import free_port
from shared.processes import die_with_parent

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
SAMPLES = ["police.birth.registered.v1.json", "hotline.tip.received.v1.json", "township.application.submitted.v1.json"]


def oauth2_block(platform: Platform) -> dict[str, str]:
    """The scrape config's oauth2 block for this platform (deploy/prometheus/prometheus.yml's shape)."""
    return {"client_id": "prometheus", "client_secret_file": str(platform.data_dir / "prometheus.secret"),
            "token_url": f"{platform.oidc_issuer}/token"}


def operations_token(platform: Platform) -> str:
    """What Prometheus gets: a client-credentials access token of the `prometheus` client."""
    secret = (platform.data_dir / "prometheus.secret").read_text().strip()
    answer = httpx.post(f"{platform.oidc_issuer}/token", data={"grant_type": "client_credentials"}, auth=("prometheus", secret), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def eventually(check: Callable[[], Any], timeout: float = 45.0, every: float = 0.5) -> Any:
    """The first truthy result of check(); on timeout, fails with the last result."""
    deadline = time.monotonic() + timeout
    result = None
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    pytest.fail(f"not true after {timeout}s; last result: {result!r}", pytrace=False)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    system_tool("prometheus")  # skip or fail before starting anything
    platform = Platform(tmp_path_factory.mktemp("platform"))
    platform.start()
    try:
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="module")
def prometheus(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = system_tool("prometheus")
    workdir = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": name, "oauth2": oauth2_block(platform),
             "static_configs": [{"targets": [f"127.0.0.1:{service.port}"], "labels": {"platform": "fpb"}}]}
            for name, service in platform.services.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = open(workdir / "prometheus.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [binary, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_parent,  # noqa: PLW1509 - as cli.platform does
    )
    url = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"prometheus exited with {process.returncode}: {(workdir / 'prometheus.log').read_text()}", pytrace=False)
            try:
                return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        eventually(ready, timeout=30)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def api(url: str, path: str, **params: str) -> Any:
    answer = httpx.get(f"{url}/api/v1/{path}", params=params, timeout=5).json()
    assert answer["status"] == "success", answer
    return answer["data"]


def query(url: str, promql: str) -> list[dict]:
    return api(url, "query", query=promql)["result"]


def exported_fpb_series_names(service_url: str, token: str) -> set[str]:
    """The fpb_* sample names in one service's own /metrics, read directly (with Prometheus' token)."""
    answer = httpx.get(f"{service_url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert answer.status_code == 200, answer.text
    text = answer.text
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    return {name for name in names if name.startswith("fpb_")}


def test_the_shipped_prometheus_config_logs_in_the_same_way(platform):
    shipped = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    for job in shipped["scrape_configs"]:
        assert set(job["oauth2"]) == set(oauth2_block(platform)), job["job_name"]
        assert job["oauth2"]["client_id"] == "prometheus" and job["oauth2"]["token_url"].endswith("/token"), job["job_name"]


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_a_scrape_without_a_valid_token_is_refused(platform, name):
    url = f"{platform.services[name].url}/metrics"
    assert httpx.get(url, timeout=5).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=5).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"Bearer {operations_token(platform)}"}, timeout=5).status_code == 200
    # /healthz and /readyz stay open (the orchestrators' probes carry no token).
    assert httpx.get(f"{platform.services[name].url}/healthz", timeout=5).status_code == 200


def test_prometheus_sees_every_service_target_up(prometheus):
    def all_up() -> dict[str, str] | None:
        targets = api(prometheus, "targets")["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        return health if health == {name: "up" for name in SERVICE_NAMES} else None

    eventually(all_up)
    assert {r["metric"]["job"]: r["value"][1] for r in query(prometheus, 'up{platform="fpb"}')} == {name: "1" for name in SERVICE_NAMES}


def test_every_service_reports_its_readiness_checks_passing(prometheus):
    # What FpbDependencyUnreachable reads: each /readyz check, per service, at every scrape.
    # (the services that read personal data also check their key store)
    wanted = {(service, check) for service in SERVICE_NAMES for check in ("broker", "store", "consumers")}
    wanted |= {(service, "key_store") for service in ("intake", "verification", "enforcement")}
    last: dict = {}

    def passing() -> bool:
        last.clear()
        last.update({(r["metric"]["service"], r["metric"]["check"]): r["value"][1] for r in query(prometheus, 'fpb_ready{platform="fpb"}')})
        return set(last) >= wanted and set(last.values()) == {"1"}

    eventually(passing)


def test_every_fpb_metric_each_service_exports_is_scraped(platform, prometheus):
    for sample in SAMPLES:
        result = run([str(Path(sys.executable).with_name("fpb")), "publish", "--data-dir", str(platform.data_dir), str(ROOT / "tests" / "samples" / "inbound" / sample)], timeout=60)
        assert result.returncode == 0, explain(result)
    # Let the messages flow through every service, so that its labelled counters exist.
    token = operations_token(platform)
    eventually(lambda: all("fpb_messages_in_total" in exported_fpb_series_names(s.url, token) for s in platform.services.values()))

    for name, service in platform.services.items():
        exported = exported_fpb_series_names(service.url, token)
        assert "fpb_consumer_lag_messages" in exported, f"{name} exports {sorted(exported)}"

        def scraped(name: str = name, exported: set[str] = exported) -> set[str] | None:
            series = query(prometheus, f'group by (__name__, service) ({{job="{name}", __name__=~"fpb_.+"}})')
            names = {s["metric"]["__name__"] for s in series}
            assert {s["metric"].get("service") for s in series} <= {name}, f"{name}'s series carry another service label"
            return names if exported <= names else None

        eventually(scraped)


def test_the_alert_rules_load_and_evaluate_without_errors(prometheus):
    expected = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]}

    def evaluated() -> dict[str, str] | None:
        rules = {rule["name"]: rule["health"] for group in api(prometheus, "rules")["groups"] for rule in group["rules"]}
        return rules if set(rules) == expected and all(h == "ok" for h in rules.values()) else None

    eventually(evaluated)


def test_a_stopped_service_is_down_and_its_alert_pending(platform, prometheus):
    platform.services["reporting"].stop()

    def reporting_down() -> bool:
        return any(r["metric"]["job"] == "reporting" and r["value"][1] == "0" for r in query(prometheus, 'up{platform="fpb"}'))

    def alert_pending() -> bool:
        alerts = api(prometheus, "alerts")["alerts"]
        return any(a["labels"]["alertname"] == "FpbServiceDown" and a["labels"]["job"] == "reporting" and a["state"] == "pending" for a in alerts)

    eventually(reporting_down)
    eventually(alert_pending)
    still_up = {r["metric"]["job"] for r in query(prometheus, 'up{platform="fpb"} == 1')}
    assert still_up == set(SERVICE_NAMES) - {"reporting"}
