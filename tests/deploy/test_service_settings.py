"""Each service gets, in docker-compose.yml and in deploy/k8s, every setting `fpb up` gives
it (cli/platform.py), so what the end-to-end tests run is what is deployed: without the
key store verification's checks read personal data as missing, without FPB_PEER_URLS
reporting's audit view finds nothing, without the audit key no checkpoint is signed."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest
import yaml
from deploy_tools import ROOT
from kustomize_render import containers, render

from cli.platform import SERVICE_NAMES, Platform
from shared.messaging.credentials import ensure_credentials
from shared.privacy.keys import AUDIT_KEY_FILE

# Settings `fpb up` passes every service alike that a service deliberately does not get.
DELIBERATELY_ABSENT = {
    # Reporting keeps read models only: no event store to chain and sign, no personal data
    # to decrypt, so no key store, keys, audit key or checkpoints (least privilege).
    "reporting": {"FPB_KEYSTORE_URL", "FPB_KEY_DIR", "FPB_AUDIT_KEY_FILE", "FPB_CHECKPOINT_DIR"},
}
# Settings whose value is a file or directory, and whether the service writes there.
PATHS = {"FPB_KEY_DIR": False, "FPB_AUDIT_KEY_FILE": False, "FPB_ANONYMOUS_TIP_KEY_FILE": False, "FPB_CHECKPOINT_DIR": True,
         "FPB_NATS_NKEY_SEED_FILE": False}
# Settings whose value must be the same in every service of a deployment: the issuer and
# audience the resource servers check tokens against.
SHARED = ("FPB_OIDC_ISSUER", "FPB_OIDC_AUDIENCE")


@pytest.fixture(scope="module")
def fpb_up(tmp_path_factory) -> dict[str, dict[str, str]]:
    """The environment `fpb up` gives each service (nothing is started): as after its start,
    with a port per service and the NATS credentials of its broker's users."""
    data_dir = tmp_path_factory.mktemp("fpb-up")
    platform = Platform(data_dir, nats_url="nats://127.0.0.1:4222")
    platform.ports = {name: 8001 + index for index, name in enumerate(SERVICE_NAMES)}
    platform.credentials = ensure_credentials(data_dir / "credentials", SERVICE_NAMES)
    for name in SERVICE_NAMES:  # in order: reporting's peer URLs name the services before it
        platform.services[name] = platform._service(name)
    return {name: service.env for name, service in platform.services.items()}


def wanted(fpb_up, service: str) -> set[str]:
    return set(fpb_up[service]) - DELIBERATELY_ABSENT.get(service, set())


def compose_service(service: str) -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"][service]


def compose_mounts(service: str) -> dict[str, bool]:
    """mount path -> writable"""
    mounts = {}
    for volume in compose_service(service).get("volumes", []):
        _, path, *mode = volume.split(":")
        mounts[path] = mode != ["ro"]
    return mounts


K8S = render(ROOT / "deploy" / "k8s")


def k8s_container(service: str) -> tuple[dict, dict]:
    [deployment] = [o for o in K8S if o["kind"] == "Deployment" and o["metadata"]["name"] == service]
    [container] = [c for c in containers(deployment["spec"]["template"]["spec"]) if c["name"] == service]
    return deployment["spec"]["template"]["spec"], container


def k8s_env(service: str) -> dict[str, str | None]:
    """name -> literal value (None when it comes from a Secret)"""
    _, container = k8s_container(service)
    config_maps = {o["metadata"]["name"]: o["data"] for o in K8S if o["kind"] == "ConfigMap"}
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:  # a whole Secret (secretRef) would be listed by test_kubernetes
            env.update(config_maps[source["configMapRef"]["name"]])
    env.update({v["name"]: v.get("value") for v in container.get("env", [])})
    return env


def k8s_mounts(service: str) -> dict[str, bool]:
    _, container = k8s_container(service)
    return {m["mountPath"]: not m.get("readOnly", False) for m in container.get("volumeMounts", [])}


def mounted(path: str, mounts: dict[str, bool], write: bool) -> bool:
    return any(PurePosixPath(path).is_relative_to(m) and (writable or not write) for m, writable in mounts.items())


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_compose_gives_each_service_every_setting_fpb_up_gives_it(fpb_up, service):
    environment = compose_service(service)["environment"]
    assert wanted(fpb_up, service) <= set(environment), f"compose {service} lacks {wanted(fpb_up, service) - set(environment)}"
    for name, write in PATHS.items():
        if name in environment:
            assert mounted(environment[name], compose_mounts(service), write), f"compose {service}: {name} is not on a {'writable ' if write else ''}volume"


def test_fpb_up_gives_every_service_its_nats_seed_and_the_issuer(fpb_up):
    # Guards the two tests above: what they compare against has the new settings.
    for service, env in fpb_up.items():
        assert env["FPB_NATS_NKEY_SEED_FILE"].endswith(f"/{service}.nk"), service
        assert set(SHARED) <= set(env), service


