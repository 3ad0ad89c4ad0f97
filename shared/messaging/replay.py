"""Read a stream's matching messages from the first to those present now (rebuilds).

A named, unacknowledged, short-lived consumer: the durable consumers' positions are
untouched. nats-py creates and deletes it; the messages themselves come over a second,
plain connection of our own (`_ReplayConnection`), because nats-py spends most of a
replay's time on each message's way to us: it parses every header line into a dict, builds
a Msg, and hands each message through a queue to a task. A rebuild needs neither the
headers nor a callback per message, only the body and the stream sequence: reading
frames in bulk from the socket took the raw replay read (no work per batch) from about
85,000 to about 160,000 messages/s on the benchmark machine (`cli.bench.replay`).

Two pull requests of `batch` messages stay in flight while the previous batch is being
handled, so the broker streams the next batch meanwhile. Memory stays bounded: a new
request goes out only when the caller takes a batch.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple
from urllib.parse import ParseResult, unquote

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.messaging.ack_reply import stream_position

IN_FLIGHT_REQUESTS = 2
REQUEST_EXPIRES_SECONDS = 30.0
READ_CHUNK_BYTES = 1 << 18


class ReplayedMessage(NamedTuple):
    subject: str
    data: bytes
    stream: str
    sequence: int


class ReplayStalledError(RuntimeError):
    pass


class ReplayConnectionError(RuntimeError):
    """The broker refused the replay's own connection (it names what it said)."""


async def replay_stream(
    js: JetStreamContext,
    stream: str,
    filter_subjects: Sequence[str],
    on_batch: Callable[[list[ReplayedMessage]], Awaitable[None]],
    batch: int = 2000,
) -> int:
    name = f"replay-{uuid.uuid4().hex[:12]}"
    info = await js.add_consumer(
        stream,
        ConsumerConfig(
            name=name,
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            filter_subjects=list(filter_subjects),
            inactive_threshold=120.0,
            mem_storage=True,
        ),
    )
    expected = info.num_pending or 0
    seen = 0
    try:
        if expected:
            # nats-py's JetStreamContext holds its connection here (no public accessor)
            connection = await _ReplayConnection.open(js._nc.connected_url)
            try:
                pull = _Pull(connection, f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}", expected, batch)
                for _ in range(IN_FLIGHT_REQUESTS):
                    pull.ask()
                while seen < expected:
                    try:
                        messages = await asyncio.wait_for(pull.next_batch(), REQUEST_EXPIRES_SECONDS + 5)
                    except TimeoutError:
                        raise ReplayStalledError(f"replay of {stream} stalled after {seen} of {expected} messages") from None
                    pull.ask()  # the broker sends the next batch while this one is handled
                    await on_batch(messages)
                    seen += len(messages)
            finally:
                connection.close()
    finally:
        await js.delete_consumer(stream, name)
    return seen


class _Pull:
    """Pull requests out, batches in: a batch is complete when it holds as many messages
    as its request asked for, or when the broker ends the request early (408 with the
    number it did not deliver, which is asked for again)."""

    def __init__(self, connection: _ReplayConnection, next_subject: str, expected: int, batch: int) -> None:
        self.connection, self.next_subject, self.expected, self.batch = connection, next_subject, expected, batch
        self.requested = 0  # messages asked for so far (less those a request gave up on)
        self.sizes: list[int] = []  # what each request in flight still owes, oldest first
        self.current: list[ReplayedMessage] = []
        self.ready: list[list[ReplayedMessage]] = []

    def ask(self) -> None:
        size = min(self.batch, self.expected - self.requested)
        if size <= 0:
            return
        self.requested += size
        self.sizes.append(size)
        self.connection.request(self.next_subject, json.dumps({"batch": size, "expires": int(REQUEST_EXPIRES_SECONDS * 1e9)}).encode())

    async def next_batch(self) -> list[ReplayedMessage]:
        while not self.ready:
            for frame in await self.connection.frames():
                self._take(frame)
        return self.ready.pop(0)  # possibly empty: the caller then asks again

    def _take(self, frame: ReplayedMessage | tuple[str, int | None]) -> None:
        if isinstance(frame, ReplayedMessage):
            self.current.append(frame)
            if self.sizes and len(self.current) >= self.sizes[0]:
                self.sizes.pop(0)
                self._hand_over()
            return
        status, undelivered = frame
        if status in ("408", "404", "409") and self.sizes:  # the oldest request ended short
            self.requested -= self.sizes[0] - len(self.current) if undelivered is None else undelivered
            self.sizes.pop(0)
            self._hand_over()

    def _hand_over(self) -> None:
        self.ready.append(self.current)
        self.current = []


