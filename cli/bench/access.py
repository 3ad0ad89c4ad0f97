"""How the benchmark tools reach an authenticated platform's broker.

The benchmark publishes as the county systems do: each record over the connection of
its own publisher (police, township-<code>, …), so what it measures includes the
broker's authentication and permission checks. What it reads about streams and
consumers (counts, sequences) it reads as the provisioner, the one user allowed to see
every consumer. `register` is called where a tool starts its platform."""

from __future__ import annotations

import asyncio
from typing import Any

import nats

from shared.messaging.credentials import PROVISIONER, NatsCredentials, publisher_user

_CREDENTIALS: dict[str, dict[str, NatsCredentials]] = {}  # nats_url -> its platform's credentials


def register(platform: Any) -> None:
    _CREDENTIALS[platform.nats_url] = dict(platform.credentials)


class RoutingJetStream:
    """publish() goes over the subject's publisher's connection; everything else
    (stream_info, consumers_info, …) over the observer's."""

    def __init__(self, connection: RoutingConnection) -> None:
        self._connection = connection

    async def publish(self, subject: str, payload: bytes = b"", **options: Any) -> Any:
        return await (await self._connection.for_subject(subject)).jetstream().publish(subject, payload, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection.observer.jetstream(), name)


class RoutingConnection:
    def __init__(self, nats_url: str, observer: Any) -> None:
        self.nats_url, self.observer = nats_url, observer
        self._publishers: dict[str, Any] = {}
        self._connecting = asyncio.Lock()  # publishes run concurrently: one connection per user

    async def for_subject(self, subject: str) -> Any:
        credentials = _CREDENTIALS.get(self.nats_url)
        if not credentials:
            return self.observer  # an open broker of the tool's own
        user = publisher_user(subject)
        if user not in self._publishers:
            async with self._connecting:
                if user not in self._publishers:
                    self._publishers[user] = await nats.connect(self.nats_url, **credentials[user].connect_options())
        return self._publishers[user]

    def jetstream(self) -> RoutingJetStream:
        return RoutingJetStream(self)

    async def close(self) -> None:
        for connection in [*self._publishers.values(), self.observer]:
            await connection.close()


async def connect(nats_url: str) -> RoutingConnection:
    credentials = _CREDENTIALS.get(nats_url, {})
    options = credentials[PROVISIONER].connect_options() if PROVISIONER in credentials else {}
    return RoutingConnection(nats_url, await nats.connect(nats_url, **options))
