"""How many PostgreSQL connections the platform keeps open, per service.

    .venv/bin/python -m cli.bench.connections [--records 5000]

Starts the whole platform with every store on one fresh PostgreSQL database (dropped
after), publishes `records` inbound records, waits until every consumer has handled them,
asks each service for its readiness, metrics and a list, and then counts the database's
connections by `application_name` (each service names its connections `fpb-<service>`:
`name_database_connections` in shared/runtime.py). What a replica keeps open decides how
many replicas one PostgreSQL server's `max_connections` allows (deploy/k8s/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import nats

from cli.bench import access
import psycopg

from cli.bench.load import load_records, publish, wait_until_settled
from cli.platform import Platform

ADMIN_URL = os.environ.get("FPB_CONNECTIONS_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ASKED = {"intake": "/readyz", "verification": "/applications", "enforcement": "/cases?limit=5", "reporting": "/reports/totals"}


def connections_by_service(database_url: str) -> dict[str, int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY application_name"
        ).fetchall()
    return {name or "(unnamed)": count for name, count in rows}


async def _publish(nats_url: str, count: int) -> None:
    connection = await access.connect(nats_url)
    try:
        await publish(connection.jetstream(), load_records(count, f"c{uuid.uuid4().hex[:6]}"))
    finally:
        await connection.close()
    await wait_until_settled(nats_url)


def measure(records: int) -> dict[str, int]:
    name = f"fpb_connections_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        with tempfile.TemporaryDirectory(prefix="fpb-connections-") as workdir:
            platform = Platform(Path(workdir) / "platform", database_url=database_url)
            platform.start()
            access.register(platform)  # its clients authenticate (cli/bench/access.py)
            try:
                asyncio.run(_publish(platform.nats_url, records))
                for service_name, service in platform.services.items():
                    for path in ("/readyz", "/metrics", ASKED[service_name]):
                        httpx.get(service.url + path, timeout=30).raise_for_status()
                time.sleep(2)  # connections a relay or a sweep opened in passing are back in their pools
                return connections_by_service(database_url)
            finally:
                platform.stop()
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    counts = measure(parser.parse_args().records)
    for service, count in sorted(counts.items()):
        print(f"{service:20} {count:4}")
    print(f"{'in all':20} {sum(counts.values()):4}")


if __name__ == "__main__":
    main()
