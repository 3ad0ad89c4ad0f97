"""Helpers for integration tests: run services in-process, read streams, wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from shared.messaging.nats_server import free_port
from shared.runtime import Service

SAMPLES = Path(__file__).parent.parent / "samples" / "inbound"


def sample(kind: str) -> tuple[str, dict[str, Any]]:
    data = json.loads((SAMPLES / f"{kind}.v1.json").read_text())
    return data["subject"], data["message"]


@asynccontextmanager
async def running(service: Service) -> AsyncIterator[Service]:
    stop = asyncio.Event()
    task = asyncio.create_task(service.run("127.0.0.1", free_port(), stop))
    try:
        for _ in range(100):
            if task.done():
                task.result()
            if service.broker._connection is not None and service.broker.connection.is_connected:
                break
            await asyncio.sleep(0.05)
        yield service
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def collect(js: Any, subject: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
    """Read `count` messages on a subject from its stream, from the start."""
    subscription = await js.subscribe(subject, ordered_consumer=True)
    messages = []
    try:
        while len(messages) < count:
            message = await subscription.next_msg(timeout=timeout)
            messages.append(json.loads(message.data))
    finally:
        await subscription.unsubscribe()
    return messages


async def stream_count(js: Any, stream: str, subject: str | None = None) -> int:
    info = await js.stream_info(stream, subjects_filter=subject) if subject else await js.stream_info(stream)
    if subject:
        return sum((info.state.subjects or {}).values())
    return info.state.messages


async def eventually(check, timeout: float = 15.0, every: float = 0.1) -> Any:
    """Wait until check() (sync or async) returns a truthy value; return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(every)


def numbered_records(count: int) -> list[tuple[str, dict[str, Any]]]:
    """A mix of applications, tips and births with unique record ids (and application ids)."""
    kinds = ("township.application.submitted", "hotline.tip.received", "police.birth.registered")
    records = []
    for n in range(count):
        subject, message = sample(kinds[n % 3])
        message = json.loads(json.dumps(message))
        message["record_id"] = f"{message['record_id']}-{n}"
        if "application_id" in message["data"]:
            message["data"]["application_id"] = f"APP-LOAD-{n}"
        records.append((subject, message))
    return records


async def publish_until_acked(js: Any, subject: str, message: dict[str, Any], timeout: float = 60.0) -> None:
    """Publish like a well-behaved county system: retry the same record until its PubAck."""
    deadline = asyncio.get_running_loop().time() + timeout
    body = json.dumps(message).encode()
    while True:
        try:
            await js.publish(subject, body, headers={"Nats-Msg-Id": message["record_id"]}, timeout=2)
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.2)


def reported_totals(reporting_url: str, auth: Any = None) -> dict[str, int]:
    """`auth`: who reads the reports (tests.identity_support.platform_officers for a platform)."""
    import httpx

    submissions = httpx.get(f"{reporting_url}/reports/submissions", timeout=5, auth=auth).json()
    return {
        "accepted": sum(row["accepted"] for row in submissions["accepted"]),
        "applications": len(httpx.get(f"{reporting_url}/reports/applications", timeout=5, auth=auth).json()["rows"]),
        "cases": len(httpx.get(f"{reporting_url}/reports/cases", timeout=5, auth=auth).json()["rows"]),
    }
