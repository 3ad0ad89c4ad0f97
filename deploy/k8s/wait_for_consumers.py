"""Init container: wait until provisioning has created the durable consumers a service reads.

Why: `kubectl apply` starts the service pods together with the provisioning Job. Services
never create their durables (provisioning does), and a service started before them pulls
from a consumer that does not exist: the broker answers each pull at once with 503 (no
responders), the pull loop asks again without pause (thousands of requests a second,
measured), and /readyz still reports ready, since it checks only the connection and the
store. So a service pod starts only once every consumer in its routing table exists. The
consumers are read from the service's own code, so this list cannot drift from what the
service pulls from.

Usage: python wait_for_consumers.py <service>   (FPB_NATS_URL and the service's own
FPB_NATS_NKEY_SEED_FILE or FPB_NATS_CREDS_FILE from the environment: the broker refuses
clients without credentials, and the service's user may read its own consumers' info)
Exits 0 when all exist; 1 after FPB_WAIT_TIMEOUT seconds (default 600), so a pod that
waits for a failed Job shows up as failing rather than hanging.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from pathlib import Path

import nats
from nats.js.errors import NotFoundError

from shared.messaging.credentials import credentials_from_settings

ROUTING_TABLES = {
    "intake": "services.intake.entrypoints.inbox",
    "verification": "services.verification.entrypoints.routes",
    "enforcement": "services.enforcement.entrypoints.routes",
    "reporting": "services.reporting.entrypoints.routes",
}


def connect_options(service: str) -> dict:
    """nats.connect keyword arguments of the service's own NATS user ({} without credentials)."""
    def path(name: str) -> Path | None:
        return Path(os.environ[name]) if os.environ.get(name) else None

    own = credentials_from_settings(service, path("FPB_NATS_NKEY_SEED_FILE"), path("FPB_NATS_CREDS_FILE"))
    return own.connect_options() if own is not None else {}


async def missing_consumers(servers: list[str], consumers, options: dict | None = None) -> list[str]:
    async def quiet(_error: Exception) -> None:  # failures are reported by the caller
        pass

    connection = await nats.connect(servers, connect_timeout=3, allow_reconnect=False, error_cb=quiet, **(options or {}))
    try:
        js = connection.jetstream()
        missing = []
        for spec in consumers:
            try:
                await js.consumer_info(spec.stream, spec.durable)
            except NotFoundError:  # the stream or the durable does not exist yet
                missing.append(f"{spec.stream}/{spec.durable}")
        return missing
    finally:
        await connection.close()


async def wait(service: str, servers: list[str], timeout: float, every: float = 5.0) -> bool:
    consumers = importlib.import_module(ROUTING_TABLES[service]).CONSUMERS
    deadline = time.monotonic() + timeout
    while True:
        try:
            missing = await missing_consumers(servers, consumers, connect_options(service))
        except Exception as error:  # noqa: BLE001 - broker not up yet: keep waiting
            missing = [f"broker unreachable ({error!r})"]
        if not missing:
            print(f"{service}: all {len(consumers)} durable consumers exist", flush=True)
            return True
        if time.monotonic() >= deadline:
            print(f"{service}: gave up after {timeout:.0f}s; still missing: {', '.join(missing)}", flush=True)
            return False
        print(f"{service}: waiting for provisioning; missing: {', '.join(missing)}", flush=True)
        await asyncio.sleep(every)


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in ROUTING_TABLES:
        print(f"usage: {sys.argv[0]} {{{'|'.join(ROUTING_TABLES)}}}", file=sys.stderr)
        return 2
    servers = os.environ["FPB_NATS_URL"].split(",")
    timeout = float(os.environ.get("FPB_WAIT_TIMEOUT", "600"))
    return 0 if asyncio.run(wait(sys.argv[1], servers, timeout)) else 1


if __name__ == "__main__":
    sys.exit(main())
