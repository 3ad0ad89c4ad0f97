"""What identity and access cost, measured in one run beside their absence:

- NATS: PubAck'd publishes (pipelined, file storage, sync_interval: always) as the police
  user of the platform's permission table on an authenticated broker, against the same
  publishes on an open broker; rounds alternate so the machine's hour weighs on both.
- HTTP: requests through verification's access control (token verified, policy decided)
  against the same route on the same app without it, in process.

    python -m cli.bench.access_cost [--messages 20000] [--requests 3000] [--rounds 3]

Prints a table and the ratios; writes nothing else. Never part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import nats
from fastapi import FastAPI

from shared.identity.access import install_access
from shared.identity.policy import load_policy
from shared.messaging.credentials import PROVISIONER, ensure_credentials, public_keys
from shared.messaging.nats_server import EmbeddedNatsServer
from shared.messaging.provisioning import provision

WINDOW = 500


async def publish_rate(url: str, count: int, options: dict, provisioner: dict) -> float:
    admin = await nats.connect(url, **provisioner)
    await provision(admin.jetstream(), (), 1)
    await admin.close()
    connection = await nats.connect(url, **options)
    js = connection.jetstream()
    body = b'{"record_id": "x", "data": {}}' + b" " * 400
    started = time.perf_counter()
    for first in range(0, count, WINDOW):
        await asyncio.gather(*(js.publish("county.police.birth.registered", body, headers={"Nats-Msg-Id": f"b{time.perf_counter_ns()}-{n}"})
                               for n in range(first, min(first + WINDOW, count))))
    elapsed = time.perf_counter() - started
    await connection.close()
    return count / elapsed


async def nats_rounds(workdir: Path, count: int, rounds: int) -> tuple[list[float], list[float]]:
    credentials = ensure_credentials(workdir / "credentials")
    open_rates, secured_rates = [], []
    for n in range(rounds):
        anonymous = EmbeddedNatsServer(workdir / f"open-{n}", allow_anonymous=True).start()
        try:
            open_rates.append(await publish_rate(anonymous.url, count, {}, {}))
        finally:
            anonymous.stop()
        secured = EmbeddedNatsServer(workdir / f"secured-{n}", public_keys=public_keys(credentials)).start()
        try:
            secured_rates.append(await publish_rate(secured.url, count, credentials["police"].connect_options(),
                                                    credentials[PROVISIONER].connect_options()))
        finally:
            secured.stop()
    return open_rates, secured_rates


def http_app(guarded: bool, issuer) -> FastAPI:
    http = FastAPI()
    if guarded:
        install_access(http, "verification", load_policy(), issuer.verifier())

    @http.get("/policy")
    async def policy() -> dict[str, str]:
        return {"version": "HB-2021-R1"}

    return http


async def http_rate(app: FastAPI, count: int, headers: dict[str, str]) -> float:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://verification", headers=headers) as client:
        for _ in range(50):
            await client.get("/policy")  # warm: keys loaded, routes resolved once
        started = time.perf_counter()
        for _ in range(count):
            response = await client.get("/policy")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.text
    return count / elapsed


async def http_rounds(workdir: Path, count: int, rounds: int) -> tuple[list[float], list[float]]:
    from tests.identity_support import TestIssuer  # the same kind of RS256 token the platform's provider issues

    issuer = TestIssuer(workdir / "issuer")
    headers = issuer.headers("FG-02", ["section_head"], ["法规科"])
    bare, guarded = [], []
    for _ in range(rounds):
        bare.append(await http_rate(http_app(False, issuer), count, headers))
        guarded.append(await http_rate(http_app(True, issuer), count, headers))
    return bare, guarded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fpb-access-cost-") as directory:
        workdir = Path(directory)
        open_rates, secured_rates = asyncio.run(nats_rounds(workdir, args.messages, args.rounds))
        bare, guarded = asyncio.run(http_rounds(workdir, args.requests, args.rounds))
    rows = [("NATS PubAck'd publishes/s (open → NKey + permissions)", open_rates, secured_rates),
            ("HTTP requests/s in process (no access control → token + policy)", bare, guarded)]
    for label, before, after in rows:
        b, a = statistics.median(before), statistics.median(after)
        print(f"{label}: {b:,.0f} → {a:,.0f} (median of {args.rounds}; {a / b:.1%} of without; rounds {[round(x) for x in before]} → "
              f"{[round(x) for x in after]})")
    b, a = statistics.median(bare), statistics.median(guarded)
    print(f"access control per HTTP request: {(1 / a - 1 / b) * 1e6:,.0f} µs")


if __name__ == "__main__":
    main()
