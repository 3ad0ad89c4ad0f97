"""Durable pull consumers with bounded retries and a dead-letter stream.

The pull loop is our own, on the broker's nats-py connection: one inbox per consumer,
one pull request at a time (batch, expires), every message handled as soon as it
arrives, and a new request only once the previous one has ended (batch filled, or the
server's 408 at expiry). Measured on faststream 0.7.8 / nats-py 2.16: their `fetch`
under light traffic left messages delivered to an already-returned fetch unhandled
until ack_wait expired (10 of 200 messages waited 30 s). Here no delivery can be
stranded, since every message that reaches the inbox is handled.

Messages are handled strictly in order, one at a time, deciding per message: ack on
success; on failure nak with a growing delay; on the last allowed attempt, or for an
error that can never succeed, publish it to DEAD_LETTERS with its raw bytes and
reason, then ack, so the messages behind it keep flowing.

An outage (the store or key store unreachable) is not the message's fault: every
redelivery counts toward max_deliver, so nak-ing through a 30 s database restart would
dead-letter valid records. Instead the consumer holds the message (and stops pulling),
tells the broker it is still in progress, and retries until the store answers. An error
counts as an outage only when it is of a connection kind AND the service's readiness
checks confirm a dependency is down at that moment; otherwise it is an ordinary failure
(retried with backoff, then dead-lettered), so a bug can never hold a consumer forever.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import psycopg
import structlog
from eventsourcing import persistence
from nats.aio.client import Client
from nats.errors import ConnectionClosedError, NoServersError, TimeoutError as NatsTimeoutError
from sqlalchemy import exc as sa

from shared.contracts.integration import OutgoingMessage, json_bytes
from shared.messaging.ack_reply import read_ack_reply
from shared.messaging.publisher import Publisher
from shared.messaging.topology import ConsumerSpec
from shared.observability.metrics import ServiceMetrics, message_type

log = structlog.get_logger("consumer")


class PermanentError(Exception):
    """This message can never be handled (malformed, unknown type): dead-letter it now."""


# Errors that say the infrastructure is unreachable, not that the message is bad.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    sa.OperationalError,
    sa.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    persistence.ConnectionUnavailableError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    ConnectionClosedError,
    NoServersError,
    OSError,  # ConnectionError, timeouts (nats' TimeoutError is one too)
)
OUTAGE_RETRY_FIRST_SECONDS = 0.5
OUTAGE_RETRY_MAX_SECONDS = 5.0  # well under ack_wait, which every wait resets


def is_outage(error: BaseException) -> bool:
    """Whether `error`, or an error it was raised from, means "unreachable": libraries
    wrap driver errors (eventsourcing, SQLAlchemy), so the whole chain is examined."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, PermanentError):
            return False
        if isinstance(current, OUTAGE_ERRORS) or (isinstance(current, sa.DBAPIError) and current.connection_invalidated):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def log_ids(delivery: Delivery) -> dict[str, str]:
    """The ids every log line about this delivery carries."""
    return {
        "correlation_id": delivery.headers.get("Fp-Correlation-Id", delivery.message_id),
        "causation_id": delivery.message_id,
    }


def logging_for(delivery: Delivery):
    """Binds the delivery's correlation and causation ids to every log line inside
    (also in worker threads: asyncio.to_thread copies the context)."""
    return structlog.contextvars.bound_contextvars(**log_ids(delivery))


@dataclass(frozen=True)
class Delivery:
    subject: str
    body: bytes
    headers: dict[str, str]
    stream: str
    stream_sequence: int
    num_delivered: int
    published_at: datetime

    @property
    def message_id(self) -> str:
        """The publisher's de-duplication id, else the stream position."""
        return self.headers.get("Nats-Msg-Id") or f"{self.stream}:{self.stream_sequence}"


# A handler returns its outcome label for the metrics: "ok", "duplicate", "ignored".
Handler = Callable[[Delivery], Awaitable[str]]
# Handles several deliveries in one store transaction, all or nothing; returns one
# outcome per delivery. On any exception the consumer falls back to one at a time,
# where retries and dead letters are decided per message.
BatchHandler = Callable[[list[Delivery]], Awaitable[list[str]]]
# Turns the raw bytes of a dead letter into what may be stored (intake encrypts them).
RawProtector = Callable[[Delivery], dict]


def delivery_of(raw) -> Delivery:
    reply = read_ack_reply(raw.reply)
    return Delivery(
        subject=raw.subject,
        body=raw.data,
        headers=dict(raw.headers or {}),
        stream=reply.stream,
        stream_sequence=reply.stream_sequence,
        num_delivered=reply.num_delivered,
        published_at=reply.published_at,
    )


class DurableConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        handler: Handler,
        publisher: Publisher,
        metrics: ServiceMetrics,
        protect_raw: RawProtector | None = None,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self.spec = spec
        self._handler = handler
        # A handler object may bring its own batch method (handle_many).
        self._batch_handler = batch_handler or getattr(handler, "handle_many", None)
        self._publisher = publisher
        self._metrics = metrics
        self._protect_raw = protect_raw or (lambda d: {"raw_base64": base64.b64encode(d.body).decode()})
        # Whether the broker knows this durable consumer: readiness depends on it.
        self.present = False
        self._stop = asyncio.Event()  # replaced by run()'s: an outage wait ends with it
        # Whether the broker, the store or another dependency is unreachable right now (the
        # service's readiness checks, set by the assembly). An error that looks like an
        # outage is held only while this says so: a bug that raises, say, OperationalError
        # against a healthy database takes its attempts and is dead-lettered like any other.
        self.unreachable: Callable[[], Awaitable[bool]] | None = None

    async def run(self, connection: Client, stop: asyncio.Event) -> None:
        """Pull and handle until stopped; survives broker restarts (nats-py reconnects)."""
        inbox = connection.new_inbox()
        # The subscription hands each message to a queue of our own: nats-py's next_msg
        # starts a task and a timer per message (about 21 µs, on every delivery of every
        # consumer); here one wait per batch, and what has arrived is taken as it is. One
        # pull request at a time bounds the queue by the batch size.
        arrived: asyncio.Queue = asyncio.Queue()

        async def deliver(message) -> None:
            arrived.put_nowait(message)

        subscription = await connection.subscribe(inbox, cb=deliver)
        request = json.dumps({"batch": self.spec.batch_size, "expires": int(self.spec.pull_expires_seconds * 1e9)}).encode()
        next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{self.spec.stream}.{self.spec.durable}"
        missing_for = 0.0
        self._stop = stop
        try:
            await self._check_presence(connection)
            while not stop.is_set():
                try:
                    await connection.publish(next_subject, request, reply=inbox)
                    status = await self._handle_until_request_ends(arrived, stop)
                    if status == "503":  # no such consumer (not provisioned yet?): back off
                        self.present = False
                        missing_for = min(missing_for * 2 or 0.5, 5.0)
                        log.warning("consumer_missing", stream=self.spec.stream, durable=self.spec.durable, retry_in=missing_for)
                        await asyncio.sleep(missing_for)
                        continue
                    self.present, missing_for = True, 0.0
                    if status == "409":  # leadership change, consumer replaced…: ask again shortly
                        await asyncio.sleep(0.2)
                except (ConnectionClosedError, NatsTimeoutError, OSError) as error:
                    log.debug("pull_interrupted", consumer=self.spec.durable, error=repr(error))
                    await asyncio.sleep(0.5)
                except Exception:  # noqa: BLE001 - e.g. reconnecting: never let the loop die
                    log.exception("pull_failed", consumer=self.spec.durable)
                    await asyncio.sleep(1.0)
        finally:
            try:
                await subscription.unsubscribe()
            except Exception:  # noqa: BLE001 - connection already closed
                pass

    async def _check_presence(self, connection: Client) -> None:
        try:
            await connection.jetstream().consumer_info(self.spec.stream, self.spec.durable)
            self.present = True
        except Exception as error:  # noqa: BLE001 - the pull loop will tell again
            log.warning("consumer_not_found", stream=self.spec.stream, durable=self.spec.durable, error=repr(error))

    async def _handle_until_request_ends(self, arrived: asyncio.Queue, stop: asyncio.Event) -> str | None:
        """Handle what the request brings; returns the status that ended it, if any."""
        loop = asyncio.get_running_loop()
        # Past this, the request was lost (e.g. the broker restarted): ask again.
        give_up_at = loop.time() + self.spec.pull_expires_seconds + 3
        received = 0
        while received < self.spec.batch_size and not stop.is_set():
            try:
                raw = await asyncio.wait_for(arrived.get(), 0.25)  # short, to notice `stop`
            except asyncio.TimeoutError:
                if loop.time() > give_up_at:
                    return None
                continue
            # Whatever else has already arrived is handled together with it.
            batch = [raw]
            while not arrived.empty() and len(batch) < self.spec.batch_size - received:
                batch.append(arrived.get_nowait())
            messages, status = [], None
            for message in batch:
                message_status = (message.headers or {}).get("Status")
                if message_status is None:
                    messages.append(message)
                elif message_status != "100":  # 408 expired, 404 nothing, 409 changed, 503 no consumer
                    status = message_status
            received += len(messages)
            await self.handle_many(messages)
            if status is not None:
                return status
        return None

    async def handle_many(self, raws: list) -> None:
        if self._batch_handler is None or len(raws) < 2:
            await self._one_by_one(raws)
            return
        deliveries = [delivery_of(raw) for raw in raws]
        started = time.perf_counter()
        # One transaction for all: what is logged inside was caused by every one of them.
        ids = [log_ids(delivery) for delivery in deliveries]
        try:
            with structlog.contextvars.bound_contextvars(
                correlation_id=[i["correlation_id"] for i in ids], causation_id=[i["causation_id"] for i in ids]
            ):
                outcomes = await self._batch_handler(deliveries)
        except Exception as error:  # noqa: BLE001 - one at a time decides retries and dead letters
            log.info("batch_fell_back_to_single_messages", size=len(raws), error=repr(error))
            await self._one_by_one(raws)
            return
        each = (time.perf_counter() - started) / len(raws)
        for raw, delivery, outcome in zip(raws, deliveries, outcomes, strict=True):
            await raw.ack()  # nothing is logged here: no ids to bind
            kind = message_type(delivery.subject)
            self._metrics.labelled(self._metrics.messages_in, kind, outcome).inc()
            self._metrics.labelled(self._metrics.handling_seconds, kind).observe(each)

    async def _one_by_one(self, raws: list) -> None:
        for index, raw in enumerate(raws):
            await self.handle_one(raw, held=raws[index + 1 :])

    async def handle_one(self, raw, held: list | None = None) -> None:
        """`held`: the messages pulled behind this one, kept alive during an outage."""
        delivery = delivery_of(raw)
        kind = message_type(delivery.subject)
        started = time.perf_counter()
        with logging_for(delivery):
            try:
                outcome = await self._handle_through_outages(raw, delivery, held or [])
            except PermanentError as error:
                await self._dead_letter(delivery, "permanent", error)
                await raw.ack()
            except Exception as error:  # noqa: BLE001 - any failure is retried, then dead-lettered
                if is_outage(error) and self._stop.is_set():  # stopping during an outage: the broker redelivers it later
                    log.warning("message_left_for_redelivery", subject=delivery.subject, error=repr(error))
                elif delivery.num_delivered >= self.spec.max_attempts:
                    await self._dead_letter(delivery, "max_attempts", error)
                    await raw.ack()
                else:
                    delay = self.spec.backoff_seconds[min(delivery.num_delivered - 1, len(self.spec.backoff_seconds) - 1)]
                    log.warning("message_retry", subject=delivery.subject, attempt=delivery.num_delivered, delay=delay, error=repr(error))
                    self._metrics.labelled(self._metrics.messages_in, kind, "retry").inc()
                    await raw.nak(delay=delay)
            else:
                await raw.ack()
                self._metrics.labelled(self._metrics.messages_in, kind, outcome).inc()
            finally:
                self._metrics.labelled(self._metrics.handling_seconds, kind).observe(time.perf_counter() - started)

    async def _handle_through_outages(self, raw, delivery: Delivery, held: list) -> str:
        """The handler's outcome; while the infrastructure is unreachable, hold the
        message (no nak: that would use up an attempt) and try again."""
        wait = OUTAGE_RETRY_FIRST_SECONDS
        while True:
            try:
                return await self._handler(delivery)
            except Exception as error:
                if not is_outage(error) or self._stop.is_set() or not await self._confirmed_outage():
                    raise
                log.warning("store_unreachable_holding_message", subject=delivery.subject, retry_in=wait, error=repr(error))
                self._metrics.labelled(self._metrics.messages_in, message_type(delivery.subject), "outage").inc()
            for message in (raw, *held):  # resets ack_wait: no redelivery meanwhile
                try:
                    await message.in_progress()
                except Exception:  # noqa: BLE001 - the broker may be the one that is down
                    pass
            try:
                await asyncio.wait_for(self._stop.wait(), wait)
            except asyncio.TimeoutError:
                pass
            wait = min(wait * 2, OUTAGE_RETRY_MAX_SECONDS)

    async def _confirmed_outage(self) -> bool:
        if self.unreachable is None:  # no readiness checks wired (unit tests): the error's kind decides
            return True
        try:
            return await self.unreachable()
        except Exception:  # noqa: BLE001 - a check that cannot even run: something is down
            return True

    async def _dead_letter(self, delivery: Delivery, reason: str, error: Exception) -> None:
        log.error("message_dead_lettered", subject=delivery.subject, reason=reason, error=repr(error), attempts=delivery.num_delivered)
        body = {
            "service": self._metrics.service,
            "consumer": self.spec.durable,
            "stream": delivery.stream,
            "stream_sequence": delivery.stream_sequence,
            "subject": delivery.subject,
            "attempts": delivery.num_delivered,
            "reason": reason,
            "error": f"{type(error).__name__}: {error}",
            "headers": delivery.headers,
            "dead_lettered_at": datetime.now(timezone.utc).isoformat(),
            **self._protect_raw(delivery),
        }
        await self._publisher.publish(
            OutgoingMessage(
                subject=f"fp.dlq.{self._metrics.service}.{self.spec.durable}",
                body=json_bytes(body),
                message_id=f"dlq-{delivery.stream}-{delivery.stream_sequence}",
            )
        )
        self._metrics.dead_letters.labels(self._metrics.service, self.spec.durable, reason).inc()
        self._metrics.labelled(self._metrics.messages_in, message_type(delivery.subject), "dead_letter").inc()
