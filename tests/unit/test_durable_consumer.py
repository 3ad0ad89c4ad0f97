"""The durable consumer decides per message: ack, retry, dead-letter, or (when the
store is unreachable) hold the message without using up an attempt. Every log line
written while handling carries the message's correlation and causation ids."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime, timezone

import pytest
import structlog
from eventsourcing import persistence
from sqlalchemy import exc as sa

from shared.messaging import consumer as consumer_module
from shared.messaging.consumer import DurableConsumer, PermanentError, is_outage
from shared.messaging.topology import ConsumerSpec
from shared.observability.logging import configure_logging
from shared.observability.metrics import ServiceMetrics

SPEC = ConsumerSpec("COUNTY_INBOX", "intake", ("county.>",), max_attempts=3, backoff_seconds=(0.5, 2.0))
SUBJECT = "county.police.birth.registered"


class FakeMessage:
    """A pulled JetStream message: records what the consumer answers the broker."""

    def __init__(self, seq: int = 1, num_delivered: int = 1, headers: dict[str, str] | None = None) -> None:
        self.subject, self.data = SUBJECT, b'{"record_id": "PSB-1"}'
        self.headers = {"Nats-Msg-Id": f"PSB-{seq}", **(headers or {})}
        published_ns = int(datetime(2026, 3, 9, tzinfo=timezone.utc).timestamp()) * 10**9
        self.reply = f"$JS.ACK.COUNTY_INBOX.intake.{num_delivered}.{seq}.{seq}.{published_ns}.0"
        self.answers: list = []

    async def ack(self) -> None:
        self.answers.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.answers.append(("nak", delay))

    async def in_progress(self) -> None:
        self.answers.append("in_progress")


class FakePublisher:
    def __init__(self) -> None:
        self.published: list = []

    async def publish(self, message) -> None:
        self.published.append(json.loads(message.body))


class FailingThen:
    """A handler that raises each of `errors` in turn, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, delivery) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def store_unreachable() -> Exception:
    return sa.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@pytest.fixture(autouse=True)
def quick_outage_retries(monkeypatch):
    monkeypatch.setattr(consumer_module, "OUTAGE_RETRY_FIRST_SECONDS", 0.01)
    monkeypatch.setattr(consumer_module, "OUTAGE_RETRY_MAX_SECONDS", 0.02)


@pytest.fixture
def dead_letters() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def consumer_of(dead_letters):
    return lambda handler: DurableConsumer(SPEC, handler, dead_letters, ServiceMetrics("intake"))  # type: ignore[arg-type]


# --- what counts as an outage -----------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        store_unreachable(),
        sa.InterfaceError("SELECT 1", {}, Exception("connection already closed")),
        sa.DBAPIError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True),
        persistence.OperationalError("could not connect to server"),
        ConnectionRefusedError("key store refused"),
        TimeoutError("timed out"),
    ],
    ids=["sqlalchemy-operational", "sqlalchemy-interface", "invalidated-connection", "eventsourcing-operational", "refused", "timeout"],
)
def test_an_unreachable_database_or_key_store_is_an_outage(error):
    assert is_outage(error)


def test_an_outage_wrapped_in_another_error_is_still_an_outage():
    try:
        try:
            raise store_unreachable()
        except sa.OperationalError as cause:
            raise RuntimeError("could not save the submission") from cause
    except RuntimeError as wrapped:
        assert is_outage(wrapped)


@pytest.mark.parametrize(
    "error",
    [ValueError("bad date"), KeyError("township_code"), PermanentError("unknown type"),
     sa.DBAPIError("INSERT", {}, Exception("value too long"), connection_invalidated=False)],
    ids=["value", "key", "permanent", "dbapi-without-lost-connection"],
)
def test_a_fault_of_the_message_itself_is_not_an_outage(error):
    assert not is_outage(error)


# --- outages hold the message ----------------------------------------------------------------


async def test_a_store_outage_on_the_last_attempt_holds_the_message_until_the_store_answers(consumer_of, dead_letters):
    handler = FailingThen(store_unreachable(), store_unreachable())
    message = FakeMessage(num_delivered=SPEC.max_attempts)

    await consumer_of(handler).handle_one(message)

    assert handler.calls == 3
    assert message.answers == ["in_progress", "in_progress", "ack"], "never nak-ed: no attempt used up"
    assert dead_letters.published == []


async def test_the_messages_pulled_behind_a_held_one_are_kept_from_redelivery(consumer_of):
    first, behind = FakeMessage(seq=1), FakeMessage(seq=2)

    await consumer_of(FailingThen(store_unreachable())).handle_one(first, held=[behind])

    assert behind.answers == ["in_progress"]


async def test_a_batch_refused_by_an_outage_is_handled_one_by_one_once_the_store_is_back(consumer_of, dead_letters):
    class BatchDuringOutage(FailingThen):
        async def handle_many(self, deliveries):
            raise store_unreachable()

    messages = [FakeMessage(seq=1, num_delivered=SPEC.max_attempts), FakeMessage(seq=2, num_delivered=SPEC.max_attempts)]

    await consumer_of(BatchDuringOutage(store_unreachable())).handle_many(messages)

    assert [m.answers[-1] for m in messages] == ["ack", "ack"]
    assert dead_letters.published == []


async def test_stopping_during_an_outage_leaves_the_message_for_redelivery_without_a_dead_letter(consumer_of, dead_letters):
    consumer = consumer_of(FailingThen(*[store_unreachable()] * 1000))
    consumer._stop.set()
    message = FakeMessage(num_delivered=SPEC.max_attempts)

    await consumer.handle_one(message)

    assert message.answers == []
    assert dead_letters.published == []


