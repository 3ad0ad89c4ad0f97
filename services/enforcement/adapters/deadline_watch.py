"""Raises "deadline nearing" and "deadline breached" case events as time passes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog

from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.application.commands import CaseCommands

log = structlog.get_logger("deadlines")


class DeadlineWatch:
    """A service worker: the runtime runs it with `run(stop)`."""

    def __init__(self, commands: CaseCommands, index: CaseIndex, clock: Callable[[], datetime], every: float) -> None:
        self._commands, self._index, self._clock, self._every = commands, index, clock, every

    def check_once(self) -> list[dict[str, str]]:
        return self._commands.check_deadlines(self._index.clock_running(), self._clock())

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                raised = await asyncio.to_thread(self.check_once)
                if raised:
                    log.info("deadline_alerts_raised", count=len(raised))
            except Exception:  # noqa: BLE001 - the store may be briefly unavailable: try next round
                log.exception("deadline_check_failed")
            try:
                await asyncio.wait_for(stop.wait(), self._every)
            except TimeoutError:
                pass
