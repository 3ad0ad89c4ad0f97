"""Render deploy/k8s/kustomization.yaml in pure Python, for validation without kubectl.

It implements exactly the kustomize features the kustomization uses (namespace,
resources, configMapGenerator with envs and files, images) and refuses any other field,
so a kustomization that grows beyond them fails the tests instead of being half-rendered.
Generated ConfigMap names get a content hash suffix and every reference to them is
rewritten, as kustomize does (the hash itself is not kustomize's).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

SUPPORTED_FIELDS = {"apiVersion", "kind", "namespace", "resources", "configMapGenerator", "images"}
GENERATOR_FIELDS = {"name", "envs", "files"}
IMAGE_FIELDS = {"name", "newName", "newTag", "digest"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass", "PriorityClass"}


class UnsupportedKustomization(ValueError):
    pass


def render(directory: Path) -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    _only(kustomization, SUPPORTED_FIELDS, "kustomization.yaml")
    objects = [doc for resource in kustomization.get("resources", []) for doc in _load(directory / resource)]
    renames: dict[str, str] = {}
    for generator in kustomization.get("configMapGenerator", []):
        config_map = _generate(directory, generator)
        renames[generator["name"]] = config_map["metadata"]["name"]
        objects.append(config_map)
    for obj in objects:
        if "namespace" in kustomization and obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = kustomization["namespace"]
        for pod in _pod_specs(obj):
            _rename_config_maps(pod, renames)
            _set_images(pod, kustomization.get("images", []))
    return objects


def _only(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(mapping) - allowed
    if unknown:
        raise UnsupportedKustomization(f"{where}: {sorted(unknown)} not supported by this renderer (use kubectl kustomize)")


def _load(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise UnsupportedKustomization(f"resource {path} is not a file")
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _generate(directory: Path, generator: dict[str, Any]) -> dict[str, Any]:
    _only(generator, GENERATOR_FIELDS, f"configMapGenerator {generator.get('name')}")
    data: dict[str, str] = {}
    for env_file in generator.get("envs", []):
        for line in (directory / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, separator, value = line.partition("=")
                if not separator:
                    raise UnsupportedKustomization(f"{env_file}: {line!r} is not KEY=VALUE")
                data[key.strip()] = value
    for entry in generator.get("files", []):
        key, _, path = entry.rpartition("=")
        data[key or Path(path).name] = (directory / path).read_text()
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:10]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{generator['name']}-{digest}"}, "data": data}


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec", {})
    if obj["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if "template" in spec and "spec" in spec["template"]:
        return [spec["template"]["spec"]]
    return [spec] if obj["kind"] == "Pod" else []


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def _rename_config_maps(pod: dict[str, Any], renames: dict[str, str]) -> None:
    def rename(ref: dict[str, Any] | None) -> None:
        if ref and ref.get("name") in renames:
            ref["name"] = renames[ref["name"]]

    for volume in pod.get("volumes", []):
        rename(volume.get("configMap"))
        for source in volume.get("projected", {}).get("sources", []):
            rename(source.get("configMap"))
    for container in containers(pod):
        for source in container.get("envFrom", []):
            rename(source.get("configMapRef"))
        for variable in container.get("env", []):
            rename(variable.get("valueFrom", {}).get("configMapKeyRef"))


def _set_images(pod: dict[str, Any], images: list[dict[str, Any]]) -> None:
    for image in images:
        _only(image, IMAGE_FIELDS, f"images {image.get('name')}")
        for container in containers(pod):
            name = _image_name(container["image"])
            if name == image["name"]:
                new = image.get("newName", name)
                container["image"] = f"{new}@{image['digest']}" if "digest" in image else f"{new}:{image.get('newTag', 'latest')}"


def _image_name(image: str) -> str:
    """registry/name:tag@digest -> registry/name (a registry's :port is not a tag)."""
    image = image.split("@")[0]
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
