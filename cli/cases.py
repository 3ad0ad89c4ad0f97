"""`fpb cases watch|list|show`: the enforcement team's view of cases in a terminal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import httpx
import typer
from rich.console import Console
from rich.table import Table

from shared.contracts.events.enforcement import CASE_STREAM_SUBJECTS

app = typer.Typer(help="Enforcement cases (案件): follow the case stream, list and show cases", no_args_is_help=True)
console = Console()
DataDir = Annotated[Path, typer.Option("--data-dir", envvar="FPB_DATA_DIR", help="Where `fpb up` keeps its state and endpoints.json")]


def _endpoints(data_dir: Path) -> dict[str, Any]:
    from cli.main import endpoints

    return endpoints(data_dir)


def _get(data_dir: Path, path: str, params: dict[str, str] | None = None) -> Any:
    from cli.tokens import caller_auth

    url = _endpoints(data_dir)["services"]["enforcement"]
    response = httpx.get(f"{url}{path}", params=params or {}, timeout=30, auth=caller_auth(data_dir, "enforcement_officer"))
    if response.status_code in (401, 403, 404, 422):  # no such case, or a filter the service refused: its words
        console.print(str(response.json().get("detail")), style="red", markup=False)
        raise typer.Exit(1)
    response.raise_for_status()
    return response.json()


def stream_line(subject: str, envelope: dict[str, Any]) -> str:
    payload = envelope["payload"]
    change = subject.removeprefix("fp.enforcement.case.")
    status = payload.get("status", "opened")
    extra = {k: v for k, v in (payload.get("details") or {}).items() if k in ("assignee", "agency", "target", "alert", "due_on", "pattern", "kind", "amount")}
    note = " ".join(f"{k}={v}" for k, v in extra.items())
    return f"{envelope['occurred_at'][:19]}  {payload['case_number']}  {change:<26} → {status:<13} {payload['category']}  {note}".rstrip()


@app.command()
def watch(
    data_dir: DataDir = Path(".fpb-data"),
    from_start: Annotated[bool, typer.Option("--from-start", help="Replay the whole case stream first")] = False,
    count: Annotated[Optional[int], typer.Option(help="Stop after this many events (default: follow until Ctrl-C)")] = None,
    durable: Annotated[Optional[str], typer.Option("--durable", help="Read through this provisioned durable consumer (e.g. enforcement-team): what is shown is acknowledged, and the next watch resumes after it")] = None,
) -> None:
    """Follow fp.enforcement.case.> live: by default an ordered consumer (nothing is left
    behind on the server); with --durable, resuming where the last watch stopped."""
    known = _endpoints(data_dir)
    nats_url = known["nats_url"]
    # The enforcement team's tool has its own NATS user: it may read the case stream only.
    connect_options = case_stream_options(known)
    if durable:
        if from_start:
            raise typer.BadParameter("--from-start 不能与 --durable 同用：持久消费者从上次停下处继续 (a durable resumes where it stopped)", param_hint="--from-start")
        asyncio.run(watch_durable(nats_url, durable, count, connect_options=connect_options))
    else:
        asyncio.run(_watch(nats_url, from_start, count, connect_options))


def case_stream_options(known: dict) -> dict:
    from shared.messaging.credentials import credentials_from_endpoints

    own = credentials_from_endpoints(known.get("credentials", {})).get("case-stream")
    return own.connect_options() if own is not None else {}


def show_line(subject: str, data: bytes) -> None:
    console.print(stream_line(subject, json.loads(data)), highlight=False)


async def _watch(nats_url: str, from_start: bool, count: int | None, connect_options: dict | None = None) -> None:
    import nats
    from nats.js.api import DeliverPolicy

    connection = await nats.connect(nats_url.split(","), connect_timeout=5, **(connect_options or {}))
    try:
        policy = DeliverPolicy.ALL if from_start else DeliverPolicy.NEW
        subscription = await connection.jetstream().subscribe(CASE_STREAM_SUBJECTS, ordered_consumer=True, deliver_policy=policy)
        seen = 0
        while count is None or seen < count:
            try:
                message = await subscription.next_msg(timeout=3600)
            except nats.errors.TimeoutError:
                continue
            show_line(message.subject, message.data)
            seen += 1
    finally:
        await connection.close()


async def watch_durable(nats_url: str, durable: str, count: int | None, show: Callable[[str, bytes], None] = show_line, idle_seconds: float | None = None,
                        connect_options: dict | None = None) -> int:
    """Pull from a provisioned durable, acknowledging each event once it is shown, so
    the next watch on the same durable starts after it. Never fetches more than it will
    show (an unshown fetched event would wait out the ack timeout before coming back).
    `idle_seconds`: stop once nothing arrives for that long (tests); default: follow."""
    import nats
    from nats.js.errors import NotFoundError

    from services.enforcement.entrypoints.routes import TEAM_CONSUMER

    connection = await nats.connect(nats_url.split(","), connect_timeout=5, **(connect_options or {}))
    try:
        js = connection.jetstream()
        try:
            await js.consumer_info(TEAM_CONSUMER.stream, durable)
        except NotFoundError:
            console.print(f"[red]没有持久消费者 {durable}（先运行 fpb provision / fpb up）; no durable consumer {durable!r} on {TEAM_CONSUMER.stream}; the provisioned one is {TEAM_CONSUMER.durable}[/red]")
            raise typer.Exit(1) from None
        subscription = await js.pull_subscribe_bind(durable, stream=TEAM_CONSUMER.stream)
        shown = 0
        while count is None or shown < count:
            batch = 50 if count is None else min(50, count - shown)
            try:
                messages = await subscription.fetch(batch, timeout=idle_seconds or 30)
            except nats.errors.TimeoutError:
                if idle_seconds is not None:
                    break
                continue
            for message in messages:
                show(message.subject, message.data)
                await message.ack_sync()  # acknowledged only once shown: a crash shows it again
                shown += 1
        return shown
    finally:
        await connection.close()


@app.command("list")
def list_cases(
    data_dir: DataDir = Path(".fpb-data"),
    status: Annotated[Optional[str], typer.Option(help="opened, triaged, assigned, investigating, referred, concluded, closed, reopened")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past their statutory deadline")] = False,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD: deadlines as of that day")] = None,
    limit: Annotated[int, typer.Option(help="Cases per page (1-5000), in the order they were opened")] = 500,
    after: Annotated[Optional[str], typer.Option(help="The cursor a previous page printed, for the page after it")] = None,
) -> None:
    """List cases (from the enforcement service's HTTP API)."""
    params = {k: v for k, v in (("status", status), ("as_of", as_of)) if v}
    if not overdue:
        params.update({"limit": limit, **({"after": after} if after else {})})
    body = _get(data_dir, "/cases/overdue" if overdue else "/cases", params)
    rows = body["overdue"] if overdue else body["cases"]
    table = Table(title=f"cases · 案件 ({len(rows)}) as of {body['as_of']}")
    for column in ("case", "origin", "category", "township", "section", "status", "priority", "officer", "due", "deadline"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["case_number"], row["origin"], row["category"], row["township_code"] or "", row["section"], row["status"],
                      row["priority"] or "", row["assigned_to"] or "", row["due_on"] or "", row["deadline"] or "")
    console.print(table)
    if body.get("next"):
        again = f" --status {status}" if status else ""
        console.print(f"更多案件 more cases: fpb cases list{again} --limit {limit} --after '{body['next']}'")


@app.command()
def show(ref: Annotated[str, typer.Argument(help="Case number (ZF-2026-1A2B3C4D) or case id")], data_dir: DataDir = Path(".fpb-data")) -> None:
    """Show one case in full: evidence, joint operations, disclosures, fees, deadline."""
    console.print_json(json.dumps(_get(data_dir, f"/cases/{ref}"), ensure_ascii=False))


def drive_demo_cases(enforcement_url: str, say: Any = console.print, auth: Any = None) -> None:
    """`fpb up --demo`: officers work the demo's cases (cli/demo/cases_driver.py), each logged in as themselves."""
    from cli.demo.cases_driver import drive_cases

    with console.status("officers are working the demo cases…"):
        drive_cases(enforcement_url, say, auth=auth)
