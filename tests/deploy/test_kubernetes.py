"""deploy/k8s renders to manifests that validate against the Kubernetes 1.30 schemas
(strict: no unknown fields), and hang together: every reference resolves, every
service has its probes, limits, disruption budget and autoscaler."""

from __future__ import annotations

import re

import jsonschema
import kubernetes_validate
import pytest
import yaml
from deploy_tools import ROOT
from kustomize_render import containers, render

K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
SERVICES = ("intake", "verification", "enforcement", "reporting")
OPERATOR_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor"), ("monitoring.coreos.com/v1", "PrometheusRule")}
# The Secrets the operator creates before the first apply (deploy/k8s/README.md).
SECRETS = {"fpb-database", "fpb-keys", "fpb-nats-nkeys", "fpb-nats-credentials", "fpb-nats-tls", "fpb-http-tls", "fpb-prometheus-client"}
# Taken whole into a container's environment (envFrom secretRef): only the NATS public keys,
# into the NATS pods alone. Anything else comes key by key, so a pod sees what it names.
ENV_FROM_SECRETS = {"nats": {"fpb-nats-nkeys"}}
# Manifests applied on their own, not by the kustomization (README.md).
OPTIONAL = {"identity.yaml"}

RENDERED = render(K8S)
# The optional manifests as `kubectl -n fpb apply -f` makes them.
OPTIONAL_OBJECTS = [{**doc, "metadata": {**doc["metadata"], "namespace": "fpb"}} for name in sorted(OPTIONAL)
                    for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


def ident(obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def objects(kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in RENDERED if obj["kind"] == kind}


def pod_spec(obj) -> dict:
    return obj["spec"]["template"]["spec"]


BUILT_IN = [obj for obj in RENDERED + OPTIONAL_OBJECTS if (obj["apiVersion"], obj["kind"]) not in OPERATOR_KINDS]


@pytest.mark.parametrize("obj", BUILT_IN, ids=ident)
def test_the_rendered_object_validates_against_the_kubernetes_1_30_schema_strictly(obj):
    kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_an_unknown_field():
    # Guards the test above: strict validation must notice a misspelt field.
    broken = yaml.safe_load(yaml.safe_dump(objects("Deployment")["intake"]))
    broken["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_every_manifest_in_the_directory_is_part_of_the_kustomization():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert present == listed | OPTIONAL
    assert not listed & OPTIONAL


def test_everything_lands_in_the_fpb_namespace():
    assert objects("Namespace").keys() == {"fpb"}
    for obj in RENDERED:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "fpb", ident(obj)


def test_every_referenced_config_map_exists_and_every_secret_is_a_documented_one():
    config_maps = set(objects("ConfigMap"))
    readme = (K8S / "README.md").read_text()
    for obj in RENDERED + OPTIONAL_OBJECTS:
        if "template" not in obj.get("spec", {}):
            continue
        pod = pod_spec(obj)
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, ident(obj)
            if "secret" in volume:
                assert volume["secret"]["secretName"] in SECRETS, ident(obj)
                for item in volume["secret"].get("items", []):
                    assert f"`{item['key']}`" in readme, f"{ident(obj)}: secret key {item['key']} is not documented"
        for container in containers(pod):
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in ENV_FROM_SECRETS.get(obj["metadata"]["name"], set()), f"{ident(obj)} takes a whole Secret"
                    assert f"`{source['secretRef']['name']}`" in readme, ident(obj)
                else:
                    assert source["configMapRef"]["name"] in config_maps, ident(obj)
            for variable in container.get("env", []):
                secret = variable.get("valueFrom", {}).get("secretKeyRef")
                if secret:
                    assert secret["name"] in SECRETS, ident(obj)
                    assert f"`{secret['key']}`" in readme, f"{ident(obj)}: secret key {secret['key']} is not documented"


def test_every_container_runs_the_pinned_images_with_requests_and_limits():
    for obj in RENDERED + OPTIONAL_OBJECTS:
        if "template" not in obj.get("spec", {}):
            continue
        for container in containers(pod_spec(obj)):
            where = f"{ident(obj)} container {container['name']}"
            assert re.search(r":[\w.-]+$", container["image"]) and not container["image"].endswith(":latest"), where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            # A memory limit everywhere; NATS alone has no CPU limit, on purpose (nats.yaml).
            assert "memory" in container["resources"]["limits"], where
            if container["name"] != "nats":
                assert "cpu" in container["resources"]["limits"], where
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, where


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_has_probes_a_service_a_disruption_budget_and_an_autoscaler(service):
    deployment = objects("Deployment")[service]
    [container] = [c for c in pod_spec(deployment)["containers"] if c["name"] == service]
    assert container["command"] == ["python", "-m", f"services.{service}"]
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8000}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http", "scheme": "HTTPS"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http", "scheme": "HTTPS"}
    assert pod_spec(deployment)["securityContext"]["runAsNonRoot"] is True

    labels = deployment["spec"]["template"]["metadata"]["labels"]

    def selected(selector: dict[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in selector.items())

    assert selected(objects("Service")[service]["spec"]["selector"])
    assert [p["name"] for p in objects("Service")[service]["spec"]["ports"]] == ["http"]
    assert selected(objects("PodDisruptionBudget")[service]["spec"]["selector"]["matchLabels"])
    autoscaler = objects("HorizontalPodAutoscaler")[service]["spec"]
    assert autoscaler["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert 1 <= autoscaler["minReplicas"] <= deployment["spec"]["replicas"] <= autoscaler["maxReplicas"]


def config_map_data(name: str) -> dict[str, str]:
    [data] = [o["data"] for o in RENDERED if o["kind"] == "ConfigMap" and o["metadata"]["name"].rsplit("-", 1)[0] == name]
    return data


def env_of(container: dict) -> dict[str, str | None]:
    """name -> literal value (None from a Secret), the fpb-common ConfigMap included."""
    env: dict[str, str | None] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_map_data(source["configMapRef"]["name"].rsplit("-", 1)[0]))
    env.update({v["name"]: v.get("value") for v in container.get("env", [])})
    return env


def mounted_secret_items(pod: dict, container: dict, path: str) -> tuple[str, set[str]]:
    """(Secret, its keys) mounted where `path` lies."""
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    for volume in pod["volumes"]:
        if "secret" in volume and volume["name"] in mounts and path.startswith(mounts[volume["name"]].rstrip("/") + "/"):
            return volume["secret"]["secretName"], {item["key"] for item in volume["secret"].get("items", [])}
    raise AssertionError(f"{path} is on no mounted Secret")


def nats_clients():
    """(object, pod, container, NATS user) of every container that connects to the broker."""
    for service in SERVICES:
        pod = pod_spec(objects("Deployment")[service])
        for container in containers(pod):
            yield objects("Deployment")[service], pod, container, service
    pod = pod_spec(objects("Job")["fpb-provision"])
    yield objects("Job")["fpb-provision"], pod, pod["containers"][0], "provisioner"


@pytest.mark.parametrize("client", list(nats_clients()), ids=lambda c: f"{ident(c[0])}/{c[2]['name']}")
def test_every_broker_client_mounts_only_its_own_nkey_seed(client):
    obj, pod, container, user = client
    env = env_of(container)
    seed = env.get("FPB_NATS_NKEY_SEED_FILE")
    assert seed and seed.endswith(f"/{user}.nk"), f"{ident(obj)} {container['name']}: FPB_NATS_NKEY_SEED_FILE={seed}"
    assert mounted_secret_items(pod, container, seed) == ("fpb-nats-credentials", {f"{user}.nk"})
    # Over TLS, checking the broker's certificate against the mounted CA bundle.
    assert all(url.startswith("tls://") for url in env["FPB_NATS_URL"].split(",")), env["FPB_NATS_URL"]
    assert mounted_secret_items(pod, container, env["SSL_CERT_FILE"])[0] == "fpb-http-tls"


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_checks_tokens_of_the_configured_issuer_and_serves_https(service):
    pod = pod_spec(objects("Deployment")[service])
    [container] = [c for c in pod["containers"] if c["name"] == service]
    env = env_of(container)
    assert env.get("FPB_OIDC_ISSUER", "").startswith("https://"), env.get("FPB_OIDC_ISSUER")
    assert env.get("FPB_OIDC_AUDIENCE") == "fpb-platform"
    for name in ("FPB_HTTP_TLS_CERT_FILE", "FPB_HTTP_TLS_KEY_FILE"):
        assert mounted_secret_items(pod, container, env[name])[0] == "fpb-http-tls", name


def test_the_optional_identity_provider_issues_what_the_services_would_accept():
    [deployment] = [o for o in OPTIONAL_OBJECTS if o["kind"] == "Deployment"]
    [container] = pod_spec(deployment)["containers"]
    env = env_of(container)
    assert container["command"] == ["python", "-m", "services.identity"]
    assert env["FPB_OIDC_AUDIENCE"] == config_map_data("fpb-common")["FPB_OIDC_AUDIENCE"]
    assert env["FPB_OIDC_ISSUER"].startswith("https://")
    # Prometheus and the provider share the client secret through one Secret.
    assert mounted_secret_items(pod_spec(deployment), container, env["FPB_IDENTITY_SECRETS_DIR"] + "/prometheus.secret") == ("fpb-prometheus-client", {"prometheus.secret"})


def test_nats_runs_three_nodes_with_its_configuration_and_a_disruption_budget():
    statefulset = objects("StatefulSet")["nats"]
    assert statefulset["spec"]["replicas"] == 3
    budget = objects("PodDisruptionBudget")["nats"]["spec"]
    assert budget.get("maxUnavailable") == 1 or budget.get("minAvailable") == 2, "a voluntary disruption must keep the quorum"
    nats_config = next(v["configMap"]["name"] for v in pod_spec(statefulset)["volumes"] if "configMap" in v)
    assert "sync_interval: always" in objects("ConfigMap")[nats_config]["data"]["nats.conf"]
    # The permission table the config includes is in the same ConfigMap, the public keys it
    # reads come from the fpb-nats-nkeys Secret, and clients and routes need TLS.
    data = objects("ConfigMap")[nats_config]["data"]
    assert 'include "authorization.conf"' in data["nats.conf"] and "authorization.conf" in data
    [container] = pod_spec(statefulset)["containers"]
    assert {"secretRef": {"name": "fpb-nats-nkeys"}} in container["envFrom"]
    assert data["nats.conf"].count("tls {") == 2
    assert mounted_secret_items(pod_spec(statefulset), container, "/etc/nats-tls/tls.crt") == ("fpb-nats-tls", {"tls.crt", "tls.key", "ca.crt"})


def test_the_provisioning_job_creates_three_replica_streams():
    [container] = pod_spec(objects("Job")["fpb-provision"])["containers"]
    command = container["command"] + container.get("args", [])
    assert command[:2] == ["fpb", "provision"]
    assert command[command.index("--replicas") + 1] == "3"


# --- Prometheus Operator objects: no Kubernetes schema, so checked against the fields of
# the operator's CRDs (monitoring.coreos.com/v1) that they may use, and for meaning.

RELABEL = {
    "type": "object", "additionalProperties": False,
    "properties": {k: {} for k in ("sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action")},
}
SECRET_KEY = {"type": "object", "additionalProperties": False, "required": ["name", "key"], "properties": {"name": {"type": "string"}, "key": {"type": "string"}, "optional": {"type": "boolean"}}}
SERVICE_MONITOR = {
    "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "ServiceMonitor"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {
            "type": "object", "additionalProperties": False, "required": ["selector", "endpoints"],
            "properties": {
                "jobLabel": {"type": "string"}, "targetLabels": {"type": "array"}, "podTargetLabels": {"type": "array"},
                "namespaceSelector": {"type": "object"}, "sampleLimit": {"type": "integer"},
                "selector": {"type": "object", "additionalProperties": False, "properties": {"matchLabels": {"type": "object"}, "matchExpressions": {"type": "array"}}},
                "endpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False,
                    "properties": {
                        "port": {"type": "string"}, "targetPort": {}, "path": {"type": "string"}, "scheme": {"enum": ["http", "https"]},
                        "interval": {"type": "string", "pattern": r"^(\d+(ms|s|m|h))+$"}, "scrapeTimeout": {"type": "string"},
                        "honorLabels": {"type": "boolean"}, "relabelings": {"type": "array", "items": RELABEL},
                        "metricRelabelings": {"type": "array", "items": RELABEL},
                        "tlsConfig": {"type": "object", "additionalProperties": False, "properties": {k: {} for k in (
                            "ca", "cert", "keySecret", "serverName", "insecureSkipVerify", "minVersion", "maxVersion")}},
                        "oauth2": {"type": "object", "additionalProperties": False, "required": ["clientId", "clientSecret", "tokenUrl"], "properties": {
                            "clientId": {"type": "object", "additionalProperties": False, "properties": {"secret": SECRET_KEY, "configMap": SECRET_KEY}},
                            "clientSecret": SECRET_KEY, "tokenUrl": {"type": "string", "minLength": 1},
                            "scopes": {"type": "array"}, "endpointParams": {"type": "object"}}},
                    },
                }},
            },
        },
    },
}
RULE = {
    "type": "object", "additionalProperties": False, "required": ["expr"],
    "properties": {"alert": {"type": "string"}, "record": {"type": "string"}, "expr": {"type": "string"}, "for": {"type": "string"},
                   "keep_firing_for": {"type": "string"}, "labels": {"type": "object"}, "annotations": {"type": "object"}},
}
PROMETHEUS_RULE = {
    "type": "object", "additionalProperties": False, "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {"const": "PrometheusRule"},
        "metadata": {"type": "object", "required": ["name", "namespace"]},
        "spec": {"type": "object", "additionalProperties": False, "required": ["groups"], "properties": {"groups": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "rules"],
            "properties": {"name": {"type": "string"}, "interval": {"type": "string"}, "rules": {"type": "array", "items": RULE}},
        }}}},
    },
}


