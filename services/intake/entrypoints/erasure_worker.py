"""Keeps erasures done: at start, shreds again the keys intake's log says were erased
(a key store restored from an older backup would otherwise bring them back); at start
and every half minute, finishes any erasure approved but not completed (the process
stopped in between, or the broker was unreachable when it was approved)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog

from services.intake.application.erasure import Erasures

log = structlog.get_logger()


class ErasureWorker:
    def __init__(self, erasures: Erasures, now: Callable[[], datetime], every: float = 30.0) -> None:
        self._erasures = erasures
        self._now = now
        self._every = every

    async def run(self, stop: asyncio.Event) -> None:
        shredded_again = False
        position, pending = 0, set()  # approvals read so far, and those not yet completed
        while not stop.is_set():
            try:
                if not shredded_again:  # once per start, as soon as the stores answer
                    restored = await asyncio.to_thread(self._erasures.shred_again)
                    shredded_again = True
                    if restored:
                        log.warning("erased_keys_were_readable_again", keys=restored)
                approved, completed, position = await asyncio.to_thread(self._erasures.approvals_since, position)
                pending = (pending | approved) - completed
                for erasure_id in sorted(pending):
                    if (await self._erasures.carry_out(erasure_id, self._now)).status == "completed":
                        pending.discard(erasure_id)
                        log.info("erasure_finished_later", erasure_id=str(erasure_id))
            except Exception as error:  # noqa: BLE001 - store or broker down: try again later
                log.warning("erasure_not_finished_yet", error=repr(error))
            try:
                await asyncio.wait_for(stop.wait(), self._every)
            except TimeoutError:
                pass
