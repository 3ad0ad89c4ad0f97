"""The committed AsyncAPI documents validate with the official AsyncAPI CLI
(@asyncapi/cli, installed into .tools by .ci/run; never globally)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from deploy_tools import ASYNCAPI_CLI_VERSION, ROOT, explain, missing_tool, run

from cli.contracts import ASYNCAPI

LOCAL_CLI = ROOT / ".tools" / "node_modules" / ".bin" / "asyncapi"
DOCUMENTS = ROOT / "docs" / "asyncapi"



@pytest.fixture(scope="module")
def asyncapi() -> str:
    path = str(LOCAL_CLI) if LOCAL_CLI.exists() else None
    if path is None:
        missing_tool("asyncapi")
    return path


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # No usage analytics (the CLI would try to send them) and nothing written to $HOME.
    home = tmp_path_factory.mktemp("asyncapi-home")
    analytics = home / "analytics.json"
    analytics.write_text(json.dumps({"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "fpb-tests"}))
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics), "CI": "true"}


def test_the_local_cli_is_the_pinned_version(asyncapi):
    installed = json.loads((ROOT / ".tools/node_modules/@asyncapi/cli/package.json").read_text())["version"]
    assert installed == ASYNCAPI_CLI_VERSION


def errors_of(asyncapi: str, document: Path, env: dict[str, str], tmp_path: Path) -> tuple[int, set[tuple[str, str]]]:
    report = tmp_path / "diagnostics.json"
    result = run([asyncapi, "validate", str(document), "--fail-severity", "error", "--diagnostics-format", "json", "--save-output", str(report)], env=env)
    assert report.exists(), explain(result)
    diagnostics = json.loads(report.read_text())
    return result.returncode, {(d["code"], d["message"]) for d in diagnostics if d["severity"] == 0}  # 0: error


@pytest.mark.parametrize("service", sorted(ASYNCAPI))
def test_the_asyncapi_document_validates_with_the_official_cli(service, asyncapi, cli_env, tmp_path):
    returncode, errors = errors_of(asyncapi, DOCUMENTS / f"{service}.asyncapi.json", cli_env, tmp_path)
    assert not errors, f"{service}.asyncapi.json: {sorted(errors)}"
    assert returncode == 0


def test_the_cli_rejects_a_broken_document(asyncapi, cli_env, tmp_path):
    # Guards the test above: an operation on an undeclared channel must be an error.
    document = json.loads((DOCUMENTS / "verification.asyncapi.json").read_text())
    next(iter(document["operations"].values()))["channel"] = {"$ref": "#/channels/no-such-channel"}
    broken = tmp_path / "broken.asyncapi.json"
    broken.write_text(json.dumps(document))
    returncode, errors = errors_of(asyncapi, broken, cli_env, tmp_path)
    assert returncode != 0 and errors