def test_the_operator_objects_have_the_shape_of_the_operator_crds():
    assert objects("ServiceMonitor").keys() == {"fpb-services"} and objects("PrometheusRule").keys() == {"fpb-alerts"}
    jsonschema.validate(objects("ServiceMonitor")["fpb-services"], SERVICE_MONITOR)
    jsonschema.validate(objects("PrometheusRule")["fpb-alerts"], PROMETHEUS_RULE)


def test_the_service_monitor_scrapes_exactly_the_four_services_on_their_http_port():
    monitor = objects("ServiceMonitor")["fpb-services"]["spec"]
    wanted = monitor["selector"]["matchLabels"]
    selected = {name for name, svc in objects("Service").items() if all(svc["metadata"].get("labels", {}).get(k) == v for k, v in wanted.items())}
    assert selected == set(SERVICES)
    for endpoint in monitor["endpoints"]:
        assert endpoint["path"] == "/metrics"
        for name in selected:
            assert endpoint["port"] in {p["name"] for p in objects("Service")[name]["spec"]["ports"]}
    # The alert FpbServiceDown reads up{platform="fpb"}: the relabeling must set that label.
    assert {"action": "replace", "targetLabel": "platform", "replacement": "fpb"} in monitor["endpoints"][0]["relabelings"]
    # /metrics needs the role `operations`: a client-credentials token, over HTTPS.
    for endpoint in monitor["endpoints"]:
        assert endpoint["scheme"] == "https"
        assert endpoint["oauth2"]["clientSecret"] == {"name": "fpb-prometheus-client", "key": "prometheus.secret"}
        assert endpoint["oauth2"]["tokenUrl"].startswith("https://")


def test_the_prometheus_rule_carries_exactly_the_rules_of_alerts_yml():
    compose_rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert objects("PrometheusRule")["fpb-alerts"]["spec"] == compose_rules, "deploy/k8s/monitoring.yaml and deploy/prometheus/alerts.yml differ"
