"""The configuration reference (docs/configuration.md), generated from the services'
settings classes: every FPB_* variable, which services read it, its default and what it
means. `fpb contracts` rewrites it with the other published documents; a test checks
that the committed copy matches the code, so a new setting cannot go undocumented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

HEADER = """# Configuration reference (配置)

Generated from the settings classes by `fpb contracts`; do not edit by hand. Each service
reads `FPB_*` environment variables. `fpb up` sets the stores, keys, ports and peers
itself; in production they come from the ConfigMap and Secrets (`deploy/k8s/`) or the
compose file. A value that does not fit its type stops the service at start with the
variable's name and the problem. Where services read the same name differently, the
row says so per service.

| variable | services | default | meaning |
|---|---|---|---|
"""


def settings_classes() -> dict[str, type[BaseSettings]]:
    from services.enforcement.settings import EnforcementSettings
    from services.identity.settings import IdentitySettings
    from services.intake.settings import IntakeSettings
    from services.reporting.settings import ReportingSettings
    from services.verification.settings import VerificationSettings

    return {"intake": IntakeSettings, "verification": VerificationSettings, "enforcement": EnforcementSettings, "reporting": ReportingSettings,
            "identity": IdentitySettings}


def variables() -> dict[str, dict[str, dict[str, str]]]:
    """FPB_<NAME> -> {service: {"default": …, "meaning": …}} for each service reading it."""
    found: dict[str, dict[str, dict[str, str]]] = {}
    for service, settings in settings_classes().items():
        prefix = settings.model_config.get("env_prefix", "")
        for name, field in settings.model_fields.items():
            found.setdefault(f"{prefix}{name}".upper(), {})[service] = {"default": _default(field), "meaning": field.description or ""}
    return dict(sorted(found.items()))


def _default(field: Any) -> str:
    if field.is_required():
        return "required"
    value = field.default_factory() if field.default is PydanticUndefined else field.default
    if value is None or value == {} or value == ():
        return "none"
    if isinstance(value, Path) and value.is_absolute():
        value = value.relative_to(Path(__file__).resolve().parents[1])
    if isinstance(value, tuple):
        value = ", ".join(map(str, value))
    return f"`{value}`"


def _per_service(readers: dict[str, dict[str, str]], key: str) -> str:
    values = {entry[key] for entry in readers.values()}
    if len(values) == 1:
        return values.pop()
    return "; ".join(f"{service}: {entry[key]}" for service, entry in readers.items())


def rendered() -> str:
    rows = []
    for variable, readers in variables().items():
        services = ", ".join(readers) if len(readers) < len(settings_classes()) else "all"
        meaning = _per_service(readers, "meaning").replace("|", "\\|")
        rows.append(f"| `{variable}` | {services} | {_per_service(readers, 'default')} | {meaning} |\n")
    return HEADER + "".join(rows)


def write(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(rendered(), encoding="utf-8")
    return path
