"""The published contracts, generated from the code: each service's AsyncAPI document
(its messages) and OpenAPI document (its HTTP API).

`fpb contracts` rewrites the committed copies in docs/asyncapi and docs/openapi; tests
check that the committed copies match the code.

The OpenAPI documents come from each service's real FastAPI app, assembled by its own
`bootstrap()`, so a route added there is published without further wiring. Assembling a
service connects to nothing (the broker connects only when the service starts): the
stores are SQLite files in a temporary directory, deleted afterwards, and the key files
are fresh random bytes there too. (`memory://` would do for the event store, but the
relay's position table shares the store URL and needs SQL.)
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.enforcement.entrypoints.asyncapi import document as enforcement
from services.intake.entrypoints.asyncapi import document as intake
from services.reporting.entrypoints.asyncapi import document as reporting
from services.verification.entrypoints.asyncapi import document as verification

if TYPE_CHECKING:
    from shared.runtime import Service

ASYNCAPI: dict[str, Callable[[], dict[str, Any]]] = {
    "intake": intake,
    "verification": verification,
    "enforcement": enforcement,
    "reporting": reporting,
}

# Never dialled while generating; a real-looking URL keeps the settings honest.
_UNUSED_NATS_URL = "nats://127.0.0.1:4222"


# Each service's assembly is imported only when its document is generated: the AsyncAPI
# documents above must not depend on every service's wiring.
def _assemble_intake(workdir: Path) -> Service:
    from services.intake.bootstrap import bootstrap
    from services.intake.settings import IntakeSettings
    from shared.privacy.keys import ensure_key_files

    ensure_key_files(workdir / "keys")
    return bootstrap(
        IntakeSettings(
            nats_url=_UNUSED_NATS_URL,
            store_url=f"sqlite:///{workdir / 'intake.db'}",
            keystore_url=f"sqlite:///{workdir / 'keystore.db'}",
            key_dir=workdir / "keys",
        )
    )


def _assemble_verification(workdir: Path) -> Service:
    from services.verification.bootstrap import bootstrap
    from services.verification.settings import VerificationSettings

    return bootstrap(VerificationSettings(nats_url=_UNUSED_NATS_URL, store_url=f"sqlite:///{workdir / 'verification.db'}"))


def _assemble_enforcement(workdir: Path) -> Service:
    from services.enforcement.bootstrap import bootstrap
    from services.enforcement.settings import EnforcementSettings

    return bootstrap(EnforcementSettings(nats_url=_UNUSED_NATS_URL, store_url=f"sqlite:///{workdir / 'enforcement.db'}"))


def _assemble_reporting(workdir: Path) -> Service:
    from services.reporting.bootstrap import bootstrap
    from services.reporting.settings import ReportingSettings

    return bootstrap(ReportingSettings(nats_url=_UNUSED_NATS_URL, store_url=f"sqlite:///{workdir / 'reporting.db'}"))


ASSEMBLE: dict[str, Callable[[Path], Service]] = {
    "intake": _assemble_intake,
    "verification": _assemble_verification,
    "enforcement": _assemble_enforcement,
    "reporting": _assemble_reporting,
}


def openapi(service: str) -> dict[str, Any]:
    """The OpenAPI document of one service's HTTP API, as its FastAPI app describes it."""
    with tempfile.TemporaryDirectory(prefix=f"fpb-openapi-{service}-") as workdir:
        assembled = ASSEMBLE[service](Path(workdir))
        try:
            return assembled.http.openapi()
        finally:
            for close in assembled.closers:
                close()


OPENAPI: dict[str, Callable[[], dict[str, Any]]] = {name: (lambda name=name: openapi(name)) for name in ASSEMBLE}


def rendered(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _write(directory: Path, suffix: str, documents: dict[str, Callable[[], dict[str, Any]]]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents.items():
        path = directory / f"{name}.{suffix}.json"
        path.write_text(rendered(document()), encoding="utf-8")
        written.append(path)
    return written


def write_asyncapi(directory: Path) -> list[Path]:
    return _write(directory, "asyncapi", ASYNCAPI)


def write_openapi(directory: Path) -> list[Path]:
    return _write(directory, "openapi", OPENAPI)