class _ReplayConnection:
    """One subscription on a plain NATS connection, read in bulk: the client protocol's
    MSG and HMSG frames (https://docs.nats.io/reference/reference-protocols/nats-protocol)
    parsed straight from the socket's buffer. Deliveries become ReplayedMessage; status
    messages (no body, a status line such as "NATS/1.0 408 Request Timeout") become
    (status, undelivered). The connection authenticates as the given URL says (user and
    password, or a token) and goes over TLS when the broker requires it."""

    SID = b"1"

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.inbox = f"_INBOX.replay.{uuid.uuid4().hex}"
        self.buffer = b""

    @classmethod
    async def open(cls, url: ParseResult | None) -> _ReplayConnection:
        if url is None or url.hostname is None:
            raise ReplayConnectionError("the NATS connection is not connected to any server")
        reader, writer = await asyncio.open_connection(url.hostname, url.port or 4222, limit=READ_CHUNK_BYTES * 4)
        connection = cls(reader, writer)
        try:
            info = await reader.readline()
            if not info.startswith(b"INFO "):
                raise ReplayConnectionError(f"the broker did not introduce itself: {info[:200]!r}")
            if json.loads(info[5:]).get("tls_required") or url.scheme == "tls":
                await writer.start_tls(ssl.create_default_context(), server_hostname=url.hostname)
            options = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True, "protocol": 1, "name": "fpb-replay", "lang": "python"}
            if url.username and url.password:
                options |= {"user": unquote(url.username), "pass": unquote(url.password)}
            elif url.username:
                options["auth_token"] = unquote(url.username)
            writer.write(b"CONNECT " + json.dumps(options).encode() + b"\r\nPING\r\n")
            answer = await reader.readline()
            while answer.startswith(b"INFO "):  # a cluster may update its INFO at once
                answer = await reader.readline()
            if not answer.startswith(b"PONG"):
                raise ReplayConnectionError(f"the broker refused the replay's connection: {answer.strip().decode(errors='replace')}")
            writer.write(b"SUB " + connection.inbox.encode() + b" " + cls.SID + b"\r\n")
        except BaseException:
            connection.close()
            raise
        return connection

    def request(self, subject: str, body: bytes) -> None:
        self.writer.write(b"PUB %s %s %d\r\n%s\r\n" % (subject.encode(), self.inbox.encode(), len(body), body))

    async def frames(self) -> list[ReplayedMessage | tuple[str, int | None]]:
        """The complete frames that have arrived (waits for at least some bytes)."""
        chunk = await self.reader.read(READ_CHUNK_BYTES)
        if not chunk:
            raise ReplayConnectionError("the broker closed the replay's connection")
        buffer = self.buffer + chunk if self.buffer else chunk
        frames: list[ReplayedMessage | tuple[str, int | None]] = []
        position, end = 0, len(buffer)
        while position < end:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                break
            line = buffer[position:line_end]
            if line.startswith(b"HMSG ") or line.startswith(b"MSG "):
                fields = line.split()
                total = int(fields[-1])
                body_start = line_end + 2
                if body_start + total + 2 > end:
                    break  # the rest of this frame is still on its way
                with_headers = fields[0] == b"HMSG"
                headers = int(fields[-2]) if with_headers else 0
                if len(fields) == (6 if with_headers else 5):  # a delivery: its reply subject is $JS.ACK…
                    stream, sequence = stream_position(fields[3].decode())
                    frames.append(ReplayedMessage(fields[1].decode(), buffer[body_start + headers : body_start + total], stream, sequence))
                else:
                    frames.append(_status(buffer[body_start : body_start + headers]))
                position = body_start + total + 2
            else:
                if line == b"PING":
                    self.writer.write(b"PONG\r\n")
                elif line.startswith(b"-ERR"):
                    raise ReplayConnectionError(f"the broker ended the replay: {line.decode(errors='replace')}")
                position = line_end + 2  # +OK, PONG, INFO: nothing to do
        self.buffer = buffer[position:]
        return frames

    def close(self) -> None:
        self.writer.close()


def _status(headers: bytes) -> tuple[str, int | None]:
    """A status message's code, and how many messages its request will not deliver."""
    lines = headers.split(b"\r\n")
    words = lines[0].split()
    status = words[1].decode() if len(words) > 1 else ""
    undelivered = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"nats-pending-messages":
            undelivered = int(value)
    return status, undelivered
