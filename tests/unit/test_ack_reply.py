"""A delivery's stream, sequence, delivery count and publish time, read from its reply
subject the way nats-py's Msg.metadata reads them (consumers and rebuilds skip the rest)."""

from __future__ import annotations

import pytest
from nats.aio.msg import Msg

from shared.messaging.ack_reply import read_ack_reply, stream_position

REPLIES = [
    "$JS.ACK.FP_INTAKE.replay-1a2b3c.1.421337.17.1764339000123456789.5",  # without a domain (9 tokens)
    "$JS.ACK.hub.ACCOUNTHASH.FP_VERIFICATION.reporting-verification.2.88.12.1764339000000000000.0.r4nd0m",  # with a domain (12 tokens)
    "$JS.ACK._.ACCOUNTHASH.FP_ENFORCEMENT.replay-7.4.9000000001.3.1764339000999999000.0.x",  # domain "_" (none)
]


@pytest.mark.parametrize("reply", REPLIES)
def test_the_fields_are_those_nats_py_reads(reply):
    metadata = Msg(_client=None, subject="fp.intake.accepted.x", reply=reply).metadata

    read = read_ack_reply(reply)

    assert stream_position(reply) == (metadata.stream, metadata.sequence.stream)
    assert (read.stream, read.stream_sequence, read.num_delivered) == (metadata.stream, metadata.sequence.stream, metadata.num_delivered)
    assert abs((read.published_at - metadata.timestamp).total_seconds()) < 1e-6
    assert read.published_at.tzinfo is not None
