"""Every service's domain is pure (DESIGN.md): importing it loads no I/O library.

Checked in a fresh interpreter, so what the test process itself has imported cannot
hide an import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IO_LIBRARIES = ("nats", "sqlalchemy", "psycopg", "httpx", "fastapi", "faststream", "uvicorn", "aiohttp")
DOMAIN_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in (ROOT / "services").glob("*/domain/**/*.py")
)


def io_libraries_loaded_by(module: str) -> list[str]:
    probe = (
        f"import importlib, json, sys; importlib.import_module({module!r}); "
        f"print(json.dumps(sorted({{name.split('.')[0] for name in sys.modules}} & set({list(IO_LIBRARIES)!r}))))"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_every_service_has_a_domain_package_to_check():
    assert {module.split(".")[1] for module in DOMAIN_MODULES} == {"intake", "verification", "enforcement", "reporting", "identity"}


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_importing_a_domain_module_loads_no_io_library(module):
    assert io_libraries_loaded_by(module) == []


def test_the_check_sees_an_io_library_when_one_is_imported():
    assert {"nats", "sqlalchemy"} <= set(io_libraries_loaded_by("shared.messaging.consumer"))
