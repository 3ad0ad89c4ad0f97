"""The production NATS configurations parse with the nats-server the platform is tested
on, and docker-compose and Kubernetes run the same release line."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from deploy_tools import ROOT, explain, run

from shared.messaging.credentials import ensure_credentials, public_keys
from shared.messaging.nats_authorization import nkey_variable, render_authorization
from shared.messaging.nats_server import nats_server_binary

CONFIGS = ["deploy/nats/nats-1.conf", "deploy/nats/nats-2.conf", "deploy/nats/nats-3.conf", "deploy/k8s/nats.conf"]


def embedded_version() -> tuple[int, int, int]:
    result = run([nats_server_binary(), "--version"])
    found = re.search(r"v(\d+)\.(\d+)\.(\d+)", result.stdout + result.stderr)
    assert found, explain(result)
    return tuple(int(part) for part in found.groups())


def image_tags() -> dict[str, str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    statefulset = next(d for d in yaml.safe_load_all((ROOT / "deploy/k8s/nats.yaml").read_text()) if d and d["kind"] == "StatefulSet")
    [container] = [c for c in statefulset["spec"]["template"]["spec"]["containers"] if c["name"] == "nats"]
    tags = {f"compose {name}": service["image"] for name, service in compose["services"].items() if name.startswith("nats-")}
    tags["k8s statefulset/nats"] = container["image"]
    return tags


@pytest.fixture(scope="module")
def public_key_env(tmp_path_factory) -> dict[str, str]:
    """The public keys as a deployment passes them (`fpb credentials generate --env-file`)."""
    keys = public_keys(ensure_credentials(tmp_path_factory.mktemp("credentials")))
    return {nkey_variable(user): key for user, key in keys.items()}


K8S_TLS_DIR = "/etc/nats-tls/"  # where nats.yaml mounts the Secret fpb-nats-tls


def self_signed(directory: Path) -> None:
    """tls.crt, tls.key and ca.crt as the Secret fpb-nats-tls holds them (here one self-signed
    certificate is its own CA): nats-server -t loads the files it names."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "nats")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("nats"), x509.DNSName("nats-0.nats")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    (directory / "tls.crt").write_bytes(pem)
    (directory / "ca.crt").write_bytes(pem)
    (directory / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def as_mounted(config: str, directory: Path) -> str:
    """The configuration with its certificate paths pointing at `directory` (the k8s one
    names the Secret's mount path), next to a copy of the authorization.conf it includes."""
    source = ROOT / config
    if K8S_TLS_DIR not in source.read_text():
        return config
    self_signed(directory)
    (directory / "authorization.conf").write_text((source.parent / "authorization.conf").read_text())
    (directory / source.name).write_text(source.read_text().replace(K8S_TLS_DIR, f"{directory}/"))
    return str(directory / source.name)


@pytest.mark.parametrize("config", CONFIGS)
def test_the_nats_configuration_is_valid_for_the_tested_nats_server(config, public_key_env, tmp_path):
    # nats-server -t rejects unknown fields and bad values, not only syntax errors.
    result = run([nats_server_binary(), "-t", "-c", as_mounted(config, tmp_path)], env={"SERVER_NAME": "nats-0", **public_key_env})
    assert result.returncode == 0, explain(result)


def test_the_kubernetes_broker_requires_tls_of_clients_and_routes():
    conf = (ROOT / "deploy/k8s/nats.conf").read_text()
    top, _, cluster = conf.partition("cluster {")
    assert re.search(r"^tls \{", top, re.MULTILINE), "clients: no tls block"
    assert "tls {" in cluster and "verify: true" in cluster, "routes: no verified tls block"


@pytest.mark.parametrize("config", CONFIGS)
def test_every_nats_node_authenticates_with_the_permission_table(config, public_key_env, tmp_path):
    assert re.search(r'^include "authorization.conf"$', (ROOT / config).read_text(), re.MULTILINE), config
    authorization = (ROOT / config).parent / "authorization.conf"
    assert authorization.read_text() == render_authorization(None), f"{authorization} is stale: run `fpb contracts`"
    # Without the public keys in its environment the server refuses to start.
    missing = dict(public_key_env)
    missing.pop(nkey_variable("police"))
    result = run([nats_server_binary(), "-t", "-c", as_mounted(config, tmp_path)], env={"SERVER_NAME": "nats-0", **missing})
    assert result.returncode != 0, explain(result)


@pytest.mark.parametrize("config", CONFIGS)
def test_every_nats_node_fsyncs_before_acknowledging(config):
    assert re.search(r"^\s*sync_interval:\s*always\s*$", (ROOT / config).read_text(), re.MULTILINE), config


def test_compose_and_kubernetes_run_the_nats_release_line_the_tests_use():
    major, minor, _ = embedded_version()
    tags = image_tags()
    assert len(set(tags.values())) == 1, f"NATS images differ: {tags}"
    image = next(iter(tags.values()))
    assert re.fullmatch(rf"nats:{major}\.{minor}\.\d+-alpine", image), f"{image} is not in the {major}.{minor} line of the embedded nats-server"
