"""Read a stream's matching messages from the first to those present now (rebuilds).

A named, unacknowledged, short-lived consumer (`replay_consumer`): the durable consumers'
positions are untouched. nats-py creates and deletes it; the messages themselves come
over a plain, blocking connection of our own (`StreamReader`), because nats-py spends
most of a replay's time on each message's way to us: it parses every header line into a
dict, builds a Msg, and hands each message through a queue to a task. A rebuild needs
neither the headers nor a callback per message, only the body and the stream sequence:
reading frames in bulk from the socket took the raw replay read from about 85,000 to
about 160,000 messages/s on the benchmark machine (`cli.bench.replay`).

The reader is synchronous so that a rebuild's projecting processes (no event loop) read
the stream themselves, each pulling a batch in turn, and the bodies never cross a pipe.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from urllib.parse import ParseResult, unquote, urlparse

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.messaging.ack_reply import stream_position
from shared.messaging.credentials import NatsCredentials
from shared.messaging.nats_authorization import inbox_prefix

REQUEST_EXPIRES_SECONDS = 30.0
READ_CHUNK_BYTES = 1 << 18


class ReplayedMessage(NamedTuple):
    subject: str
    data: bytes
    stream: str
    sequence: int


Frame = ReplayedMessage | tuple[str, int | None]  # a delivery, or a status and how many it did not deliver


class ReplayStalledError(RuntimeError):
    pass


class ReplayConnectionError(RuntimeError):
    """The broker refused the replay's own connection, or ended it (it names what it said)."""


@dataclass(frozen=True)
class ReplaySource:
    """A replay consumer's pull subject, and how many messages it holds to replay."""

    stream: str
    next_subject: str
    expected: int


@asynccontextmanager
async def replay_consumer(js: JetStreamContext, stream: str, filter_subjects: Sequence[str]) -> AsyncIterator[ReplaySource]:
    """A short-lived consumer of the stream's matching messages, deleted on leaving."""
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
    try:
        yield ReplaySource(stream, f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}", info.num_pending or 0)
    finally:
        await js.delete_consumer(stream, name)


def connected_url(js: JetStreamContext) -> str:
    """The URL (with its credentials) of the server nats-py is connected to."""
    url: ParseResult | None = js._nc.connected_url  # nats-py holds its connection here (no public accessor)
    if url is None or url.hostname is None:
        raise ReplayConnectionError("the NATS connection is not connected to any server")
    return url.geturl()


def reader_credentials(js: JetStreamContext) -> NatsCredentials | None:
    """The credentials nats-py connected with, for the replay's own connection (which must
    be the same NATS user: its inbox prefix and its right to pull from the replay consumer)."""
    nc = js._nc  # nats-py keeps the connect options on the client (no public accessor)
    seed, creds = getattr(nc, "_nkeys_seed", None), getattr(nc, "_user_credentials", None)
    if seed is None and not isinstance(creds, str):
        return None
    prefix = bytes(nc._inbox_prefix).decode()
    user = prefix.removeprefix("_INBOX_") if prefix.startswith("_INBOX_") else prefix
    return NatsCredentials(user, nkey_seed=Path(seed) if seed else None, creds=Path(creds) if isinstance(creds, str) else None)


async def replay_stream(
    js: JetStreamContext,
    stream: str,
    filter_subjects: Sequence[str],
    on_batch: Callable[[list[ReplayedMessage]], Awaitable[None]],
    batch: int = 2000,
) -> int:
    """Every matching message, `batch` at a time, to `on_batch`; how many there were.
    (The rebuild itself reads in its projecting processes, see RebuildPipeline.)"""
    seen = 0
    async with replay_consumer(js, stream, filter_subjects) as source:
        if source.expected:
            reader = await asyncio.to_thread(StreamReader.open, connected_url(js), credentials=reader_credentials(js))
            try:
                while seen < source.expected:
                    messages = await asyncio.to_thread(reader.pull, source.next_subject, min(batch, source.expected - seen))
                    seen += len(messages)
                    await on_batch(messages)
            finally:
                reader.close()
    return seen


