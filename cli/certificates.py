"""`fpb certificate verify CODE`: is a certificate genuine and still valid? Also the
demo hook that lets officers work the demo's applications."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

app = typer.Typer(help="Family-planning certificates (计划生育证件)", no_args_is_help=True)
console = Console()
DataDir = Annotated[Path, typer.Option("--data-dir", envvar="FPB_DATA_DIR", help="Where `fpb up` keeps its state and endpoints.json")]


@app.command()
def verify(
    code: Annotated[str, typer.Argument(help="The verification code printed on the certificate (8 characters)")],
    data_dir: DataDir = Path(".fpb-data"),
) -> None:
    """Tell a third party whether a certificate is genuine and current (exit 0 only if it is)."""
    from cli.main import endpoints

    from cli.tokens import caller_auth

    url = endpoints(data_dir)["services"]["verification"]
    try:
        response = httpx.get(f"{url}/certificates/verify/{code}", timeout=10, auth=caller_auth(data_dir, "section_staff"))
    except httpx.HTTPError as error:
        console.print(f"[red]verification service unreachable: {error}[/red]")
        raise typer.Exit(2) from None
    answer = response.json()
    if response.status_code in (401, 403):
        console.print(f"refused: {answer.get('detail')}", style="red", markup=False)
        raise typer.Exit(2)
    if not answer.get("genuine"):
        console.print(f"[red]NOT GENUINE[/red] · 无此证件: {answer.get('message', '')} ({code})")
        raise typer.Exit(1)
    line = f"{answer['certificate_no']} · {answer['kind_zh']} · issued {answer['issued_on']} · township {answer['township_code']}"
    if answer["current"]:
        console.print(f"[green]GENUINE AND VALID[/green] · 真实有效: {line}")
        return
    console.print(f"[yellow]GENUINE BUT NOT VALID[/yellow] · 已撤销: {line} · {answer['message']}")
    raise typer.Exit(1)


def drive_demo_applications(verification_url: str, say: Any = console.print, enforcement_url: str | None = None, auth: Any = None) -> None:
    """`fpb up --demo`: officers work the demo's applications (cli/demo/applications_driver.py);
    the revocations name cases the Enforcement Brigade opens in enforcement."""
    from cli.demo.applications_driver import drive_applications

    with console.status("officers are working the demo applications…"):
        drive_applications(verification_url, say, enforcement_url=enforcement_url, auth=auth)
