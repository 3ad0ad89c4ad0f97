"""Deletes single COUNTY_INBOX messages: the plaintext records of a person being erased.

JetStream overwrites a deleted message's bytes on disk (the API's default, no_erase
false). Intake's NATS user may delete COUNTY_INBOX messages and nothing else
(shared/messaging/nats_permissions.json).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from nats.js.errors import NotFoundError

from shared.messaging.topology import COUNTY_INBOX


def inbox_eraser(connection: Callable[[], object]) -> Callable[[int], Awaitable[bool]]:
    async def delete(sequence: int) -> bool:
        try:
            return bool(await connection().jetstream().delete_msg(COUNTY_INBOX, sequence))  # type: ignore[attr-defined]
        except NotFoundError:  # gone already: the inbox keeps 7 days
            return False

    return delete
