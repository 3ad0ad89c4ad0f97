"""Intake across a restart, and through an outage of its database: a record published
again after intake restarted is still recognised, and a valid record that arrives while
the store and key store are unreachable waits for them instead of being dead-lettered."""

from __future__ import annotations

import json
import socket
import threading
from datetime import date
from urllib.parse import urlparse

import httpx
import pytest

from services.intake.bootstrap import bootstrap
from services.intake.settings import IntakeSettings
from shared.contracts.identity import make_resident_id
from tests.identity_support import acting_officers
from support import collect, eventually, running, sample, stream_count

# Longer than the retry budget an error would use up (0.5 + 2 + 5 + 15 s of backoff over
# five attempts): had the outage counted as failures, the record would be dead-lettered.
OUTAGE_SECONDS = 24


def intake_settings(nats_url: str, store_url: str, key_dir) -> IntakeSettings:
    return IntakeSettings(nats_url=nats_url, store_url=store_url, keystore_url=store_url, key_dir=key_dir)


async def test_a_record_republished_after_intake_restarts_gets_a_duplicate_receipt_naming_the_first_submission(
    nats_server, js, store_url, key_dir
):
    subject, message = sample("police.birth.registered")
    body = json.dumps(message).encode()
    settings = intake_settings(nats_server.url, store_url, key_dir)
    async with running(bootstrap(settings)):
        await js.publish(subject, body, headers={"Nats-Msg-Id": message["record_id"]})
        [first] = await collect(js, "fp.receipts.police", 1)

    # A new intake on the same store; the county system publishes the record again under
    # a new message id, so the broker's de-duplication cannot catch it.
    async with running(bootstrap(settings)):
        await js.publish(subject, body, headers={"Nats-Msg-Id": message["record_id"] + "-after-restart"})
        [_, again] = await collect(js, "fp.receipts.police", 2)

    assert (first["accepted"], first.get("duplicate", False)) == (True, False)
    assert (again["record_id"], again["accepted"], again["duplicate"]) == (message["record_id"], True, True)
    assert again["submission_id"] == first["submission_id"]
    assert await stream_count(js, "FP_INTAKE", "fp.intake.accepted.>") == 1, "one submission downstream"


class CuttableLink:
    """A TCP relay to PostgreSQL that can be cut (every connection closed, new ones
    refused) and restored: a database outage, without stopping the shared server. Runs on
    its own threads, since the service under test blocks its event loop while it starts."""

    def __init__(self, target_url: str) -> None:
        target = urlparse(target_url)
        self._target = (target.hostname or "127.0.0.1", target.port or 5432)
        self._listener = socket.create_server(("127.0.0.1", 0))
        port = self._listener.getsockname()[1]
        self.url = target_url.replace(f"{target.hostname}:{target.port or 5432}", f"127.0.0.1:{port}")
        self.up = True
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.up = False
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        self._listener.close()


@pytest.fixture
def database_link(postgres_url):
    link = CuttableLink(postgres_url)
    yield link
    link.close()


@pytest.mark.postgres
async def test_a_valid_record_arriving_during_a_database_outage_waits_for_the_database_and_is_accepted(
    nats_server, js, database_link, key_dir
):
    import asyncio

    subject, message = sample("police.birth.registered")
    # Other parents than the first record's: their data keys must come from the key store.
    parents = {"mother_id_number": make_resident_id("130132", date(1995, 4, 2), 242), "father_id_number": make_resident_id("130132", date(1993, 8, 9), 171)}
    during = dict(message, record_id="PSB-OUTAGE-1", data={**message["data"], **parents})
    service = bootstrap(intake_settings(nats_server.url, database_link.url, key_dir))
    async with running(service):
        await js.publish(subject, json.dumps(message).encode(), headers={"Nats-Msg-Id": message["record_id"]})
        await collect(js, "fp.receipts.police", 1)
        database_link.cut()
        await js.publish(subject, json.dumps(during).encode(), headers={"Nats-Msg-Id": during["record_id"]})
        transport = httpx.ASGITransport(app=service.http)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", auth=acting_officers("sj-auditor")) as client:
            outage = await eventually(lambda: _not_ready(client), timeout=10)
            await asyncio.sleep(OUTAGE_SECONDS)
            database_link.restore()
            receipts = await collect(js, "fp.receipts.police", 2, timeout=30)
            await eventually(lambda: _ready(client), timeout=20)

    assert outage["checks"]["store"] is False and outage["checks"]["key_store"] is False
    assert (receipts[1]["record_id"], receipts[1]["accepted"]) == ("PSB-OUTAGE-1", True)
    assert await stream_count(js, "FP_INTAKE", "fp.intake.accepted.>") == 2
    assert await stream_count(js, "DEAD_LETTERS", "fp.dlq.intake.intake") == 0, "nothing was dead-lettered"
    # Held, never nak-ed: no attempt was used up (each nak would count as a "retry").
    metrics = service.metrics.exposition().decode()
    assert 'outcome="outage"' in metrics and 'outcome="retry"' not in metrics


async def _not_ready(client) -> dict | None:
    response = await client.get("/readyz")
    return response.json() if response.status_code == 503 else None


async def _ready(client) -> bool:
    return (await client.get("/readyz")).status_code == 200
