"""The published contracts: each service's AsyncAPI document, generated from the code.

`fpb contracts --out docs/asyncapi` rewrites the committed copies; a test checks that
the committed copies match the code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.enforcement.entrypoints.asyncapi import document as enforcement
from services.intake.entrypoints.asyncapi import document as intake
from services.reporting.entrypoints.asyncapi import document as reporting
from services.verification.entrypoints.asyncapi import document as verification

ASYNCAPI: dict[str, Callable[[], dict[str, Any]]] = {
    "intake": intake,
    "verification": verification,
    "enforcement": enforcement,
    "reporting": reporting,
}


def rendered(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_asyncapi(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in ASYNCAPI.items():
        path = directory / f"{name}.asyncapi.json"
        path.write_text(rendered(document()), encoding="utf-8")
        written.append(path)
    return written
