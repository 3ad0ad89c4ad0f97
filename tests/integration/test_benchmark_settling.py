"""The benchmark measures latency at a fixed offered load only once the platform has
settled: every consumer the platform pulls caught up, no stream growing. Real broker."""

from __future__ import annotations

import pytest

from cli.bench.load import wait_until_settled


async def test_a_freshly_provisioned_platform_is_settled(nats_server, js):
    waited = await wait_until_settled(nats_server.url, timeout=5, quiet_for=0.1)

    assert 0 < waited < 5


async def test_a_record_intake_has_not_handled_keeps_the_platform_unsettled_and_the_error_names_the_consumer(nats_server, js):
    await js.publish("county.police.birth.registered", b"{}")

    with pytest.raises(TimeoutError, match="intake: 1 pending"):
        await wait_until_settled(nats_server.url, timeout=0.3, quiet_for=0.1)


async def test_once_intake_has_acknowledged_the_record_the_platform_settles(nats_server, js):
    await js.publish("county.police.birth.registered", b"{}")
    intake = await js.pull_subscribe_bind(durable="intake", stream="COUNTY_INBOX")
    for message in await intake.fetch(1, timeout=2):
        await message.ack_sync()

    assert await wait_until_settled(nats_server.url, timeout=5, quiet_for=0.1) < 5
