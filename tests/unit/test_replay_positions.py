"""A replayed message's stream and stream sequence, read from its reply subject the way
nats-py's Msg.metadata reads them (a rebuild skips the rest of the metadata)."""

from __future__ import annotations

import pytest
from nats.aio.msg import Msg

from shared.messaging.replay import stream_position

REPLIES = [
    "$JS.ACK.FP_INTAKE.replay-1a2b3c.1.421337.17.1764339000000000000.5",  # without a domain (9 tokens)
    "$JS.ACK.hub.ACCOUNTHASH.FP_VERIFICATION.replay-9f.2.88.12.1764339000000000000.0.r4nd0m",  # with a domain (12 tokens)
    "$JS.ACK._.ACCOUNTHASH.FP_ENFORCEMENT.replay-7.1.9000000001.3.1764339000000000000.0.x",  # domain "_" (none)
]


@pytest.mark.parametrize("reply", REPLIES)
def test_the_stream_and_its_sequence_are_those_nats_py_reads(reply):
    metadata = Msg(_client=None, subject="fp.intake.accepted.x", reply=reply).metadata

    assert stream_position(reply) == (metadata.stream, metadata.sequence.stream)
