"""The replay's own reading of the NATS client protocol, with a fake socket: deliveries
(with headers or without), status messages and PINGs are told apart, a frame split
anywhere across reads comes out whole, and a pull request ends when its batch is whole
or the broker ends it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.messaging.replay import ReplayConnectionError, ReplayedMessage, ReplayStalledError, StreamReader, parse_frames

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


class FakeSocket:
    """Gives the chunks in turn, one per recv; keeps what is sent."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks, self.sent = list(chunks), b""

    def recv(self, _: int) -> bytes:
        return self.chunks.pop(0) if self.chunks else b""

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def close(self) -> None:
        pass


def reader_over(chunks: list[bytes]) -> StreamReader:
    return StreamReader(FakeSocket(chunks))  # type: ignore[arg-type]


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


def test_deliveries_statuses_and_pings_are_read_from_one_buffer():
    frames, used, pings = parse_frames(STREAM)

    assert frames == EXPECTED
    assert used == len(STREAM) and pings == 1


def test_a_delivery_from_a_domain_and_account_names_its_stream_and_sequence():
    reply = b"$JS.ACK.county.ACCOUNTHASH.FP_INTAKE.replay-1.1.77.5.1700000000000000000.0.token"
    frame = b"MSG fp.intake.x 1 %s 2\r\nhi\r\n" % reply

    assert parse_frames(frame)[0] == [ReplayedMessage("fp.intake.x", b"hi", "FP_INTAKE", 77)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), unique=True, max_size=12))
def test_frames_split_anywhere_across_reads_come_out_whole(cuts: list[int]):
    points = [0, *sorted(cuts), len(STREAM)]
    reader = reader_over([STREAM[start:end] for start, end in zip(points, points[1:])])

    frames = []
    while len(frames) < len(EXPECTED):
        frames += reader._frames()

    assert frames == EXPECTED
    assert reader.buffer == b""  # nothing left half-read
    assert reader.socket.sent == b"PONG\r\n"  # the broker's PING answered


def test_a_pull_takes_its_whole_batch_and_leaves_the_rest_unread():
    reader = reader_over([delivery_with_headers(1, b"a") + delivery_with_headers(2, b"b")[:10], delivery_with_headers(2, b"b")[10:]])

    messages = reader.pull("$JS.API.CONSUMER.MSG.NEXT.FP_INTAKE.r", 2)

    assert [m.sequence for m in messages] == [1, 2]
    assert json.loads(reader.socket.sent.split(b"\r\n")[1]) == {"batch": 2, "expires": 30_000_000_000}


def test_a_pull_the_broker_ends_short_gives_what_arrived():
    reader = reader_over([delivery_with_headers(1, b"a") + status(b"408", 2)])

    assert [m.sequence for m in reader.pull("$JS.API.CONSUMER.MSG.NEXT.FP_INTAKE.r", 3)] == [1]


def test_a_pull_the_broker_ends_with_nothing_is_a_stalled_replay():
    reader = reader_over([status(b"408", 3)])

    with pytest.raises(ReplayStalledError, match="408"):
        reader.pull("$JS.API.CONSUMER.MSG.NEXT.FP_INTAKE.r", 3)


def test_an_error_from_the_broker_ends_the_replay_with_its_words():
    reader = reader_over([delivery_with_headers(1, b"x") + b"-ERR 'Maximum Connections Exceeded'\r\n"])

    with pytest.raises(ReplayConnectionError, match="Maximum Connections Exceeded"):
        reader.pull("$JS.API.CONSUMER.MSG.NEXT.FP_INTAKE.r", 2)


def test_a_closed_connection_ends_the_replay():
    with pytest.raises(ReplayConnectionError, match="closed"):
        reader_over([]).pull("$JS.API.CONSUMER.MSG.NEXT.FP_INTAKE.r", 1)


def test_a_silent_broker_is_a_stalled_replay():
    class SilentSocket(FakeSocket):
        def recv(self, _: int) -> bytes:
            raise TimeoutError

    with pytest.raises(ReplayStalledError, match="sent nothing"):
        StreamReader(SilentSocket([])).pull("$JS.API.CONSUMER.MSG.NEXT.FP_INTAKE.r", 1)  # type: ignore[arg-type]
