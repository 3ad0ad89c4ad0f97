"""The outbox relay publishes what a command saves without waiting out its idle poll,
even when the save lands while a pass is reading the log; and it saves its position
behind the publishing (at most once a second while busy, and when idle), never
losing where it got to."""

from __future__ import annotations

import asyncio

from shared.contracts.integration import OutgoingMessage
from shared.messaging.relay import OutboxRelay
from shared.observability.metrics import ServiceMetrics
from test_relay_lag_and_readiness_metrics import Notification, Positions, Store

IDLE_SECONDS = 30.0  # a pass that misses a wake waits this long


class Recorder:
    def __init__(self) -> None:
        self.published: list[str] = []

    async def publish_all(self, messages) -> None:
        self.published.extend(m.message_id for m in messages)


class SavedDuringTheFirstRead(Store):
    """The first read finds nothing, and a command saves an event (and wakes the relay)
    before that read returns: the race a relay must not lose."""

    def __init__(self) -> None:
        super().__init__(events=0)
        self.relay: OutboxRelay

    def read_log(self, after: int, limit: int) -> list[Notification]:
        found = super().read_log(after, limit)
        if self.head == 0:
            self.head = 1
            self.relay.wake()  # as the saving command does
        return found


def relay_of(store: Store, positions: Positions, publisher: Recorder) -> OutboxRelay:
    translate = lambda notification_id, event: [OutgoingMessage(subject="fp.intake.x", body=b"{}", message_id=str(event))]  # noqa: E731
    return OutboxRelay("intake", store, translate, positions, publisher, ServiceMetrics("intake"), idle_seconds=IDLE_SECONDS)


async def published_within(relay: OutboxRelay, publisher: Recorder, expected: list[str], seconds: float) -> bool:
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    deadline = asyncio.get_running_loop().time() + seconds
    while publisher.published != expected and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    stop.set()
    running.cancel()  # it may be in its idle wait
    try:
        await running
    except asyncio.CancelledError:
        pass
    return publisher.published == expected


def test_an_event_saved_while_a_pass_reads_the_log_goes_out_at_once_not_after_the_idle_wait():
    store, publisher = SavedDuringTheFirstRead(), Recorder()
    relay = relay_of(store, Positions(), publisher)
    store.relay = relay

    assert asyncio.run(published_within(relay, publisher, ["1"], seconds=2.0))


class CountedPositions(Positions):
    """Records every save; the first `failing` saves raise as a lost database would."""

    def __init__(self, failing: int = 0) -> None:
        super().__init__()
        self.saves: list[int] = []
        self._failing = failing

    def set(self, relay: str, position: int) -> None:
        if self._failing:
            self._failing -= 1
            raise OSError("database unreachable")
        super().set(relay, position)
        self.saves.append(position)


def test_while_busy_the_position_is_saved_behind_the_publishing_at_most_once_a_second_and_when_idle_the_last_published():
    positions, publisher = CountedPositions(), Recorder()
    relay = relay_of(Store(events=1200), positions, publisher)

    async def scenario() -> None:
        assert await relay.publish_next_batch() == 500  # its position saved meanwhile
        assert await relay.publish_next_batch() == 500  # within the second: not saved
        await relay.position_saved()
        assert positions.saves == [500]
        assert await relay.publish_next_batch() == 200
        assert await relay.publish_next_batch() == 0
        await relay.save_position()  # as when idle: the last published is saved
        assert positions.saves == [500, 1200] and len(publisher.published) == 1200
        await relay.save_position()  # nothing new: nothing written
        assert positions.saves == [500, 1200]

    asyncio.run(scenario())


def test_a_busy_relay_saves_its_position_again_once_a_second_has_passed(monkeypatch):
    positions, publisher = CountedPositions(), Recorder()
    relay = relay_of(Store(events=1200), positions, publisher)
    monkeypatch.setattr("shared.messaging.relay.POSITION_SAVE_SECONDS", 0.05)

    async def scenario() -> None:
        await relay.publish_next_batch()
        await asyncio.sleep(0.06)
        await relay.publish_next_batch()
        await relay.position_saved()

    asyncio.run(scenario())
    assert positions.saves == [500, 1000]


def test_a_position_whose_save_failed_is_saved_again_at_the_next_chance():
    positions, publisher = CountedPositions(failing=1), Recorder()
    relay = relay_of(Store(events=300), positions, publisher)

    async def scenario() -> None:
        await relay.publish_next_batch()
        try:
            await relay.position_saved()
        except OSError:
            pass
        await relay.save_position()  # the next chance: idle

    asyncio.run(scenario())
    assert positions.saves == [300]


class TopicNotification(Notification):
    @property
    def topic(self) -> str:
        return "services.enforcement.domain.case:Case.Opened" if self.id % 3 == 0 else "shared.eventstore.application:HandledMessage.Handled"


class StoreWithTopics(Store):
    def __init__(self, events: int) -> None:
        super().__init__(events)
        self.decoded: list[int] = []

    def read_log(self, after: int, limit: int) -> list[Notification]:
        return [TopicNotification(n.id) for n in super().read_log(after, limit)]

    def decode(self, notification: Notification) -> int:
        self.decoded.append(notification.id)
        return notification.id


def test_a_relay_told_which_topics_it_relays_passes_the_others_over_undecoded_and_moves_past_them():
    store, positions, publisher = StoreWithTopics(events=7), Positions(), Recorder()
    translate = lambda notification_id, event: [OutgoingMessage(subject="fp.enforcement.x", body=b"{}", message_id=str(event))]  # noqa: E731
    relay = OutboxRelay("enforcement", store, translate, positions, publisher, ServiceMetrics("enforcement"), relays_topic=lambda topic: ":Case." in topic)

    assert asyncio.run(relay.publish_next_batch()) == 7

    assert publisher.published == ["3", "6"] and store.decoded == [3, 6]
    assert asyncio.run(relay.publish_next_batch()) == 0, "it moved past the events it passed over"
