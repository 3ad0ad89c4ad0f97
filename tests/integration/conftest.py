"""Fixtures for the integration tier: a provisioned real nats-server, key files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest

from cli.platform import ALL_CONSUMERS
from shared.messaging.nats_server import EmbeddedNatsServer
from shared.messaging.provisioning import provision
from shared.privacy.keys import ensure_key_files


@pytest.fixture
async def js(nats_server: EmbeddedNatsServer) -> AsyncIterator[Any]:
    """A JetStream context on a provisioned server."""
    connection = await nats.connect(nats_server.url)
    context = connection.jetstream()
    await provision(context, ALL_CONSUMERS)
    yield context
    await connection.close()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    ensure_key_files(tmp_path / "keys")
    return tmp_path / "keys"
