"""`fpb credentials`: NKey credentials for a broker the operator runs (production)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from shared.messaging.credentials import ensure_credentials, public_keys
from shared.messaging.nats_authorization import nkey_variable

app = typer.Typer(help="NATS credentials: one NKey user per client (nats_permissions.json)", no_args_is_help=True)
console = Console()


@app.command()
def generate(
    directory: Annotated[Path, typer.Argument(help="Where the seed files go (<user>.nk, mode 0600); existing seeds are kept")],
    env_file: Annotated[Optional[Path], typer.Option(help="Also write the public keys as FPB_NKEY_<USER>=U… lines, for the nats-server's environment (deploy/nats/authorization.conf)")] = None,
) -> None:
    """One NKey seed per client of the permission table; prints (or writes) the public keys."""
    keys = public_keys(ensure_credentials(directory))
    lines = [f"{nkey_variable(user)}={key}" for user, key in keys.items()]
    if env_file is not None:
        env_file.write_text("\n".join(lines) + "\n")
        console.print(f"wrote {len(keys)} seeds to {directory} and their public keys to {env_file}")
    else:
        console.print("\n".join(lines), highlight=False)


AUTHORIZATION_FILES = (Path("deploy/nats/authorization.conf"), Path("deploy/k8s/authorization.conf"))


def write_authorization_files() -> list[Path]:
    """The production brokers' authorization block, with $FPB_NKEY_<USER> variables (`fpb contracts`)."""
    from shared.messaging.nats_authorization import render_authorization

    for path in AUTHORIZATION_FILES:
        path.write_text(render_authorization(None))
    return list(AUTHORIZATION_FILES)
