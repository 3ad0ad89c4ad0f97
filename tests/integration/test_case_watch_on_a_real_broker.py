"""`fpb cases watch --durable enforcement-team` on a real nats-server: the team's durable
is provisioned with the platform's, a watch acknowledges what it has shown, and the
next watch (a new process, a new connection) resumes right after it."""

from __future__ import annotations

import json

from cli.cases import stream_line, watch_durable
from services.enforcement.entrypoints.routes import TEAM_CONSUMER

CHANGES = ("opened", "triaged", "assigned", "evidence_recorded", "closed")


def case_event(n: int, change: str) -> bytes:
    payload = {"case_number": f"ZF-2026-0000000{n}", "category": "two_illegals", "status": "opened" if change == "opened" else change.split("_")[0], "details": {}}
    return json.dumps({"event_id": f"enforcement-{n}", "occurred_at": f"2026-03-0{n}T09:00:00Z", "payload": payload}).encode()


async def test_a_durable_watch_resumes_after_what_it_has_shown(nats_server, js):
    info = await js.consumer_info("FP_ENFORCEMENT", "enforcement-team")
    assert set(info.config.filter_subjects or [info.config.filter_subject]) == set(TEAM_CONSUMER.filter_subjects) == {"fp.enforcement.case.>"}
    for n, change in enumerate(CHANGES, start=1):
        await js.publish(f"fp.enforcement.case.{change}", case_event(n, change), headers={"Nats-Msg-Id": f"enforcement-{n}"})
    await js.publish("fp.enforcement.shared.police", b"{}", headers={"Nats-Msg-Id": "enforcement-2-police"})  # not the team's stream
    lines: list[str] = []

    def show(subject: str, data: bytes) -> None:
        lines.append(stream_line(subject, json.loads(data)))

    first = await watch_durable(nats_server.url, "enforcement-team", count=2, show=show)
    shown_first = list(lines)
    rest = await watch_durable(nats_server.url, "enforcement-team", count=None, show=show, idle_seconds=1)
    nothing_left = await watch_durable(nats_server.url, "enforcement-team", count=None, show=show, idle_seconds=1)

    assert (first, rest, nothing_left) == (2, 3, 0)
    assert [line.split()[1] for line in shown_first] == ["ZF-2026-00000001", "ZF-2026-00000002"]
    assert [line.split()[1] for line in lines] == [f"ZF-2026-0000000{n}" for n in range(1, 6)], "each event once, in order"
    assert (await js.consumer_info("FP_ENFORCEMENT", "enforcement-team")).num_ack_pending == 0
