"""fpb: the platform's command line (typer + rich)."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
from datetime import datetime, time, timedelta, timezone
from time import sleep
from pathlib import Path
from typing import Annotated, Any, Optional

import httpx
import typer
from rich.console import Console
from rich.table import Table

from cli.audit import audit_app
from cli.cases import app as cases_app, drive_demo_cases
from cli.certificates import app as certificates_app, drive_demo_applications
from cli.credentials import app as credentials_app
from cli.erasure import app as erasure_app
from cli.publishing import InputError, Outgoing, parse_input, publish_records

app = typer.Typer(help="元氏县人口和计划生育局 平台 · Yuanshi County Family Planning Bureau platform", no_args_is_help=True)
rebuild_app = typer.Typer(help="Rebuild read models from the streams", no_args_is_help=True)
app.add_typer(rebuild_app, name="rebuild")
app.add_typer(audit_app, name="audit")
app.add_typer(cases_app, name="cases")
app.add_typer(certificates_app, name="certificate")
app.add_typer(credentials_app, name="credentials")
app.add_typer(erasure_app, name="erasure")
from cli.tokens import token_command  # noqa: E402 - the built-in OpenID provider's commands
from cli.users import users_app  # noqa: E402
app.add_typer(users_app, name="users")
app.command("token")(token_command)
console = Console()
CHINA = timezone(timedelta(hours=8))
DataDir = Annotated[Path, typer.Option("--data-dir", envvar="FPB_DATA_DIR", help="Where `fpb up` keeps its state and endpoints.json")]


def endpoints(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "endpoints.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        console.print(f"[red]{path} not found: is the platform running (`fpb up --data-dir {data_dir}`)?[/red]")
        raise typer.Exit(2) from None


@app.command()
def up(
    data_dir: DataDir = Path(".fpb-data"),
    nats_url: Annotated[Optional[str], typer.Option(help="Use this NATS instead of starting one")] = None,
    database_url: Annotated[Optional[str], typer.Option(help="postgresql://… for every store (default: SQLite files)")] = None,
    demo: Annotated[bool, typer.Option(help="Publish a year of demo records for the 15 townships")] = False,
    nats_credentials_dir: Annotated[Optional[Path], typer.Option(envvar="FPB_NATS_CREDENTIALS_DIR", help="With --nats-url: the operator's NATS credentials, <user>.nk or <user>.creds per user (`fpb credentials generate`)")] = None,
    oidc_issuer: Annotated[Optional[str], typer.Option(help="An external OpenID issuer instead of the built-in provider (which is then not started)")] = None,
    oidc_audience: Annotated[str, typer.Option(help="With --oidc-issuer: the audience of its access tokens")] = "fpb-platform",
) -> None:
    """Start the whole platform and keep it running until Ctrl-C or SIGTERM."""
    from cli.platform import Platform

    if demo and oidc_issuer:
        console.print("--demo: the demo accounts live in the built-in provider; leave out --oidc-issuer for the demo")
        raise typer.Exit(2)
    platform = Platform(data_dir.resolve(), nats_url=nats_url, database_url=database_url, credentials_dir=nats_credentials_dir,
                        external_issuer=oidc_issuer, oidc_audience=oidc_audience)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        with console.status("starting nats-server, provisioning streams, starting services…"):
            platform.start()
        table = Table(title="fpb is running · 平台已启动")
        table.add_column("service 服务")
        table.add_column("URL")
        table.add_row("nats", platform.nats_url or "")
        for name, url in platform.endpoints()["services"].items():
            table.add_row(name, url)
        console.print(table)
        console.print(f"endpoints: {data_dir / 'endpoints.json'}")
        if demo:
            from cli.users import demo_login_lines  # one demo account per role, made after the identity process is ready

            for line in demo_login_lines(platform.endpoints()["identity_store"], data_dir.resolve() / "demo-accounts.json", platform.endpoints()["oidc_issuer"]):
                console.print(line)
            year, held_back = publish_demo(platform.nats_url or "", platform.credentials)
            from cli.tokens import DemoOfficers  # each demo officer logs in through the provider as themselves

            services = platform.endpoints()["services"]
            drive_demo_cases(services["enforcement"], console.print, DemoOfficers.for_demo(data_dir, default="ZF-001"))
            drive_demo_applications(services["verification"], console.print, services["enforcement"], DemoOfficers.for_demo(data_dir, default="FG-02"))
            drive_demo_assistance(services["verification"], platform.nats_url or "", year, held_back, platform.credentials,
                                  DemoOfficers.for_demo(data_dir, default="FZ-01"))
        console.print("Press Ctrl-C to stop.")
        while not stop.wait(0.5):
            pass
    finally:
        console.print("stopping…")
        platform.stop()
        console.print("stopped.")


def publish_demo(nats_url: str, credentials: Any = None) -> tuple[int, list[tuple[str, dict]]]:
    """Publish the demo year's records; returns the year and the records held back for later."""
    from cli.demo.records import generate_demo

    year = datetime.now(CHINA).year - 1  # a complete past year: no birth lies in the future
    year_records, held_back = generate_demo(year=year)
    records = [
        Outgoing(subject=subject, record_id=envelope["record_id"], body=json.dumps(envelope, ensure_ascii=False).encode())
        for subject, envelope in year_records
    ]
    with console.status(f"publishing {len(records)} demo records for {year}…"):
        results = asyncio.run(publish_records(nats_url, records, receipt_timeout=120, credentials=credentials))
    accepted = sum(1 for r in results if r.receipt and r.receipt.get("accepted"))
    duplicates = sum(1 for r in results if r.duplicate or (r.receipt and r.receipt.get("duplicate")))
    console.print(f"demo: {len(results)} published, {accepted} accepted, {duplicates} already present")
    return year, held_back


