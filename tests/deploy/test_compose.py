"""docker-compose.yml is a valid Compose file, with the shape issue 8 asks for."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml
from deploy_tools import ROOT, explain, missing_tool, run

COMPOSE_FILE = ROOT / "docker-compose.yml"
# Defaults only: the check must not depend on the developer's environment or an .env file.
CLEAN_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp"}


def compose_commands() -> list[list[str]]:
    """Debian's docker-compose (v1), and `docker compose` (v2) where its plugin exists."""
    commands = []
    if shutil.which("docker-compose"):
        commands.append(["docker-compose"])
    if shutil.which("docker"):
        try:
            if subprocess.run(["docker", "compose", "version"], check=False, capture_output=True, timeout=30).returncode == 0:
                commands.append(["docker", "compose"])
        except subprocess.TimeoutExpired:
            pass
    return commands


@pytest.fixture(scope="module")
def compose() -> list[list[str]]:
    commands = compose_commands()
    if not commands:
        missing_tool("docker-compose")
    return commands


@pytest.fixture(scope="module")
def rendered(compose) -> dict:
    result = run([*compose[0], "-f", str(COMPOSE_FILE), "config"], env=CLEAN_ENV)
    assert result.returncode == 0, explain(result)
    return yaml.safe_load(result.stdout)


def test_every_available_compose_accepts_the_file(compose):
    for command in compose:
        result = run([*command, "-f", str(COMPOSE_FILE), "config", "--quiet"], env=CLEAN_ENV)
        assert result.returncode == 0, explain(result)


def test_the_file_runs_the_whole_platform(rendered):
    assert set(rendered["services"]) == {
        "nats-1", "nats-2", "nats-3", "postgres", "keygen", "provision",
        "intake", "verification", "enforcement", "reporting", "prometheus", "grafana",
    }


def test_services_start_only_after_provisioning_and_their_database(rendered):
    for name in ("intake", "verification", "enforcement", "reporting"):
        depends = rendered["services"][name]["depends_on"]
        assert depends["provision"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name
    for node in ("nats-1", "nats-2", "nats-3"):
        assert rendered["services"]["provision"]["depends_on"][node]["condition"] == "service_healthy"


def test_provisioning_makes_streams_with_three_replicas(rendered):
    command = rendered["services"]["provision"]["command"]
    assert command[:2] == ["fpb", "provision"]
    assert command[command.index("--replicas") + 1] == "3"


def test_the_nats_nodes_fsync_before_acknowledging():
    for node in ("nats-1", "nats-2", "nats-3"):
        conf = (ROOT / "deploy" / "nats" / f"{node}.conf").read_text()
        assert "sync_interval: always" in conf, node


def test_only_loopback_ports_are_published(rendered):
    for name, service in rendered["services"].items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond the loopback interface"
