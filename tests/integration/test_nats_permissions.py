"""The broker itself enforces who may do what (CONTRACT.md, Authentication): a real
nats-server with the platform's NKey users and permission table (nats_permissions.json).

A refused JetStream publish gets no PubAck (the server answers the client with a
permissions violation instead), so each refusal is checked three ways: no PubAck,
the violation reported on the connection, and nothing stored."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from cli.platform import ALL_CONSUMERS, provision_platform
from shared.messaging.credentials import (
    NatsCredentials,
    ensure_credentials,
    new_seed,
    public_keys,
    receipts_consumer,
)
from shared.messaging.nats_authorization import permissions
from shared.messaging.nats_server import EmbeddedNatsServer
from shared.messaging.replay import ReplayConnectionError, StreamReader, replay_consumer, replay_stream
from shared.messaging.topology import COUNTY_INBOX, COUNTY_INBOX_MAX_AGE_SECONDS

REFUSAL_TIMEOUT = 1.5
PUBLISHERS = [user for user, grant in permissions().items() if grant.source is not None]
NOT_PROVISIONER = [user for user in permissions() if user != "provisioner"]
TOWNSHIPS = sorted(user.removeprefix("township-") for user in PUBLISHERS if user.startswith("township-"))


@pytest.fixture
def credentials(tmp_path: Path) -> dict[str, NatsCredentials]:
    return ensure_credentials(tmp_path / "credentials")


@pytest.fixture
def secured_nats_server(tmp_path: Path, credentials) -> Iterator[EmbeddedNatsServer]:
    server = EmbeddedNatsServer(tmp_path / "nats", public_keys=public_keys(credentials)).start()
    try:
        asyncio.run(provision_platform(server.url, credentials=credentials["provisioner"]))
        yield server
    finally:
        server.kill()


class Client:
    """A connection as one user, recording what the server refused it."""

    def __init__(self, connection, errors: list[str]) -> None:
        self.connection, self.errors = connection, errors
        self.js = connection.jetstream()

    def violations(self) -> list[str]:
        return [error for error in self.errors if "permissions violation" in error.lower()]


@pytest.fixture
async def connect(secured_nats_server, credentials) -> AsyncIterator:
    opened: list[Client] = []

    async def as_user(user: str) -> Client:
        errors: list[str] = []

        async def on_error(error: Exception) -> None:
            errors.append(str(error))

        connection = await nats.connect(secured_nats_server.url, error_cb=on_error, connect_timeout=3, **credentials[user].connect_options())
        opened.append(Client(connection, errors))
        return opened[-1]

    yield as_user
    for client in opened:
        await client.connection.close()


async def refused_publish(client: Client, subject: str) -> str | None:
    """None when the server refused the JetStream publish; otherwise what happened."""
    try:
        ack = await client.js.publish(subject, b'{"forged": true}', headers={"Nats-Msg-Id": f"forged-{subject}"}, timeout=REFUSAL_TIMEOUT)
        return f"PubAck {ack}"
    except nats.errors.TimeoutError:
        return None


async def stored(js, stream: str) -> int:
    return (await js.stream_info(stream)).state.messages


def foreign_subjects(user: str) -> list[str]:
    """Subjects a publisher must not use: every other publisher's, and the platform's own."""
    grant = permissions()[user]
    others = ["county.police.birth.registered", "county.health.death.reported", "county.drug.sale.recorded",
              "county.pension.status.changed", "county.petitions.petition.received", "county.hotline.tip.received",
              "county.online_hall.satisfaction.rated", f"township.{TOWNSHIPS[0]}.application.submitted",
              f"township.{TOWNSHIPS[-1]}.followup.recorded"]
    mine = [s.removesuffix(">") for s in grant.publish if not s.startswith("$")]
    return [s for s in others if not any(s.startswith(prefix) for prefix in mine)] + [
        "fp.intake.accepted.police.birth.registered",
        "fp.enforcement.case.opened",
        "fp.verification.application.approved",
        f"fp.receipts.{grant.source}",  # a forged receipt, even on its own receipt subject
        "fp.dlq.intake.rejected.police",
    ]


async def test_each_publisher_is_refused_on_every_subject_it_must_not_use(connect):
    provisioner = await connect("provisioner")
    before = {stream: await stored(provisioner.js, stream) for stream in ("COUNTY_INBOX", "FP_INTAKE", "FP_ENFORCEMENT", "FP_VERIFICATION", "RECEIPTS", "DEAD_LETTERS")}

    async def attempts(user: str) -> list[str]:
        client = await connect(user)
        subjects = foreign_subjects(user)
        outcomes = await asyncio.gather(*(refused_publish(client, subject) for subject in subjects))
        wrong = [f"{user} → {subject}: {outcome}" for subject, outcome in zip(subjects, outcomes) if outcome is not None]
        if len(client.violations()) < len(subjects):
            wrong.append(f"{user}: {len(client.violations())} violations reported for {len(subjects)} refusals")
        return wrong

    failures = [line for lines in await asyncio.gather(*(attempts(user) for user in PUBLISHERS)) for line in lines]
    assert failures == []
    after = {stream: await stored(provisioner.js, stream) for stream in before}
    assert after == before


async def test_each_publisher_may_publish_its_own_subjects(connect):
    for user in ("police", "health", "online_hall", f"township-{TOWNSHIPS[3]}"):
        client = await connect(user)
        subject = "township.{}.application.submitted".format(TOWNSHIPS[3]) if user.startswith("township-") else f"county.{user}.anything"
        ack = await client.js.publish(subject, b"{}", headers={"Nats-Msg-Id": f"own-{user}"}, timeout=5)
        assert ack.stream == "COUNTY_INBOX" and not ack.duplicate


async def test_a_township_cannot_publish_as_another_township(connect):
    first, second = TOWNSHIPS[0], TOWNSHIPS[1]
    client = await connect(f"township-{first}")
    assert await refused_publish(client, f"township.{second}.application.submitted") is None
    assert await refused_publish(client, f"township.{second}.beneficiary.reported") is None
    assert (await client.js.publish(f"township.{first}.application.submitted", b"{}", timeout=5)).stream == "COUNTY_INBOX"


@pytest.mark.parametrize(("user", "subject"), [
    ("verification", "fp.intake.accepted.township.application.submitted"),
    ("enforcement", "fp.intake.accepted.hotline.tip.received"),
    ("reporting", "fp.intake.accepted.police.birth.registered"),
    ("intake", "fp.enforcement.case.opened"),
    ("verification", "fp.enforcement.case.opened"),
    ("reporting", "fp.enforcement.case.opened"),
    ("enforcement", "fp.verification.subsidy.signal_raised"),
    ("reporting", "fp.receipts.police"),
    ("verification", "fp.dlq.intake.rejected.police"),
    ("case-stream", "fp.enforcement.case.opened"),
    ("auditor", "fp.intake.accepted.police.birth.registered"),
    ("agency-police", "fp.enforcement.shared.police"),
    ("provisioner", "fp.enforcement.case.opened"),
    ("provisioner", "county.police.birth.registered"),
])
async def test_a_forged_integration_event_from_a_non_owner_is_refused(connect, user, subject):
    client = await connect(user)
    assert await refused_publish(client, subject) is None
    assert client.violations()


async def test_each_service_publishes_its_own_events(connect):
    for user, subject in (("intake", "fp.intake.accepted.x"), ("intake", "fp.receipts.police"), ("verification", "fp.verification.x"),
                          ("enforcement", "fp.enforcement.case.opened"), ("reporting", "fp.dlq.reporting.reporting-intake")):
        client = await connect(user)
        assert (await client.js.publish(subject, b"{}", timeout=5)).seq > 0


async def test_only_the_provisioner_may_purge_delete_or_change_a_stream(connect):
    async def refused(client: Client, attempt) -> bool:
        try:
            await attempt
            return False
        except nats.errors.TimeoutError:
            return True

    async def attempts(user: str) -> list[str]:
        client = await connect(user)
        jsm = client.js
        tries = {
            "purge DEAD_LETTERS": jsm.purge_stream("DEAD_LETTERS"),
            "delete RECEIPTS": jsm.delete_stream("RECEIPTS"),
            "update COUNTY_INBOX": jsm.update_stream(StreamConfig(name="COUNTY_INBOX", subjects=["county.>", "township.>"], max_age=1)),
            "create a stream": jsm.add_stream(StreamConfig(name=f"ROGUE_{user.replace('-', '_')}", subjects=[f"rogue.{user}"])),
            "delete intake's durable": jsm.delete_consumer("COUNTY_INBOX", "intake"),
            "delete reporting's durable": jsm.delete_consumer("FP_INTAKE", "reporting-intake"),
        }
        outcomes = await asyncio.gather(*(refused(client, attempt) for attempt in tries.values()))
        return [f"{user}: {name} was allowed" for name, ok in zip(tries, outcomes) if not ok]

    failures = [line for lines in await asyncio.gather(*(attempts(user) for user in NOT_PROVISIONER)) for line in lines]
    assert failures == []
    provisioner = await connect("provisioner")
    names = {info.config.name for info in await provisioner.js.streams_info()}
    assert {"COUNTY_INBOX", "RECEIPTS", "DEAD_LETTERS"} <= names and not any(name.startswith("ROGUE") for name in names)
    assert {c.name for c in await provisioner.js.consumers_info("COUNTY_INBOX")} == {"intake"}
    # …while the provisioner may.
    assert await provisioner.js.purge_stream("DEAD_LETTERS")
    await provisioner.js.add_stream(StreamConfig(name="SCRATCH", subjects=["scratch.>"]))
    assert await provisioner.js.delete_stream("SCRATCH")


async def test_a_client_without_valid_credentials_is_refused_at_connect(secured_nats_server, tmp_path):
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(secured_nats_server.url, allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=3)
    unknown = tmp_path / "stranger.nk"
    unknown.write_bytes(new_seed())
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(secured_nats_server.url, nkeys_seed=str(unknown), allow_reconnect=False, max_reconnect_attempts=0, connect_timeout=3)


async def test_the_replay_reader_authenticates_as_its_user_and_nobody_else(secured_nats_server, credentials, connect):
    with pytest.raises(ReplayConnectionError, match="Authorization Violation"):
        StreamReader.open(secured_nats_server.url)
    intake = await connect("intake")
    for n in range(5):
        await intake.js.publish(f"fp.intake.accepted.n{n}", b'{"n": %d}' % n, timeout=5)
    reporting = await connect("reporting")
    seen: list[bytes] = []

    async def on_batch(messages) -> None:
        seen.extend(m.data for m in messages)

    assert await replay_stream(reporting.js, "FP_INTAKE", ("fp.intake.>",), on_batch, batch=2) == 5
    assert json.loads(seen[-1]) == {"n": 4}
    # A publisher may not replay the platform's streams.
    police = await connect("police")
    with pytest.raises(nats.errors.TimeoutError):
        async with replay_consumer(police.js, "FP_INTAKE", ("fp.intake.>",)):
            pass


async def test_a_publisher_reads_its_own_receipts_and_no_other(connect):
    intake = await connect("intake")
    police, health = await connect("police"), await connect("health")
    live = await police.connection.subscribe("fp.receipts.police")
    for source in ("police", "health", "police"):
        await intake.js.publish(f"fp.receipts.{source}", json.dumps({"record_id": f"R-{source}", "accepted": True}).encode(), timeout=5)
    assert json.loads((await live.next_msg(timeout=5)).data)["record_id"] == "R-police"

    # Through its own consumer on RECEIPTS, created with the filter fixed in the subject.
    name = receipts_consumer("police")
    config = ConsumerConfig(name=name, durable_name=name, filter_subject="fp.receipts.police", ack_policy=AckPolicy.EXPLICIT)
    await police.js.add_consumer("RECEIPTS", config)
    pulled = await police.js.pull_subscribe_bind(name, stream="RECEIPTS")
    messages = await pulled.fetch(5, timeout=3)
    assert [json.loads(m.data)["record_id"] for m in messages] == ["R-police", "R-police"]
    for message in messages:
        await message.ack_sync()

    # Not another's: neither its filter, nor its consumer, nor a core subscription, nor the inboxes.
    refusals = [
        police.js.add_consumer("RECEIPTS", ConsumerConfig(name=name, durable_name=name, filter_subject="fp.receipts.health"), timeout=REFUSAL_TIMEOUT),
        police.js.add_consumer("RECEIPTS", ConsumerConfig(name="mine", durable_name="mine", filter_subject="fp.receipts.health"), timeout=REFUSAL_TIMEOUT),
        police.js.add_consumer("RECEIPTS", ConsumerConfig(filter_subject="fp.receipts.>"), timeout=REFUSAL_TIMEOUT),
        police.js.add_consumer("RECEIPTS", ConsumerConfig(name=receipts_consumer("health"), filter_subject="fp.receipts.health"), timeout=REFUSAL_TIMEOUT),
        police.js.consumer_info("COUNTY_INBOX", "intake", timeout=REFUSAL_TIMEOUT),
    ]
    for attempt in refusals:
        with pytest.raises(nats.errors.TimeoutError):
            await attempt
    health_consumer = receipts_consumer("health")
    await health.js.add_consumer("RECEIPTS", ConsumerConfig(name=health_consumer, durable_name=health_consumer, filter_subject="fp.receipts.health"))
    with pytest.raises(nats.errors.TimeoutError):
        await police.connection.request(f"$JS.API.CONSUMER.MSG.NEXT.RECEIPTS.{health_consumer}", b'{"batch": 1}', timeout=REFUSAL_TIMEOUT)
    before = len(police.violations())
    for subject in ("fp.receipts.health", "fp.receipts.>", "county.>", "_INBOX.>", "_INBOX_intake.>", ">"):
        await police.connection.subscribe(subject)
    await police.connection.flush()
    await asyncio.sleep(0.3)
    assert len(police.violations()) - before >= 6
    assert len(await (await health.js.pull_subscribe_bind(health_consumer, stream="RECEIPTS")).fetch(5, timeout=3)) == 1


async def test_an_agency_tool_reads_only_the_views_shared_with_its_agency(connect):
    enforcement = await connect("enforcement")
    for agency in ("police", "health", "police"):
        await enforcement.js.publish(f"fp.enforcement.shared.{agency}", json.dumps({"agency": agency}).encode(), timeout=5)
    await enforcement.js.publish("fp.enforcement.case.opened", b'{"case": 1}', timeout=5)
    tool = await connect("agency-police")
    config = ConsumerConfig(name="agency-police", durable_name="agency-police", filter_subject="fp.enforcement.shared.police")
    await tool.js.add_consumer("FP_ENFORCEMENT", config)
    messages = await (await tool.js.pull_subscribe_bind("agency-police", stream="FP_ENFORCEMENT")).fetch(10, timeout=3)
    assert [json.loads(m.data)["agency"] for m in messages] == ["police", "police"]
    with pytest.raises(nats.errors.TimeoutError):
        await tool.js.add_consumer("FP_ENFORCEMENT", ConsumerConfig(name="agency-police", filter_subject="fp.enforcement.case.>"), timeout=REFUSAL_TIMEOUT)
    with pytest.raises(nats.errors.TimeoutError):
        await tool.js.add_consumer("FP_ENFORCEMENT", ConsumerConfig(filter_subject="fp.enforcement.>"), timeout=REFUSAL_TIMEOUT)


async def test_services_pull_only_from_their_own_durables(connect):
    for user, stream, durable in (("reporting", "COUNTY_INBOX", "intake"), ("reporting", "FP_INTAKE", "verification"),
                                  ("verification", "FP_INTAKE", "enforcement"), ("case-stream", "FP_ENFORCEMENT", "reporting-enforcement"),
                                  ("auditor", "FP_INTAKE", "reporting-intake")):
        client = await connect(user)
        with pytest.raises(nats.errors.TimeoutError):
            await client.connection.request(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}", b'{"batch": 1, "no_wait": true}', timeout=REFUSAL_TIMEOUT)
        assert client.violations(), (user, durable)
    intake = await connect("intake")
    answer = await intake.connection.request("$JS.API.CONSUMER.MSG.NEXT.COUNTY_INBOX.intake", b'{"batch": 1, "no_wait": true}', timeout=5)
    assert answer.headers and answer.headers.get("Status") == "404"  # allowed: nothing there yet


async def test_provisioning_sets_county_inbox_retention_also_on_an_existing_stream(connect, secured_nats_server, credentials):
    provisioner = await connect("provisioner")
    info = await provisioner.js.stream_info("COUNTY_INBOX")
    assert info.config.max_age == pytest.approx(COUNTY_INBOX_MAX_AGE_SECONDS)
    # A stream made by an older release (no max age) gets one at the next provisioning.
    await provisioner.js.update_stream(StreamConfig(name="COUNTY_INBOX", subjects=["county.>", "township.>"], max_age=0, allow_atomic=True, duplicate_window=600))
    assert not (await provisioner.js.stream_info("COUNTY_INBOX")).config.max_age
    await provision_platform(secured_nats_server.url, credentials=credentials["provisioner"])
    assert (await provisioner.js.stream_info("COUNTY_INBOX")).config.max_age == pytest.approx(COUNTY_INBOX_MAX_AGE_SECONDS)
    assert {c.name for c in await provisioner.js.consumers_info("COUNTY_INBOX")} == {spec.durable for spec in ALL_CONSUMERS if spec.stream == "COUNTY_INBOX"}


async def test_intake_works_as_its_own_user_and_receipts_a_source_mismatch_to_the_real_sender(connect, secured_nats_server, credentials, key_dir, tmp_path):
    from services.intake.bootstrap import bootstrap
    from services.intake.settings import IntakeSettings
    from support import running, sample

    store_url = f"sqlite:///{tmp_path / 'intake.db'}"
    settings = IntakeSettings(nats_url=secured_nats_server.url, store_url=store_url, keystore_url=store_url, key_dir=key_dir,
                              nats_nkey_seed_file=credentials["intake"].nkey_seed)
    subject, message = sample("police.birth.registered")
    claiming_health = dict(message, record_id="PSB-CLAIMS-HEALTH", source="health")
    police, health = await connect("police"), await connect("health")
    police_receipts = await police.connection.subscribe("fp.receipts.police")
    health_receipts = await health.connection.subscribe("fp.receipts.health")
    async with running(bootstrap(settings)):
        for record in (message, claiming_health):
            await police.js.publish(subject, json.dumps(record).encode(), headers={"Nats-Msg-Id": record["record_id"]}, timeout=5)
        receipts = {r["record_id"]: r for r in [json.loads((await police_receipts.next_msg(timeout=20)).data) for _ in range(2)]}
    assert receipts[message["record_id"]]["accepted"] is True
    rejected = receipts["PSB-CLAIMS-HEALTH"]
    assert rejected["accepted"] is False and [e["field"] for e in rejected["errors"]] == ["source"]
    with pytest.raises(nats.errors.TimeoutError):
        await health_receipts.next_msg(timeout=0.5)


async def test_only_intake_may_delete_a_single_inbox_message_for_an_erasure_and_nothing_else(connect):
    police = await connect("police")
    kept = await police.js.publish("county.police.birth.registered", b"{}", timeout=5)
    erased = await police.js.publish("county.police.birth.registered", b"{}", timeout=5)
    receipt = await (await connect("intake")).js.publish("fp.receipts.police", b"{}", timeout=5)

    async def allowed(user: str, stream: str, seq: int) -> bool:
        try:
            return await (await connect(user)).connection.jetstream(timeout=REFUSAL_TIMEOUT).delete_msg(stream, seq)
        except nats.errors.TimeoutError:  # the server refused the request: no answer
            return False

    others = [user for user in NOT_PROVISIONER if user != "intake"]
    assert not any(await asyncio.gather(*(allowed(user, COUNTY_INBOX, kept.seq) for user in others)))
    assert not await allowed("intake", "RECEIPTS", receipt.seq)
    assert await allowed("intake", COUNTY_INBOX, erased.seq)
    inbox = (await connect("provisioner")).js
    assert (await inbox.get_msg(COUNTY_INBOX, kept.seq)).seq == kept.seq
    with pytest.raises(nats.js.errors.NotFoundError):
        await inbox.get_msg(COUNTY_INBOX, erased.seq)