async def test_an_outage_looking_error_against_dependencies_that_answer_is_an_ordinary_failure(consumer_of, dead_letters):
    # e.g. "no such table" (an OperationalError) from a bug, while the database is up
    consumer = consumer_of(FailingThen(*[store_unreachable()] * 1000))
    asked = []

    async def nothing_is_down() -> bool:
        asked.append(True)
        return False

    consumer.unreachable = nothing_is_down
    message = FakeMessage(num_delivered=SPEC.max_attempts)

    await consumer.handle_one(message)

    assert asked and message.answers == ["ack"], "not held: its last attempt is used"
    assert [letter["reason"] for letter in dead_letters.published] == ["max_attempts"]


async def test_a_confirmed_outage_is_held_until_the_dependency_answers(consumer_of, dead_letters):
    handler = FailingThen(store_unreachable(), store_unreachable())
    consumer = consumer_of(handler)
    down = [True, True]

    async def store_down() -> bool:
        return down.pop(0) if down else False

    consumer.unreachable = store_down
    message = FakeMessage(num_delivered=SPEC.max_attempts)

    await consumer.handle_one(message)

    assert handler.calls == 3 and message.answers == ["in_progress", "in_progress", "ack"]
    assert dead_letters.published == []


# --- poison messages still go to the dead-letter stream ------------------------------------------


async def test_a_genuine_failure_before_the_last_attempt_is_retried_with_a_delay(consumer_of, dead_letters):
    message = FakeMessage(num_delivered=1)

    await consumer_of(FailingThen(ValueError("bad date"))).handle_one(message)

    assert message.answers == [("nak", 0.5)]
    assert dead_letters.published == []


async def test_a_genuine_failure_on_the_last_attempt_is_dead_lettered_with_its_reason(consumer_of, dead_letters):
    message = FakeMessage(num_delivered=SPEC.max_attempts)

    await consumer_of(FailingThen(ValueError("bad date"))).handle_one(message)

    assert message.answers == ["ack"]
    [letter] = dead_letters.published
    assert (letter["reason"], letter["error"], letter["attempts"]) == ("max_attempts", "ValueError: bad date", 3)


async def test_a_permanent_error_is_dead_lettered_at_once(consumer_of, dead_letters):
    message = FakeMessage(num_delivered=1)

    await consumer_of(FailingThen(PermanentError("unknown event type"))).handle_one(message)

    assert message.answers == ["ack"]
    assert [letter["reason"] for letter in dead_letters.published] == ["permanent"]


# --- correlation and causation ids in the logs ---------------------------------------------


@pytest.fixture
def json_log_lines():
    """The JSON log lines written during the test, parsed: the services' logging
    configuration, printing into a buffer (stderr changes hands in async tests)."""
    configure_logging("intake")
    written = io.StringIO()
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=written))
    yield lambda: [json.loads(line) for line in written.getvalue().splitlines()]
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


class LoggingHandler:
    """Logs one line per message (from a worker thread, as the store calls run), and
    one per batch."""

    def __init__(self) -> None:
        self.log = structlog.get_logger("handler")

    async def __call__(self, delivery) -> str:
        await asyncio.to_thread(self.log.info, "handling", record=delivery.message_id)
        return "ok"

    async def handle_many(self, deliveries) -> list[str]:
        await asyncio.to_thread(self.log.info, "handling_batch", size=len(deliveries))
        return ["ok"] * len(deliveries)


async def test_a_log_line_written_while_handling_one_message_carries_its_correlation_and_causation_ids(consumer_of, json_log_lines):
    message = FakeMessage(seq=7, headers={"Fp-Correlation-Id": "HL-2026-000642"})

    await consumer_of(LoggingHandler()).handle_one(message)

    [line] = [line for line in json_log_lines() if line["event"] == "handling"]
    assert (line["correlation_id"], line["causation_id"]) == ("HL-2026-000642", "PSB-7")
    assert structlog.contextvars.get_contextvars().get("causation_id") is None, "unbound after the message"


async def test_a_message_without_a_correlation_header_is_its_own_correlation(consumer_of, json_log_lines):
    await consumer_of(LoggingHandler()).handle_one(FakeMessage(seq=8))

    [line] = [line for line in json_log_lines() if line["event"] == "handling"]
    assert (line["correlation_id"], line["causation_id"]) == ("PSB-8", "PSB-8")


async def test_a_log_line_written_while_handling_a_batch_carries_the_ids_of_every_message_in_it(consumer_of, json_log_lines):
    messages = [FakeMessage(seq=1, headers={"Fp-Correlation-Id": "corr-a"}), FakeMessage(seq=2)]

    await consumer_of(LoggingHandler()).handle_many(messages)

    [line] = [line for line in json_log_lines() if line["event"] == "handling_batch"]
    assert line["correlation_id"] == ["corr-a", "PSB-2"]
    assert line["causation_id"] == ["PSB-1", "PSB-2"]
    assert [m.answers for m in messages] == [["ack"], ["ack"]]


async def test_a_batch_that_falls_back_to_single_messages_logs_each_with_its_own_ids(consumer_of, json_log_lines):
    class RefusesBatches(LoggingHandler):
        async def handle_many(self, deliveries):
            raise ValueError("conflict in the batch")

    await consumer_of(RefusesBatches()).handle_many([FakeMessage(seq=1), FakeMessage(seq=2)])

    lines = [line for line in json_log_lines() if line["event"] == "handling"]
    assert [(line["record"], line["causation_id"]) for line in lines] == [("PSB-1", "PSB-1"), ("PSB-2", "PSB-2")]
