"""The unit tier's store checks, collected again by an integration module that gives
them real stores: one test body, every backend (DESIGN.md, convention 7).

A unit module is loaded under its own name (so eventsourcing can resolve the topics of
the aggregates it defines) and its tests that touch a store are handed over with the
fixtures they need; the integration module then overrides the store fixtures.
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

UNIT = Path(__file__).resolve().parents[1] / "unit"


def unit_module(name: str) -> ModuleType:
    key = f"unit_tier.{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, UNIT / f"{name}.py")
        assert spec and spec.loader, name
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def store_checks(module: ModuleType, uses: set[str], fixtures: tuple[str, ...] = ()) -> dict[str, Any]:
    """By name: the module's tests that take any fixture in `uses` (the stores, and the
    fixtures built on them), and the module's own fixtures named in `fixtures`."""
    tests = {
        name: value for name, value in vars(module).items()
        if name.startswith("test_") and callable(value) and uses & set(inspect.signature(value).parameters)
    }
    assert tests, f"no store checks found in {module.__name__}"
    return {**tests, **{name: getattr(module, name) for name in fixtures}}
