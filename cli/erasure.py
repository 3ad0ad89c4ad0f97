"""`fpb erasure ask|approve|list|show`: erase one person's personal data (个人信息删除).

Two people: an administrator asks (`ask`), an auditor who did not ask approves
(`approve`); each acts on their own token (FPB_TOKEN, else the demo account of that
role). The ID number is sent in the request body, never kept: intake records its keyed
hash. Intake refuses while a cited retention period runs (services/intake/retention.json).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Optional

import httpx
import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Erase one person's personal data, two people deciding (个人信息删除)", no_args_is_help=True)
console = Console()
DataDir = Annotated[Path, typer.Option("--data-dir", envvar="FPB_DATA_DIR", help="Where `fpb up` keeps its state and endpoints.json")]


def _call(data_dir: Path, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    from cli.main import endpoints
    from cli.tokens import caller_auth

    url = endpoints(data_dir)["services"]["intake"]
    try:
        return httpx.request(method, f"{url}{path}", timeout=60, auth=caller_auth(data_dir, role), **kwargs)
    except httpx.HTTPError as error:
        console.print(f"[red]intake unreachable · 无法连接: {error}[/red]")
        raise typer.Exit(2) from None


def _refused(response: httpx.Response) -> None:
    detail = response.json().get("detail") if response.headers.get("content-type", "").startswith("application/json") else response.text
    for item in detail if isinstance(detail, list) else [detail]:
        where = item.get("field") or ".".join(str(p) for p in item.get("loc", [])[1:]) if isinstance(item, dict) else ""
        console.print(f"refused ({response.status_code}) {where}: {item.get('message') or item.get('msg') if isinstance(item, dict) else item}", style="red", markup=False)
    raise typer.Exit(1)


def _china_time(moment: str | None) -> str:
    """An ISO time as staff read it: China time, to the minute."""
    if not moment:
        return ""
    from datetime import datetime

    from shared.contracts.inbound_models import CHINA_TIME

    return datetime.fromisoformat(moment).astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M") + " 北京时间"


def _show(erasure: dict[str, Any]) -> None:
    console.print(f"{erasure['erasure_id']} · {erasure['status_label']['zh']} {erasure['status_label']['en']}", markup=False)
    console.print(f"  subject (keyed hash) {erasure['subject_ref']} · ground {erasure['ground']} · {len(erasure['records'])} record(s)", markup=False)
    console.print(f"  asked by {erasure['requested_by']['id']} at {_china_time(erasure['requested_at'])}: {erasure['reason']}", markup=False)
    if erasure.get("held_message"):
        console.print(f"  {erasure['held_message']}", style="yellow", markup=False)
    if erasure.get("approved_by"):
        console.print(f"  approved by {erasure['approved_by']['id']}", markup=False)
    if erasure.get("outcome"):
        outcome = erasure["outcome"]
        console.print(f"  erased {len(outcome['keys_erased'])} key(s), deleted {outcome['inbox_messages_deleted']} inbox message(s) at {_china_time(outcome['completed_at'])}", markup=False)


@app.command()
def ask(
    ground: Annotated[str, typer.Option(help="The lawful ground (个人信息保护法 第四十七条); `fpb erasure grounds` lists them")],
    reason: Annotated[str, typer.Option(help="What happened: the person's request, its date and reference")],
    id_number: Annotated[Optional[str], typer.Option(help="The person's resident ID number; default: FPB_ERASE_ID_NUMBER (kept out of shell history)")] = None,
    subject_ref: Annotated[Optional[str], typer.Option(help="Or the person's keyed hash, as disclosures name it")] = None,
    data_dir: DataDir = Path(".fpb-data"),
) -> None:
    """An administrator asks for one person's personal data to be erased."""
    id_number = id_number or os.environ.get("FPB_ERASE_ID_NUMBER") or None
    body = {"ground": ground, "reason": reason, **({"id_number": id_number} if id_number else {}), **({"subject_ref": subject_ref} if subject_ref else {})}
    response = _call(data_dir, "administrator", "POST", "/erasures", json=body)
    if response.status_code == 409:
        _show(response.json()["erasure"])
        raise typer.Exit(1)
    if response.status_code != 201:
        _refused(response)
    _show(response.json())
    console.print("an auditor who did not ask approves it: fpb erasure approve " + response.json()["erasure_id"], markup=False)


@app.command()
def approve(erasure_id: Annotated[str, typer.Argument(help="The erasure request's id")], data_dir: DataDir = Path(".fpb-data")) -> None:
    """An auditor approves; the person's key is shredded and the inbox copies deleted."""
    response = _call(data_dir, "auditor", "POST", f"/erasures/{erasure_id}/approve")
    if response.status_code not in (200, 202):
        _refused(response)
    _show(response.json())


@app.command("list")
def listing(after: int = 0, limit: int = 100, data_dir: DataDir = Path(".fpb-data")) -> None:
    """Erasure requests in the order made (administrators and auditors)."""
    response = _call(data_dir, "auditor", "GET", "/erasures", params={"after": after, "limit": limit})
    if response.status_code != 200:
        _refused(response)
    table = Table(title="个人信息删除记录 · erasures")
    for column in ("erasure", "status 状态", "asked by", "approved by", "records"):
        table.add_column(column)
    for row in response.json()["rows"]:
        table.add_row(row["erasure_id"], row["status_label"]["zh"], row["requested_by"]["id"], (row.get("approved_by") or {}).get("id", ""), str(len(row["records"])))
    console.print(table)


@app.command()
def show(erasure_id: Annotated[str, typer.Argument(help="The erasure request's id")], data_dir: DataDir = Path(".fpb-data")) -> None:
    """One erasure request: who asked, the ground, what held it or what was erased."""
    response = _call(data_dir, "auditor", "GET", f"/erasures/{erasure_id}")
    if response.status_code != 200:
        _refused(response)
    _show(response.json())


@app.command()
def grounds(data_dir: DataDir = Path(".fpb-data")) -> None:
    """The lawful grounds an erasure may cite."""
    response = _call(data_dir, "administrator", "GET", "/erasures/grounds")
    if response.status_code != 200:
        _refused(response)
    for ground in response.json()["grounds"]:
        console.print(f"{ground['code']}: {ground['zh']} ({ground['en']}) · {ground['legal_basis']}", markup=False)