def drive_demo_assistance(verification_url: str, nats_url: str, year: int, held_back: list[tuple[str, dict]], credentials: Any = None,
                          auth: Any = None) -> None:
    """`fpb up --demo`: a year of subsidies is confirmed, paid and followed up (cli/demo/assistance_driver.py)."""
    from cli.demo.assistance_driver import drive_assistance

    with console.status("the Assistance Center and Finance are paying the demo year's subsidies…"):
        drive_assistance(verification_url, nats_url, year, held_back, console.print, credentials=credentials, auth=auth)


@app.command()
def publish(
    source: Annotated[str, typer.Argument(help="A JSON file (object, array or JSON Lines), or - for stdin")],
    data_dir: DataDir = Path(".fpb-data"),
    nats_url: Annotated[Optional[str], typer.Option(help="Default: from DATA_DIR/endpoints.json")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for receipts")] = 15.0,
    as_user: Annotated[Optional[str], typer.Option("--as", help="Publish as this publisher (police, health, …, township-<code>), with its credentials from endpoints.json; default: each record's publisher, from its subject")] = None,
) -> None:
    """Publish contract messages to COUNTY_INBOX; print each PubAck, then each receipt."""
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    try:
        records = parse_input(text)
    except InputError as error:
        console.print(f"[red]input error:[/red] {error}")
        raise typer.Exit(2) from None
    from shared.messaging.credentials import credentials_from_endpoints

    known = endpoints(data_dir)
    url = nats_url or known["nats_url"]
    try:
        results = asyncio.run(publish_records(url, records, timeout, credentials=credentials_from_endpoints(known.get("credentials", {})), as_user=as_user))
    except InputError as error:
        console.print(f"[red]input error:[/red] {error}")
        raise typer.Exit(2) from None
    for result in results:
        note = " (duplicate: the broker already had it)" if result.duplicate else ""
        console.print(f"PubAck {result.outgoing.record_id}: stream={result.stream} seq={result.sequence}{note}")
    failed = False
    for result in results:
        receipt = result.receipt
        if receipt is None:
            if not result.duplicate:
                failed = True
                console.print(f"[yellow]no receipt yet for {result.outgoing.record_id}: it will be in RECEIPTS[/yellow]")
            continue
        console.print_json(json.dumps(receipt, ensure_ascii=False))
        failed = failed or not receipt.get("accepted")
    raise typer.Exit(1 if failed else 0)


def parse_as_of(text: str | None) -> datetime | None:
    """A date means the end of that day in China time; a date-time needs its offset."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(datetime.fromisoformat(text).date(), time.max, CHINA)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"--as-of {text!r} is not a date (YYYY-MM-DD) or ISO date-time") from None
    if moment.tzinfo is None:
        raise typer.BadParameter("--as-of needs a UTC offset, e.g. 2026-03-02T09:15:00+08:00")
    return moment


@app.command()
def history(
    ref: Annotated[str, typer.Argument(help="Aggregate UUID, application_id, or source:record_id")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD or ISO date-time with offset")] = None,
    reveal: Annotated[bool, typer.Option(help="Decrypt personal fields (the reading is recorded with who you are logged in as: give --reason)")] = False,
    reader: Annotated[Optional[str], typer.Option(help="Who reads: must be who the token says (optional)")] = None,
    role: Annotated[str, typer.Option(help="Without FPB_TOKEN: the demo account of this role reads")] = "auditor",
    reason: Annotated[Optional[str], typer.Option(help="Why the personal data is needed (with --reveal)")] = None,
    data_dir: DataDir = Path(".fpb-data"),
) -> None:
    """Print an aggregate's events and its state (as of a moment, if given), as the caller
    FPB_TOKEN names (else the demo account of --role)."""
    from cli.tokens import caller_auth

    moment = parse_as_of(as_of)
    if reveal and not reason:
        raise typer.BadParameter("--reveal needs --reason: every reading of personal data is recorded")
    if reveal and moment:
        raise typer.BadParameter("--reveal shows the whole history; leave out --as-of")
    params = {"as_of": moment.isoformat()} if moment else {}
    found, refusals = False, []
    auth = caller_auth(data_dir, role)
    for name, url in endpoints(data_dir)["services"].items():
        if name == "identity":
            continue  # the OpenID provider keeps no aggregates
        try:
            if reveal:
                body = {"reader": {"id": reader}, "reason": reason} if reader else {"reason": reason}
                response = httpx.post(f"{url}/history/{ref}/reveal", json=body, timeout=10, auth=auth)
            else:
                response = httpx.get(f"{url}/history/{ref}", params=params, timeout=10, auth=auth)
        except httpx.HTTPError:
            continue
        if response.status_code in (401, 403):
            refusals.append(f"{name}: {response.json().get('detail')}")
            continue
        if response.status_code != 200:
            continue
        found = True
        body = response.json()
        as_of_note = f" · as of {body['as_of']}" if body.get("as_of") else ""
        disclosure_note = f" · disclosure {body['disclosure_id']} recorded" if body.get("disclosure_id") else ""
        table = Table(title=f"{name} · {body['aggregate_id']}{as_of_note}{disclosure_note}")
        for column in ("v", "time", "event", "data"):
            table.add_column(column)
        for event in body["events"]:
            table.add_row(str(event["version"]), event["timestamp"], event["type"], json.dumps(event["data"], ensure_ascii=False))
        console.print(table)
        console.print("state:")
        console.print_json(json.dumps(body["state"], ensure_ascii=False))
    if not found:
        for refusal in refusals:
            console.print(refusal, style="red", markup=False)
        console.print(f"[red]no service knows {ref!r}[/red]" if not refusals else f"[red]refused: {ref!r} cannot be read as this caller[/red]")
        raise typer.Exit(1)


@rebuild_app.command("reporting")
def rebuild_reporting(data_dir: DataDir = Path(".fpb-data")) -> None:
    """Drop every read model and rebuild it from the streams; compare with the live one."""
    from rich.progress import Progress

    from cli.tokens import caller_auth

    url = endpoints(data_dir)["services"]["reporting"]
    auth = caller_auth(data_dir, "operations")
    status = httpx.post(f"{url}/admin/rebuild", timeout=30, auth=auth).json()
    with Progress(console=console) as progress:
        task = progress.add_task("rebuilding read models 重建报表", total=None)
        while status["state"] == "running":
            progress.update(task, completed=status.get("replayed", 0), total=status.get("expected"))
            sleep(0.2)
            status = httpx.get(f"{url}/admin/rebuild", timeout=30, auth=auth).json()
        progress.update(task, completed=status.get("replayed", 0), total=status.get("expected") or status.get("replayed"))
    if status["state"] != "done":
        console.print(f"[red]rebuild failed: {status.get('error')}[/red]")
        raise typer.Exit(1)
    console.print(f"replayed {status['replayed']} events")
    for name, after in status["after"]["tables"].items():
        before = status["before"]["tables"][name]
        mark = "=" if before["sha256"] == after["sha256"] else "≠"
        console.print(f"  {name}: {before['rows']} rows {mark} {after['rows']} rows")
    console.print("[green]identical to the live read models[/green]" if status["identical"] else "[yellow]differs from the live read models[/yellow]")


@app.command()
def contracts(
    out: Annotated[Path, typer.Option(help="Directory for the AsyncAPI documents")] = Path("docs/asyncapi"),
    openapi_out: Annotated[Path, typer.Option(help="Directory for the OpenAPI documents")] = Path("docs/openapi"),
    configuration_out: Annotated[Path, typer.Option(help="The configuration reference")] = Path("docs/configuration.md"),
) -> None:
    """Write each service's AsyncAPI and OpenAPI documents, the configuration reference, the NATS authorization files and the
    access policy (docs/access-policy.md), generated from the code (connects to nothing)."""
    from cli import access_policy, configuration
    from cli.contracts import write_asyncapi, write_openapi
    from cli.credentials import write_authorization_files

    for path in [*write_asyncapi(out), *write_openapi(openapi_out), configuration.write(configuration_out), *write_authorization_files(),
                 access_policy.write()]:
        console.print(f"wrote {path}")


@app.command()
def provision(
    nats_url: Annotated[str, typer.Option(help="NATS server URL(s), comma-separated")],
    replicas: Annotated[int, typer.Option(help="Stream replicas (3 on a production cluster)")] = 1,
    nkey_seed: Annotated[Optional[Path], typer.Option(envvar="FPB_NATS_NKEY_SEED_FILE", help="The provisioner's NKey seed file (provisioner.nk)")] = None,
    creds: Annotated[Optional[Path], typer.Option(envvar="FPB_NATS_CREDS_FILE", help="The provisioner's .creds file (decentralized JWT auth)")] = None,
) -> None:
    """Create or update the streams and create the durable consumers (idempotent), as the provisioner."""
    from cli.platform import provision_platform
    from shared.messaging.credentials import PROVISIONER, credentials_from_settings

    asyncio.run(provision_platform(nats_url, replicas, credentials_from_settings(PROVISIONER, nkey_seed, creds)))
    console.print("streams and consumers are provisioned")


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="A short run at small sizes (a smoke test of the benchmark)")] = False,
    out: Annotated[Path, typer.Option(help="Where the JSON results go")] = Path("bench/results/latest.json"),
) -> None:
    """Measure the platform against the raw limits of its own stack on this machine."""
    from cli.bench.run import FULL, QUICK, run

    run(QUICK if quick else FULL, out, console)
