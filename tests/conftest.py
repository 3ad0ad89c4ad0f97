"""Fixtures shared by every tier.

The PostgreSQL tier creates a fresh database per test run and drops it afterwards; it
fails (never skips) when PostgreSQL is unreachable, so CI cannot pass without it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from shared.messaging.nats_server import EmbeddedNatsServer

POSTGRES_ADMIN_URL = os.environ.get("FPB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def services_trust_the_test_issuer() -> Iterator[None]:
    """Services a test assembles in this process read their settings from the environment:
    they accept the test issuer's tokens (tests/identity_support.py). Platforms started
    as processes (cli/platform.py) set their own issuer and ignore these."""
    from tests.identity_support import token_issuer

    saved = {name: os.environ.get(name) for name in token_issuer().env}
    os.environ.update(token_issuer().env)
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNatsServer]:
    """A real nats-server of our own, on free ports, with JetStream on disk. Open to
    clients without credentials, explicitly: for tests of everything but access (access
    is tested on `secured_nats_server`, tests/integration/test_nats_permissions.py)."""
    server = EmbeddedNatsServer(tmp_path / "nats", allow_anonymous=True).start()
    yield server
    server.kill()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test run (URL), dropped at the end."""
    name = f"fpb_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PostgreSQL is unreachable at {POSTGRES_ADMIN_URL}: {error}", pytrace=False)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_database: str) -> Iterator[str]:
    """The run's database, emptied of every table before the test."""
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    yield postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on both backends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")
