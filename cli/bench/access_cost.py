"""What identity and access cost, measured in one run beside their absence:

- NATS: PubAck'd publishes (pipelined, file storage, sync_interval: always) as the police
  user of the platform's permission table on an authenticated broker, against the same
  publishes on an open broker; rounds alternate so the machine's hour weighs on both.
- HTTP: requests through verification's access control (token verified, policy decided)
  against the same route on the same app without it, three ways: without access control
  ("bare"); with every token verified by PyJWT at every request (the verifier's cache
  off); with the verifier's cache of tokens verified a moment ago (shared/identity/
  tokens.py, VerifiedTokens), as the services run. The same token at every request: the
  cache's best case, and the usual one (an officer's token serves all its 15 minutes).
  Measured twice: in process (httpx's ASGI transport: requests/s, and CPU µs per request
  of the one process that is both client and app), and served (uvicorn on 127.0.0.1, a
  process of its own per variant, one keep-alive client: the server's CPU µs per request,
  from /proc, which is what access control takes from a service's throughput).

    python -m cli.bench.access_cost [--messages 20000] [--requests 3000] [--served-requests 6000]
                                    [--rounds 3] [--out PATH]

(The served count is larger: /proc counts CPU in clock ticks of 10 ms.)

Prints the ratios and the µs per request; writes them to bench/results/access_cost.json.
Never part of the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
import nats
from fastapi import FastAPI

from shared.identity.access import install_access
from shared.identity.policy import load_policy
from shared.messaging.credentials import PROVISIONER, ensure_credentials, public_keys
from shared.messaging.nats_server import EmbeddedNatsServer, free_port
from shared.messaging.provisioning import provision

WINDOW = 500
OUT = Path("bench/results/access_cost.json")
VARIANTS = ("bare", "verified every request", "cached")  # no access control; cache off; cache on


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


def http_app(variant: str, verifier) -> FastAPI:
    http = FastAPI()
    if variant != "bare":
        if variant == "verified every request":
            verifier = dataclasses.replace(verifier, cache_entries=0)
        install_access(http, "verification", load_policy(), verifier)

    @http.get("/policy")
    async def policy() -> dict[str, str]:
        return {"version": "HB-2021-R1"}

    return http


def jwks_verifier(jwks_file: Path):
    from shared.identity.tokens import KeySet, TokenVerifier
    from tests.identity_support import AUDIENCE, ISSUER

    return TokenVerifier(ISSUER, AUDIENCE, KeySet.from_file(jwks_file))


async def http_rate(app: FastAPI, count: int, headers: dict[str, str]) -> tuple[float, float]:
    """(requests/s, CPU µs per request) in process."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://verification", headers=headers) as client:
        for _ in range(50):
            await client.get("/policy")  # warm: keys loaded, routes resolved once
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            response = await client.get("/policy")
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert response.status_code == 200, response.text
    return count / elapsed, cpu / count * 1e6


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def served_cpu(variant: str, jwks_file: Path, count: int, headers: dict[str, str]) -> float:
    """The CPU µs per request of a uvicorn process serving the variant on 127.0.0.1."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli.bench.access_cost", "--serve", variant, "--port", str(port), "--jwks", str(jwks_file)])
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    client.get("/policy")
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.05)
            for _ in range(200):
                response = client.get("/policy")  # warm
            assert response.status_code == 200, response.text
            before = process_cpu_seconds(server.pid)
            for _ in range(count):
                client.get("/policy")
            return (process_cpu_seconds(server.pid) - before) / count * 1e6
    finally:
        server.terminate()
        server.wait(10)


def serve(variant: str, port: int, jwks_file: Path) -> None:
    import uvicorn

    uvicorn.run(http_app(variant, jwks_verifier(jwks_file)), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def http_rounds(workdir: Path, count: int, served_count: int, rounds: int) -> dict[str, dict[str, list[float]]]:
    from tests.identity_support import TestIssuer  # the same kind of RS256 token the platform's provider issues

    issuer = TestIssuer(workdir / "issuer")
    headers = issuer.headers("FG-02", ["section_head"], ["法规科"])
    measured: dict[str, dict[str, list[float]]] = {variant: {"requests_per_s": [], "cpu_us": [], "served_cpu_us": []} for variant in VARIANTS}
    for n in range(rounds):  # the variants in turn, each round starting with another, so the machine's minute weighs on each
        order = VARIANTS[n % len(VARIANTS):] + VARIANTS[:n % len(VARIANTS)]
        for variant in order:
            rate, cpu = asyncio.run(http_rate(http_app(variant, jwks_verifier(issuer.jwks_file)), count, headers))
            measured[variant]["requests_per_s"].append(rate)
            measured[variant]["cpu_us"].append(cpu)
        for variant in order:
            measured[variant]["served_cpu_us"].append(served_cpu(variant, issuer.jwks_file, served_count, headers))
    return measured


def http_figures(measured: dict[str, dict[str, list[float]]]) -> dict[str, dict]:
    """Per variant: the median of its rounds, and, of each round against that round's bare
    (paired: the machine's load changes between rounds more than within one), the median
    of what access control adds: requests/s as a share of bare's; µs added to a request in
    process (1/rate − 1/bare rate, and CPU µs − bare's); served CPU µs − bare's, and its
    share of the served CPU µs ((µs − bare's) / µs: the throughput it takes from a
    CPU-bound service)."""
    bare = measured["bare"]
    out: dict[str, dict] = {}
    for variant, m in measured.items():
        figures: dict = {name: round(statistics.median(values), 1) for name, values in m.items()}
        if variant != "bare":
            def paired(of) -> float:
                return statistics.median(of(i) for i in range(len(m["cpu_us"])))

            figures |= {
                "of_bare": round(paired(lambda i: m["requests_per_s"][i] / bare["requests_per_s"][i]), 4),
                "added_us": round(paired(lambda i: (1 / m["requests_per_s"][i] - 1 / bare["requests_per_s"][i]) * 1e6), 1),
                "added_cpu_us": round(paired(lambda i: m["cpu_us"][i] - bare["cpu_us"][i]), 1),
                "served_added_cpu_us": round(paired(lambda i: m["served_cpu_us"][i] - bare["served_cpu_us"][i]), 1),
                "served_share": round(paired(lambda i: (m["served_cpu_us"][i] - bare["served_cpu_us"][i]) / m["served_cpu_us"][i]), 4),
            }
        figures["rounds"] = {name: [round(v, 1) for v in values] for name, values in m.items()}
        out[variant] = figures
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--served-requests", type=int, default=6_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--serve", choices=VARIANTS, help=argparse.SUPPRESS)  # the served measurement's server process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--jwks", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.jwks)
        return
    started = datetime.now(timezone.utc).isoformat()
    with tempfile.TemporaryDirectory(prefix="fpb-access-cost-") as directory:
        workdir = Path(directory)
        open_rates, secured_rates = asyncio.run(nats_rounds(workdir, args.messages, args.rounds))
        measured = http_rounds(workdir, args.requests, args.served_requests, args.rounds)
    b, a = statistics.median(open_rates), statistics.median(secured_rates)
    print(f"NATS PubAck'd publishes/s (open → NKey + permissions): {b:,.0f} → {a:,.0f} (median of {args.rounds}; {a / b:.1%} of without; "
          f"rounds {[round(x) for x in open_rates]} → {[round(x) for x in secured_rates]})")
    http = http_figures(measured)
    print(f"HTTP, median of {args.rounds} rounds of {args.requests:,} requests in process, {args.served_requests:,} served; "
          "access control = the variant less bare:")
    print(f"  {'':<24} {'in process':>10} {'of bare':>8} {'added':>8} {'CPU':>8} {'added':>8}   {'served CPU':>10} {'added':>8} {'share':>6}")
    for variant, f in http.items():
        def us(name):
            return f"{f[name]:,.0f} µs" if name in f else ""
        of_bare = f"{f['of_bare']:.1%}" if "of_bare" in f else ""
        share = f"{f['served_share']:.1%}" if "served_share" in f else ""
        print(f"  {variant:<24} {f['requests_per_s']:>8,.0f}/s {of_bare:>8} {us('added_us'):>8} {us('cpu_us'):>8} {us('added_cpu_us'):>8}   "
              f"{us('served_cpu_us'):>10} {us('served_added_cpu_us'):>8} {share:>6}")
    print("  (medians of the rounds; the added figures and shares: medians of each round against its own bare)")
    from cli.bench.run import machine

    results = {"machine": machine(), "started_at": started, "command": "python -m cli.bench.access_cost " + " ".join(sys.argv[1:]),
               "method": __doc__, "nats": {"open_per_s": [round(x, 1) for x in open_rates], "secured_per_s": [round(x, 1) for x in secured_rates],
                                            "of_open": round(a / b, 4)},
               "http": http}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