@pytest.mark.parametrize("settings", [lambda s: compose_service(s)["environment"], k8s_env], ids=["compose", "k8s"])
def test_every_service_checks_tokens_of_one_issuer_and_reads_its_own_seed(settings):
    envs = {service: settings(service) for service in SERVICE_NAMES}
    for name in SHARED:
        assert len({env[name] for env in envs.values()}) == 1, f"{name} differs: {[env[name] for env in envs.values()]}"
    assert next(iter(envs.values()))["FPB_OIDC_ISSUER"], "no issuer"
    for service, env in envs.items():
        assert PurePosixPath(env["FPB_NATS_NKEY_SEED_FILE"]).name == f"{service}.nk", service


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_kubernetes_gives_each_service_every_setting_fpb_up_gives_it(fpb_up, service):
    env = k8s_env(service)
    assert wanted(fpb_up, service) <= set(env), f"k8s {service} lacks {wanted(fpb_up, service) - set(env)}"
    for name, write in PATHS.items():
        if name in env:
            assert mounted(env[name], k8s_mounts(service), write), f"k8s {service}: {name} is not on a {'writable ' if write else ''}volume"


def test_the_deliberate_exclusions_are_settings_fpb_up_really_gives(fpb_up):
    # Guards the list above: an exclusion that no longer matches anything hides nothing.
    for service, names in DELIBERATELY_ABSENT.items():
        assert names <= set(fpb_up[service])


# Kubernetes serves HTTPS (FPB_HTTP_TLS_*, deploy/k8s/README.md, TLS); compose plain HTTP.
@pytest.mark.parametrize(("env", "scheme"), [(lambda: compose_service("reporting")["environment"], "http"), (lambda: k8s_env("reporting"), "https")], ids=["compose", "k8s"])
def test_reporting_reaches_each_event_sourced_service_by_its_own_name(env, scheme):
    peers = json.loads(env()["FPB_PEER_URLS"])
    assert peers == {name: f"{scheme}://{name}:8000" for name in ("intake", "verification", "enforcement")}


def test_the_audit_key_is_in_the_keys_secret_and_made_by_keygen():
    pod, _ = k8s_container("verification")
    [keys] = [v for v in pod["volumes"] if v["name"] == "keys"]
    assert {item["key"] for item in keys["secret"]["items"]} == {"master.key", "matching.key", "audit_signing.key"}
    # keygen calls ensure_key_files, which makes the audit key too.
    assert AUDIT_KEY_FILE == PurePosixPath(k8s_env("verification")["FPB_AUDIT_KEY_FILE"]).name
    assert "ensure_key_files" in "".join(compose_service("keygen")["command"])


def test_enforcement_alone_gets_a_shared_key_for_anonymous_tips():
    # Without it each enforcement process hashes anonymous tips under a key of its own
    # (services/enforcement/adapters/tip_key.py): the read-only key mount cannot hold a new one.
    from services.enforcement.adapters.tip_key import ANONYMOUS_TIP_KEY_FILE

    def secret_keys(service: str) -> set[str]:
        pod, _ = k8s_container(service)
        return {item["key"] for v in pod["volumes"] if v["name"] == "keys" for item in v["secret"]["items"]}

    assert ANONYMOUS_TIP_KEY_FILE in secret_keys("enforcement")
    assert ANONYMOUS_TIP_KEY_FILE not in secret_keys("intake") | secret_keys("verification")
    assert PurePosixPath(k8s_env("enforcement")["FPB_ANONYMOUS_TIP_KEY_FILE"]).name == ANONYMOUS_TIP_KEY_FILE
    assert ANONYMOUS_TIP_KEY_FILE in "".join(compose_service("keygen")["command"])


def key_file_directory(settings: dict[str, str]) -> PurePosixPath:
    return PurePosixPath(settings["FPB_ANONYMOUS_TIP_KEY_FILE"]).parent


def test_under_fpb_up_the_anonymous_tip_key_is_in_a_directory_no_other_service_is_given(fpb_up):
    # Intake knows every submission id: with the key it could find an anonymous tip's case.
    own = key_file_directory(fpb_up["enforcement"])
    assert own != PurePosixPath(fpb_up["enforcement"]["FPB_KEY_DIR"])
    for service in ("intake", "verification", "reporting"):
        for value in fpb_up[service].values():
            assert not PurePosixPath(value).is_relative_to(own), f"{service} is given {value}"


def test_in_compose_the_anonymous_tip_key_is_on_a_volume_mounted_into_enforcement_alone():
    own = key_file_directory(compose_service("enforcement")["environment"])
    [volume] = [v.split(":")[0] for v in compose_service("enforcement")["volumes"] if PurePosixPath(v.split(":")[1]) == own]
    assert volume != "keys", "intake and verification mount the keys volume"
    for service in ("intake", "verification", "reporting"):
        assert volume not in compose_volumes(service), f"{service} mounts {volume}"
    assert volume in compose_volumes("keygen"), "keygen makes the key there"


def compose_volumes(service: str) -> set[str]:
    return {v.split(":")[0] for v in compose_service(service).get("volumes", [])}
