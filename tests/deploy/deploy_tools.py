"""Helpers of the deployment tier (tests/deploy): checks of docker-compose.yml,
deploy/k8s, deploy/prometheus, the published contracts, and a real Prometheus scraping
the running platform.

Some checks need system tools (docker-compose, promtool, prometheus, the AsyncAPI CLI).
`.ci/run` installs them and sets FPB_REQUIRE_DEPLOY_TOOLS=1: then a missing tool fails
the test. Without that variable (a developer without the tools) the test is skipped,
saying how to install the tool.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_TOOLS = os.environ.get("FPB_REQUIRE_DEPLOY_TOOLS") == "1"
ASYNCAPI_CLI_VERSION = "4.1.1"  # the same pin as .ci/run; 5 and later need Node 24

APT = "apt-get install -y --no-install-recommends {package}  (or run .ci/run, which installs every deploy tool)"
INSTALL = {
    "docker-compose": APT.format(package="docker-compose"),
    "promtool": APT.format(package="prometheus"),
    "prometheus": APT.format(package="prometheus"),
    "asyncapi": f"npm install --prefix .tools @asyncapi/cli@{ASYNCAPI_CLI_VERSION}  (Node 20; or run .ci/run)",
}


def missing_tool(tool: str) -> None:
    message = f"{tool} is not installed; install it with: {INSTALL[tool]}"
    if REQUIRE_TOOLS:
        pytest.fail(f"{message}  [FPB_REQUIRE_DEPLOY_TOOLS=1]", pytrace=False)
    pytest.skip(message)


def system_tool(name: str) -> str:
    """The path of a tool on PATH; skips or fails (see the module docstring) without it."""
    path = shutil.which(name)
    if path is None:
        missing_tool(name)
    return path


def run(command: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout, cwd=kwargs.pop("cwd", ROOT), **kwargs)


def explain(result: subprocess.CompletedProcess[str]) -> str:
    return f"`{' '.join(result.args)}` exited {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