class StreamReader:
    """One subscription on a plain, blocking NATS connection: a pull request out, its
    batch in, read in bulk (frames parsed by `parse_frames`). The connection
    authenticates with the given NKey credentials (the nonce of the server's INFO signed
    with the seed, as nats-py does), else as the URL says (user and password, or a
    token), and goes over TLS when the broker requires it."""

    SID = b"1"

    def __init__(self, sock: socket.socket, inbox: str = "_INBOX") -> None:
        self.socket = sock
        self.inbox = f"{inbox}.replay.{uuid.uuid4().hex}"
        self.buffer = b""

    @classmethod
    def open(cls, url: str, timeout: float = REQUEST_EXPIRES_SECONDS + 5, credentials: NatsCredentials | None = None) -> StreamReader:
        parsed = urlparse(url)
        if parsed.hostname is None:
            raise ReplayConnectionError(f"no server in the NATS URL {url!r}")
        prefix = inbox_prefix(credentials.user) if credentials is not None else "_INBOX"
        reader = cls(socket.create_connection((parsed.hostname, parsed.port or 4222), timeout=timeout), prefix)
        try:
            info = reader._line()
            if not info.startswith(b"INFO "):
                raise ReplayConnectionError(f"the broker did not introduce itself: {info[:200]!r}")
            server_info = json.loads(info[5:])
            if server_info.get("tls_required") or parsed.scheme == "tls":
                reader.socket = ssl.create_default_context().wrap_socket(reader.socket, server_hostname=parsed.hostname)
            options = {"verbose": False, "pedantic": False, "headers": True, "no_responders": True, "protocol": 1, "name": "fpb-replay", "lang": "python"}
            if credentials is not None:
                options |= _signed_nonce(credentials, server_info.get("nonce", ""))
            elif parsed.username and parsed.password:
                options |= {"user": unquote(parsed.username), "pass": unquote(parsed.password)}
            elif parsed.username:
                options["auth_token"] = unquote(parsed.username)
            reader.socket.sendall(b"CONNECT " + json.dumps(options).encode() + b"\r\nPING\r\n")
            answer = reader._line()
            while answer.startswith(b"INFO "):  # a cluster may update its INFO at once
                answer = reader._line()
            if not answer.startswith(b"PONG"):
                raise ReplayConnectionError(f"the broker refused the replay's connection: {answer.strip().decode(errors='replace')}")
            reader.socket.sendall(b"SUB " + reader.inbox.encode() + b" " + cls.SID + b"\r\n")
        except BaseException:
            reader.close()
            raise
        return reader

    def pull(self, next_subject: str, size: int) -> list[ReplayedMessage]:
        """Up to `size` messages, in stream order: fewer only if the broker ends the request
        (it has no more within the expiry); ReplayStalledError if nothing arrives."""
        request = json.dumps({"batch": size, "expires": int(REQUEST_EXPIRES_SECONDS * 1e9)}).encode()
        self.socket.sendall(b"PUB %s %s %d\r\n%s\r\n" % (next_subject.encode(), self.inbox.encode(), len(request), request))
        messages: list[ReplayedMessage] = []
        while len(messages) < size:
            for frame in self._frames():
                if isinstance(frame, ReplayedMessage):
                    messages.append(frame)
                elif frame[0] in ("408", "404", "409"):  # the request ended short
                    if not messages:
                        raise ReplayStalledError(f"the broker ended the replay's pull request with status {frame[0]} and no message")
                    return messages
        return messages

    def _frames(self) -> list[Frame]:
        """The complete frames that have arrived (waits for at least some bytes)."""
        try:
            chunk = self.socket.recv(READ_CHUNK_BYTES)
        except TimeoutError:
            raise ReplayStalledError("the broker sent nothing for the replay's pull request") from None
        if not chunk:
            raise ReplayConnectionError("the broker closed the replay's connection")
        buffer = self.buffer + chunk if self.buffer else chunk
        frames, used, pings = parse_frames(buffer)
        self.buffer = buffer[used:]
        if pings:
            self.socket.sendall(b"PONG\r\n" * pings)
        return frames

    def _line(self) -> bytes:
        """One protocol line, before any frames (the handshake)."""
        while b"\r\n" not in self.buffer:
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ReplayConnectionError("the broker closed the replay's connection")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line + b"\r\n"

    def close(self) -> None:
        self.socket.close()


def _signed_nonce(credentials: NatsCredentials, nonce: str) -> dict[str, str]:
    """CONNECT fields of NKey (or JWT) authentication: the server's nonce signed with the seed."""
    jwt, pair = credentials.signer()
    try:
        signature = base64.urlsafe_b64encode(pair.sign(nonce.encode())).decode().rstrip("=")
        fields = {"sig": signature}
        fields |= {"jwt": jwt} if jwt is not None else {"nkey": pair.public_key.decode()}
        return fields
    finally:
        pair.wipe()


def parse_frames(buffer: bytes) -> tuple[list[Frame], int, int]:
    """The client protocol's frames in `buffer`
    (https://docs.nats.io/reference/reference-protocols/nats-protocol): deliveries as
    ReplayedMessage, status messages (no body, a status line such as "NATS/1.0 408
    Request Timeout") as (status, undelivered). Returns the frames, how many bytes they
    used (a frame cut short stays for the next read) and how many PINGs to answer;
    an -ERR raises ReplayConnectionError with the broker's words.

    Written for speed (a rebuild parses every event here): bytes are split without
    decoding, and each stream's name is decoded once."""
    frames: list[Frame] = []
    streams: dict[bytes, str] = {}
    find, starts = buffer.find, buffer.startswith
    position, end, pings = 0, len(buffer), 0
    while position < end:
        line_end = find(b"\r\n", position)
        if line_end < 0:
            break
        if starts(b"HMSG ", position):  # subject sid [reply] header-size total-size
            fields = buffer[position + 5 : line_end].split()
            headers, total = int(fields[-2]), int(fields[-1])
            delivery = len(fields) == 5
        elif starts(b"MSG ", position):  # subject sid [reply] size
            fields = buffer[position + 4 : line_end].split()
            headers, total = 0, int(fields[-1])
            delivery = len(fields) == 4
        else:
            line = buffer[position:line_end]
            if line == b"PING":
                pings += 1
            elif line.startswith(b"-ERR"):
                raise ReplayConnectionError(f"the broker ended the replay: {line.decode(errors='replace')}")
            position = line_end + 2  # +OK, PONG, INFO: nothing to do
            continue
        body_start = line_end + 2
        if body_start + total + 2 > end:
            break  # the rest of this frame is still on its way
        if delivery:  # its reply subject is $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>…
            name, sequence = stream_position(fields[2])
            stream = streams.get(name) or streams.setdefault(name, name.decode())
            frames.append(ReplayedMessage(fields[0].decode(), buffer[body_start + headers : body_start + total], stream, sequence))
        else:
            frames.append(_status(buffer[body_start : body_start + headers]))
        position = body_start + total + 2
    return frames, position, pings


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
