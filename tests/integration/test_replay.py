"""Replaying a stream for a rebuild, on a real nats-server: every matching message once,
in stream order, in batches no larger than asked, and the durable consumers untouched."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest

from shared.messaging.nats_server import EmbeddedNatsServer
from shared.messaging.provisioning import provision
from shared.messaging.replay import ReplayConnectionError, StreamReader, replay_stream


async def replayed(url: str, filters: tuple[str, ...], batch: int, publish: int) -> tuple[list[tuple[str, bytes, int]], list[int]]:
    connection = await nats.connect(url)
    js = connection.jetstream()
    await provision(js, ())
    await asyncio.gather(*(js.publish(f"fp.intake.{'a' if n % 3 else 'b'}.thing", str(n).encode(), headers={"Nats-Msg-Id": f"m{n}"})
                           for n in range(publish)))
    seen: list[tuple[str, bytes, int]] = []
    sizes: list[int] = []

    async def on_batch(messages: list) -> None:
        sizes.append(len(messages))
        seen.extend((m.subject, m.data, m.sequence) for m in messages)
        await asyncio.sleep(0)  # the next batch streams in meanwhile

    count = await replay_stream(js, "FP_INTAKE", filters, on_batch, batch=batch)
    consumers = [c.name for c in await js.consumers_info("FP_INTAKE")]
    await connection.close()
    assert count == len(seen) and consumers == []  # the replay's own consumer is gone
    return seen, sizes


@pytest.mark.parametrize("batch", [7, 100, 2000])
def test_a_replay_yields_every_matching_message_once_in_stream_order(nats_server, batch: int):
    seen, sizes = asyncio.run(replayed(nats_server.url, ("fp.intake.a.>",), batch, publish=1500))

    expected = [str(n).encode() for n in range(1500) if n % 3]
    assert [data for _, data, _ in seen] == expected
    assert all(subject == "fp.intake.a.thing" for subject, _, _ in seen)
    sequences = [sequence for _, _, sequence in seen]
    assert sequences == sorted(sequences)
    assert max(sizes) <= batch


def test_a_replay_of_an_empty_stream_ends_at_once(nats_server):
    seen, sizes = asyncio.run(replayed(nats_server.url, ("fp.intake.>",), 100, publish=0))

    assert seen == [] and sizes == []


def test_bodies_larger_than_a_read_and_messages_without_headers_arrive_whole(nats_server):
    async def scenario() -> list[bytes]:
        connection = await nats.connect(nats_server.url)
        js = connection.jetstream()
        await provision(js, ())
        big = "出生登记".encode() * 50_000  # 600 kB: more than one read of the socket
        await js.publish("fp.intake.a.big", big, headers={"Nats-Msg-Id": "big"})
        await js.publish("fp.intake.a.plain", b"no headers at all")
        seen: list[bytes] = []

        async def on_batch(messages: list) -> None:
            seen.extend(m.data for m in messages)

        await replay_stream(js, "FP_INTAKE", ("fp.intake.>",), on_batch)
        await connection.close()
        return seen

    assert asyncio.run(scenario()) == ["出生登记".encode() * 50_000, b"no headers at all"]


@dataclass
class GuardedNatsServer(EmbeddedNatsServer):
    """A broker that takes only a user and password."""

    def write_config(self) -> None:
        super().write_config()
        with self.config_path.open("a") as config:
            config.write('authorization { user: "reporting", password: "s3cret" }\n')


def test_a_replay_authenticates_as_the_services_connection_does(tmp_path: Path):
    # allow_anonymous: the base writes no authorization of its own; this subclass adds a password.
    server = GuardedNatsServer(tmp_path / "guarded", allow_anonymous=True).start()
    try:
        url = server.url.replace("nats://", "nats://reporting:s3cret@")

        async def scenario() -> list[bytes]:
            connection = await nats.connect(url)
            js = connection.jetstream()
            await provision(js, ())
            await js.publish("fp.intake.a.x", b"1", headers={"Nats-Msg-Id": "m1"})
            seen: list[bytes] = []

            async def on_batch(messages: list) -> None:
                seen.extend(m.data for m in messages)

            await replay_stream(js, "FP_INTAKE", ("fp.intake.>",), on_batch)
            with pytest.raises(ReplayConnectionError, match="Authorization Violation"):
                await asyncio.to_thread(StreamReader.open, server.url.replace("nats://", "nats://reporting:wrong@"))
            await connection.close()
            return seen

        assert asyncio.run(scenario()) == [b"1"]
    finally:
        server.kill()
