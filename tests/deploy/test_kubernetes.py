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
SECRETS = {"fpb-database", "fpb-keys"}

RENDERED = render(K8S)


def ident(obj) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def objects(kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in RENDERED if obj["kind"] == kind}


def pod_spec(obj) -> dict:
    return obj["spec"]["template"]["spec"]


BUILT_IN = [obj for obj in RENDERED if (obj["apiVersion"], obj["kind"]) not in OPERATOR_KINDS]


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
    assert present == listed


def test_everything_lands_in_the_fpb_namespace():
    assert objects("Namespace").keys() == {"fpb"}
    for obj in RENDERED:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "fpb", ident(obj)


def test_every_referenced_config_map_exists_and_every_secret_is_a_documented_one():
    config_maps = set(objects("ConfigMap"))
    readme = (K8S / "README.md").read_text()
    for obj in RENDERED:
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
                assert source["configMapRef"]["name"] in config_maps, ident(obj)
            for variable in container.get("env", []):
                secret = variable.get("valueFrom", {}).get("secretKeyRef")
                if secret:
                    assert secret["name"] in SECRETS, ident(obj)
                    assert f"`{secret['key']}`" in readme, f"{ident(obj)}: secret key {secret['key']} is not documented"


def test_every_container_runs_the_pinned_images_with_requests_and_limits():
    for obj in RENDERED:
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
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
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


def test_nats_runs_three_nodes_with_its_configuration_and_a_disruption_budget():
    statefulset = objects("StatefulSet")["nats"]
    assert statefulset["spec"]["replicas"] == 3
    budget = objects("PodDisruptionBudget")["nats"]["spec"]
    assert budget.get("maxUnavailable") == 1 or budget.get("minAvailable") == 2, "a voluntary disruption must keep the quorum"
    nats_config = next(v["configMap"]["name"] for v in pod_spec(statefulset)["volumes"] if "configMap" in v)
    assert "sync_interval: always" in objects("ConfigMap")[nats_config]["data"]["nats.conf"]


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


def test_the_prometheus_rule_carries_exactly_the_rules_of_alerts_yml():
    compose_rules = yaml.safe_load((ROOT / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert objects("PrometheusRule")["fpb-alerts"]["spec"] == compose_rules, "deploy/k8s/monitoring.yaml and deploy/prometheus/alerts.yml differ"
