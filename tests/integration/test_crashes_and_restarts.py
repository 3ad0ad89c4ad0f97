"""The platform as separate processes: SIGKILL a service or restart the broker mid-stream,
and compare counts end to end: nothing accepted is lost, nothing is counted twice."""

from __future__ import annotations

import asyncio

import pytest

from cli.bench import access
from cli.platform import Platform
from support import eventually, numbered_records, publish_until_acked, reported_totals, stream_count
from tests.identity_support import platform_officers

RECORDS = 240


async def as_publishers(platform: Platform):
    """Each record over its own publisher's NKey connection, as the county systems publish;
    stream counts read as the provisioner (cli/bench/access.py)."""
    access.register(platform)
    return await access.connect(platform.nats_url)


@pytest.fixture(params=["sqlite", "postgres"])
def platform(request, tmp_path):
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    running = Platform(tmp_path / "fpb", database_url=database_url)
    running.start()
    yield running
    running.stop()


async def wait_for_every_record(platform: Platform, js) -> dict[str, int]:
    expected = {"accepted": RECORDS, "applications": RECORDS // 3, "cases": RECORDS // 3}
    reporting, auditor = platform.services["reporting"].url, platform_officers(platform, "sj-auditor")
    await eventually(lambda: reported_totals(reporting, auditor) == expected, timeout=90, every=0.5)
    # And nothing twice in the streams between services either.
    assert await stream_count(js, "FP_INTAKE", "fp.intake.accepted.>") == RECORDS
    # Each application is opened and checked once.
    assert await stream_count(js, "FP_VERIFICATION", "fp.verification.application.opened") == RECORDS // 3
    assert await stream_count(js, "FP_VERIFICATION", "fp.verification.application.checked") == RECORDS // 3
    assert await stream_count(js, "FP_ENFORCEMENT") == RECORDS // 3
    return reported_totals(reporting, auditor)


async def test_killing_services_with_sigkill_mid_stream_loses_and_duplicates_nothing(platform):
    connection = await as_publishers(platform)
    js = connection.jetstream()
    for n, (subject, message) in enumerate(numbered_records(RECORDS)):
        await publish_until_acked(js, subject, message)
        if n == RECORDS // 4:
            platform.services["intake"].kill()
        if n == RECORDS // 3:
            platform.restart("intake")
        if n == RECORDS // 2:
            platform.services["verification"].kill()
            platform.services["reporting"].kill()
        if n == 2 * RECORDS // 3:
            platform.restart("verification")
            platform.restart("reporting")
        if n == 3 * RECORDS // 4:
            platform.services["enforcement"].kill()
            platform.restart("enforcement")
    await wait_for_every_record(platform, js)
    await connection.close()


async def test_restarting_the_broker_while_publishers_keep_publishing_loses_nothing(platform):
    connection = await as_publishers(platform)
    js = connection.jetstream()
    published = 0

    async def keep_publishing() -> None:
        nonlocal published
        for subject, message in numbered_records(RECORDS):
            await publish_until_acked(js, subject, message)
            published += 1

    publisher = asyncio.create_task(keep_publishing())
    await eventually(lambda: published >= RECORDS // 2, timeout=60, every=0.01)
    platform.nats_server.stop()
    await asyncio.sleep(1.5)  # the publisher keeps trying meanwhile
    platform.nats_server.start()
    await publisher
    await wait_for_every_record(platform, js)
    for service in platform.services.values():
        assert service.is_ready(), f"{service.name} did not reconnect"
    await connection.close()
