"""The replay's own reading of the NATS client protocol, with a fake socket: deliveries
(with headers or without), status messages and PINGs are told apart, and a frame split
anywhere across reads comes out whole."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.messaging.replay import ReplayConnectionError, ReplayedMessage, _Pull, _ReplayConnection

ACK = "$JS.ACK.FP_INTAKE.replay-1.1.{sequence}.{sequence}.1700000000000000000.0"


def delivery_with_headers(sequence: int, body: bytes) -> bytes:
    headers = b"NATS/1.0\r\nNats-Msg-Id: m%d\r\nFp-Correlation-Id: c\r\n\r\n" % sequence
    reply = ACK.format(sequence=sequence).encode()
    return b"HMSG fp.intake.a.thing 1 %s %d %d\r\n%s%s\r\n" % (reply, len(headers), len(headers) + len(body), headers, body)


def delivery_without_headers(sequence: int, body: bytes) -> bytes:
    reply = ACK.format(sequence=sequence).encode()
    return b"MSG fp.intake.b.thing 1 %s %d\r\n%s\r\n" % (reply, len(body), body)


def status(code: bytes, undelivered: int | None) -> bytes:
    headers = b"NATS/1.0 " + code + b" Request Timeout\r\n"
    if undelivered is not None:
        headers += b"Nats-Pending-Messages: %d\r\nNats-Pending-Bytes: 100\r\n" % undelivered
    headers += b"\r\n"
    return b"HMSG _INBOX.replay.x 1 %d %d\r\n%s\r\n" % (len(headers), len(headers), headers)


class FakeReader:
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def read(self, _: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""


class FakeWriter:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        pass


def read_all(chunks: list[bytes]) -> tuple[list, bytes]:
    connection = _ReplayConnection(FakeReader(list(chunks)), FakeWriter())  # type: ignore[arg-type]

    async def every_frame() -> list:
        frames = []
        for _ in chunks:
            frames += await connection.frames()
        return frames

    frames = asyncio.run(every_frame())
    assert connection.buffer == b""  # nothing left half-read
    return frames, connection.writer.written  # type: ignore[attr-defined]


STREAM = (
    delivery_with_headers(1, b'{"event_id": "e1"}')
    + b"PING\r\n"
    + delivery_without_headers(2, b"with\r\nline breaks inside")
    + delivery_with_headers(3, b"")
    + status(b"408", 5)
    + delivery_with_headers(4, "住院分娩".encode() * 100)
    + status(b"404", None)
)
EXPECTED = [
    ReplayedMessage("fp.intake.a.thing", b'{"event_id": "e1"}', "FP_INTAKE", 1),
    ReplayedMessage("fp.intake.b.thing", b"with\r\nline breaks inside", "FP_INTAKE", 2),
    ReplayedMessage("fp.intake.a.thing", b"", "FP_INTAKE", 3),
    ("408", 5),
    ReplayedMessage("fp.intake.a.thing", "住院分娩".encode() * 100, "FP_INTAKE", 4),
    ("404", None),
]


def test_deliveries_statuses_and_pings_are_read_from_one_read():
    frames, written = read_all([STREAM])

    assert frames == EXPECTED
    assert written == b"PONG\r\n"  # the broker's PING answered


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), unique=True, max_size=12))
def test_frames_split_anywhere_across_reads_come_out_whole(cuts: list[int]):
    points = [0, *sorted(cuts), len(STREAM)]
    chunks = [STREAM[start:end] for start, end in zip(points, points[1:])]

    frames, _ = read_all(chunks)

    assert frames == EXPECTED


def test_an_error_from_the_broker_ends_the_replay_with_its_words():
    with pytest.raises(ReplayConnectionError, match="Maximum Connections Exceeded"):
        read_all([delivery_with_headers(1, b"x") + b"-ERR 'Maximum Connections Exceeded'\r\n"])


def test_a_closed_connection_ends_the_replay():
    connection = _ReplayConnection(FakeReader([]), FakeWriter())  # type: ignore[arg-type]

    with pytest.raises(ReplayConnectionError, match="closed"):
        asyncio.run(connection.frames())


class FakeConnection:
    def __init__(self, arrivals: list[list]) -> None:
        self.arrivals, self.requests = arrivals, []

    def request(self, subject: str, body: bytes) -> None:
        self.requests.append(body)

    async def frames(self) -> list:
        return self.arrivals.pop(0)


def message(sequence: int) -> ReplayedMessage:
    return ReplayedMessage("fp.intake.a", b"x", "FP_INTAKE", sequence)


def test_a_pull_request_the_broker_ends_short_is_asked_for_again():
    # 5 messages asked for in two requests, of 3 and 2; the first ends after 1 with 2 undelivered.
    connection = FakeConnection([[message(1), ("408", 2)], [message(2), message(3)], [message(4)]])
    pull = _Pull(connection, "$JS.API.CONSUMER.MSG.NEXT.FP_INTAKE.r", expected=5, batch=3)  # type: ignore[arg-type]
    pull.ask()
    pull.ask()

    first = asyncio.run(pull.next_batch())
    pull.ask()  # the two not delivered are asked for again
    second = asyncio.run(pull.next_batch())

    assert [m.sequence for m in first] == [1]
    assert [m.sequence for m in second] == [2, 3]
    assert [json.loads(request)["batch"] for request in connection.requests] == [3, 2, 2]
    assert pull.requested == 5
