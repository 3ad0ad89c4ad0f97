"""`fpb audit verify`: an auditor's check of every event store against its hash chain
and the signed checkpoints the auditor kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from shared.eventstore.application import ServiceApplication
from shared.eventstore.chain_store import ChainTable
from shared.eventstore.checkpoints import PUBLIC_KEY_FILE, load_public_key, read_all
from shared.eventstore.verify import Report, verify_store

audit_app = typer.Typer(help="Tamper evidence: verify the stores' hash chains and signed checkpoints", no_args_is_help=True)
console = Console()


class _Store(ServiceApplication):
    """Opens a service's store by URL, under the service's own name."""

    def __init__(self, name: str, url: str) -> None:
        self.name = name
        super().__init__(url)


def verify_one(name: str, url: str, checkpoint_dir: Path, public_key_file: Path) -> Report:
    store, chain = _Store(name, url), ChainTable(url, name)
    try:
        return verify_store(name, store.iter_log(), chain.links(), read_all(checkpoint_dir, name), load_public_key(public_key_file))
    finally:
        chain.close()
        store.close()


@audit_app.command("verify")
def verify(
    checkpoints: Annotated[Path, typer.Option("--checkpoints", help="The directory of signed checkpoints you kept")],
    public_key: Annotated[Optional[Path], typer.Option(help=f"Default: CHECKPOINTS/{PUBLIC_KEY_FILE}")] = None,
    store: Annotated[Optional[list[str]], typer.Option(help="NAME=URL of a store; default: the stores in DATA_DIR/endpoints.json")] = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", envvar="FPB_DATA_DIR")] = Path(".fpb-data"),
) -> None:
    """Recompute every chain, check every checkpoint, and say where anything was changed."""
    from cli.main import endpoints

    stores = dict(item.split("=", 1) for item in store) if store else endpoints(data_dir)["stores"]
    key_file = public_key or checkpoints / PUBLIC_KEY_FILE
    table = Table(title="audit verification · 审计核验")
    for column in ("store", "events", "checkpoints", "result"):
        table.add_column(column)
    failed = False
    for name, url in stores.items():
        report = verify_one(name, url, checkpoints, key_file)
        table.add_row(name, str(report.events), str(report.checkpoints), "[green]intact 完好[/green]" if report.ok else f"[red]{len(report.findings)} finding(s)[/red]")
        for finding in report.findings:
            console.print(f"[red]{name}: {finding.kind} at event {finding.position}:[/red] {finding.message}")
        failed = failed or not report.ok
    console.print(table)
    raise typer.Exit(1 if failed else 0)
