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
        "nats-1", "nats-2", "nats-3", "postgres", "credentials", "keygen", "provision", "identity",
        "intake", "verification", "enforcement", "reporting", "prometheus", "grafana",
    }


def test_the_nats_nodes_get_the_public_keys_and_the_permission_table(rendered):
    credentials = " ".join(rendered["services"]["credentials"]["command"])
    assert "fpb credentials generate /credentials --env-file /nats-keys/nkeys.env" in credentials
    for node in ("nats-1", "nats-2", "nats-3"):
        service = rendered["services"][node]
        assert service["depends_on"]["credentials"]["condition"] == "service_completed_successfully", node
        assert ". /etc/nats/keys/nkeys.env" in " ".join(service["command"]), node
        targets = {v["target"]: v["source"] for v in volumes(service)}
        assert targets["/etc/nats/keys"] == "nats-nkeys", node
        assert targets["/etc/nats/authorization.conf"].endswith("deploy/nats/authorization.conf"), node


def volumes(service: dict) -> list[dict]:
    """A service's mounts as {source, target, read_only}: v1's `config` prints them short
    (source:target[:ro]), v2 long."""
    result = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            source, target, *mode = volume.split(":")
            volume = {"source": source, "target": target, "read_only": mode == ["ro"]}
        result.append({"source": volume["source"], "target": volume["target"], "read_only": bool(volume.get("read_only"))})
    return result


SEED_USERS = {"intake": "intake", "verification": "verification", "enforcement": "enforcement", "reporting": "reporting", "provision": "provisioner"}


def test_each_broker_client_mounts_a_volume_with_only_its_own_seed(rendered):
    command = " ".join(rendered["services"]["credentials"]["command"])
    for service, user in SEED_USERS.items():
        spec = rendered["services"][service]
        seed = spec["environment"]["FPB_NATS_NKEY_SEED_FILE"]
        assert seed == f"/run/fpb/nats/{user}.nk", service
        [volume] = [v for v in volumes(spec) if v["target"] == "/run/fpb/nats"]
        assert volume["source"] == f"nats-seed-{user}" and volume["read_only"], service
        # No other broker client mounts that volume, and the credentials step copies the seed there.
        assert not [s for s, other in rendered["services"].items() if s not in (service, "credentials")
                    and any(v["source"] == volume["source"] for v in volumes(other))], volume["source"]
        assert f"/seeds/{user}" in {v["target"] for v in volumes(rendered["services"]["credentials"])}
        assert f'"{user}"' in command, user


def test_services_accept_tokens_of_the_configured_issuer(rendered):
    issuer = rendered["services"]["identity"]["environment"]["FPB_OIDC_ISSUER"]
    for name in ("intake", "verification", "enforcement", "reporting"):
        environment = rendered["services"][name]["environment"]
        assert environment["FPB_OIDC_ISSUER"] == issuer, name
        assert environment["FPB_OIDC_AUDIENCE"] == rendered["services"]["identity"]["environment"]["FPB_OIDC_AUDIENCE"], name
    # One URL inside and outside: the provider listens on the port it publishes.
    port = issuer.rsplit(":", 1)[1]
    assert rendered["services"]["identity"]["environment"]["FPB_HTTP_PORT"] == port


def test_prometheus_scrapes_with_a_client_credentials_token_of_the_provider(rendered):
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    issuer = rendered["services"]["identity"]["environment"]["FPB_OIDC_ISSUER"]
    mounts = {v["target"]: v["source"] for v in volumes(rendered["services"]["prometheus"])}
    for job in config["scrape_configs"]:
        oauth2 = job["oauth2"]
        assert oauth2["client_id"] == "prometheus" and oauth2["token_url"] == f"{issuer}/token", job["job_name"]
        directory, _, name = oauth2["client_secret_file"].rpartition("/")
        assert name == "prometheus.secret" and mounts[directory] == "prometheus-client", job["job_name"]
    assert {v["target"]: v["source"] for v in volumes(rendered["services"]["identity"])}[
        rendered["services"]["identity"]["environment"]["FPB_IDENTITY_SECRETS_DIR"]] == "prometheus-client"


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
