"""`fpb users`: the built-in OpenID provider's user directory (add, list, disable, grant),
and the demo accounts of `fpb up --demo`. Every change is recorded with the OS user."""

from __future__ import annotations

import getpass
import json
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from services.identity.adapters.directory import AccountExists, DirectoryStore
from services.identity.adapters.passwords import Passwords
from services.identity.application.accounts import AccountAdmin
from services.identity.domain.accounts import AccountRuleError, Grants

users_app = typer.Typer(help="用户目录 The built-in OpenID provider's accounts", no_args_is_help=True)
console = Console()
DEMO_ACCOUNTS = Path(__file__).parent / "demo" / "accounts.json"
DataDir = Annotated[Path, typer.Option("--data-dir", envvar="FPB_DATA_DIR", help="Where `fpb up` keeps its state (the identity store is named in endpoints.json)")]


def identity_store_url(data_dir: Path) -> str:
    """The store named in endpoints.json (`identity_store`), else DATA_DIR/stores/identity.db."""
    try:
        named = json.loads((data_dir / "endpoints.json").read_text()).get("identity_store")
    except (FileNotFoundError, json.JSONDecodeError):
        named = None
    if named:
        return named
    (data_dir / "stores").mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'stores' / 'identity.db').resolve()}"


def make_passwords() -> Passwords:
    from services.identity.bootstrap import passwords_of
    from services.identity.settings import PasswordHashSettings

    return passwords_of(PasswordHashSettings())


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _admin(store_url: str, passwords: Passwords | None = None) -> tuple[AccountAdmin, DirectoryStore]:
    directory = DirectoryStore(store_url)
    directory.create_tables()  # the CLI may run before the provider ever started
    return AccountAdmin(directory, passwords or make_passwords(), _utc_now), directory


def _refuse(error: AccountRuleError) -> typer.Exit:
    console.print(f"[red]{error.option}: {error.message}[/red]")
    return typer.Exit(2)


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            return password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise _refuse(AccountRuleError("--password-file", f"无法读取 cannot read {password_file}: {error.strerror}")) from None
    return typer.prompt("密码 Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="登录名 e.g. FZ-01")],
    name: Annotated[str, typer.Option("--name", help="姓名 display name, e.g. 王芳")],
    role: Annotated[list[str], typer.Option("--role", help="Role (repeatable): township_officer, section_staff, section_head, …")],
    section: Annotated[Optional[list[str]], typer.Option("--section", help="责任科室 (repeatable), e.g. 扶助中心")] = None,
    township: Annotated[Optional[str], typer.Option("--township", help="9-digit township code (township_officer)")] = None,
    agency: Annotated[Optional[str], typer.Option("--agency", help="police, health or drug (agency_liaison)")] = None,
    password_file: Annotated[Optional[Path], typer.Option("--password-file", help="Read the password from this file (else it is prompted for)")] = None,
    data_dir: DataDir = Path(".fpb-data"),
) -> None:
    """Add an account (its password is hashed with argon2id)."""
    grants = Grants(tuple(role), tuple(section or ()), township, agency)
    try:
        grants.validated()  # refuse bad input before asking for a password
        admin, directory = _admin(identity_store_url(data_dir))
        try:
            account = admin.add(username, name, grants, _read_password(password_file), getpass.getuser())
        finally:
            directory.close()
    except AccountRuleError as error:
        raise _refuse(error) from None
    except AccountExists:
        console.print(f"[red]USERNAME: 账户已存在 account {username!r} already exists[/red]")
        raise typer.Exit(1) from None
    console.print(f"已添加 added {account.username} ({account.display_name}): {', '.join(account.grants.roles)}")


@users_app.command("list")
def list_accounts(data_dir: DataDir = Path(".fpb-data")) -> None:
    """List the accounts and what they hold."""
    admin, directory = _admin(identity_store_url(data_dir))
    try:
        accounts = admin.list()
    finally:
        directory.close()
    table = Table(title="账户 Accounts")
    for column in ("用户名 username", "姓名 name", "角色 roles", "科室 sections", "乡镇 township", "单位 agency", "状态 status"):
        table.add_column(column)
    for a in accounts:
        g = a.grants
        table.add_row(a.username, a.display_name, " ".join(g.roles), " ".join(g.sections), g.township or "", g.agency or "",
                      "停用 disabled" if a.disabled else "启用 active")
    console.print(table)


@users_app.command("disable")
def disable(username: Annotated[str, typer.Argument()], data_dir: DataDir = Path(".fpb-data")) -> None:
    """Disable an account: it can no longer log in nor refresh its tokens."""
    admin, directory = _admin(identity_store_url(data_dir))
    try:
        admin.disable(username, getpass.getuser())
    except AccountRuleError as error:
        raise _refuse(error) from None
    finally:
        directory.close()
    console.print(f"已停用 disabled {username}")


@users_app.command("grant")
def grant(
    username: Annotated[str, typer.Argument()],
    role: Annotated[Optional[list[str]], typer.Option("--role", help="Role to add (repeatable)")] = None,
    section: Annotated[Optional[list[str]], typer.Option("--section", help="Section to add (repeatable)")] = None,
    township: Annotated[Optional[str], typer.Option("--township", help="Set the township code")] = None,
    agency: Annotated[Optional[str], typer.Option("--agency", help="Set the agency")] = None,
    data_dir: DataDir = Path(".fpb-data"),
) -> None:
    """Give an account more roles or sections (takes effect in its next token)."""
    admin, directory = _admin(identity_store_url(data_dir))
    try:
        account = admin.grant(username, tuple(role or ()), tuple(section or ()), township, agency, getpass.getuser())
    except AccountRuleError as error:
        raise _refuse(error) from None
    finally:
        directory.close()
    g = account.grants
    console.print(f"已授权 granted {username}: roles {', '.join(g.roles)}; sections {', '.join(g.sections) or '-'}")


@users_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument()],
    password_file: Annotated[Optional[Path], typer.Option("--password-file", help="Read the password from this file (else it is prompted for)")] = None,
    data_dir: DataDir = Path(".fpb-data"),
) -> None:
    """Set an account's password."""
    admin, directory = _admin(identity_store_url(data_dir))
    try:
        admin.set_password(username, _read_password(password_file), getpass.getuser())
    except AccountRuleError as error:
        raise _refuse(error) from None
    finally:
        directory.close()
    console.print(f"已设置密码 password set for {username}")


@users_app.command("rotate-key")
def rotate_key(data_dir: DataDir = Path(".fpb-data")) -> None:
    """Make a new signing key: new tokens carry its kid; the previous key stays in the JWKS."""
    from services.identity.adapters.signing_keys import KeyRing

    key = KeyRing(data_dir / "keys-identity").rotate()
    console.print(f"new signing key kid={key.kid}")


def _write_private_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(value, out, ensure_ascii=False, indent=1)
    os.replace(temporary, path)


def create_demo_accounts(store_url: str, out_path: Path, passwords: Passwords | None = None) -> list[dict[str, Any]]:
    """Create the demo accounts of cli/demo/accounts.json (idempotent) with random
    passwords, written to `out_path` (mode 0600); returns them. Passwords already in
    `out_path` are kept, so a second `fpb up --demo` does not log the drivers out."""
    try:
        known = {a["username"]: a["password"] for a in json.loads(out_path.read_text(encoding="utf-8"))}
    except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
        known = {}
    admin, directory = _admin(store_url, passwords)
    created = []
    try:
        existing = {a.username for a in admin.list()}
        for entry in json.loads(DEMO_ACCOUNTS.read_text(encoding="utf-8")):
            grants = Grants(tuple(entry["roles"]), tuple(entry["sections"]), entry.get("township"), entry.get("agency"))
            username = entry["username"]
            password = known.get(username)
            if username not in existing:
                password = password or secrets.token_urlsafe(12)
                admin.add(username, entry["name"], grants, password, actor="fpb up --demo")
            elif password is None:  # the account is there but its password file was lost
                password = secrets.token_urlsafe(12)
                admin.set_password(username, password, actor="fpb up --demo")
            created.append({"username": username, "password": password, "name": entry["name"], "roles": list(grants.roles),
                            "sections": list(grants.sections), "township": grants.township, "agency": grants.agency})
    finally:
        directory.close()
    _write_private_json(out_path, created)
    return created


def demo_login_lines(store_url: str, out_path: Path, issuer: str | None = None) -> list[str]:
    """Create the demo accounts and say, one line per role, who to log in as and where
    the passwords are (never the passwords themselves: these lines end up in logs)."""
    accounts = create_demo_accounts(store_url, out_path)
    by_role: dict[str, list[str]] = {}
    for account in accounts:
        for role in account["roles"]:
            by_role.setdefault(role, []).append(account["username"])
    lines = [f"演示账户 demo accounts: passwords in {out_path} (mode 0600)"
             + (f"; issuer {issuer}: log in on the dashboard (reporting, /dashboard), or `fpb token --role ROLE`" if issuer else "")]
    for role, usernames in by_role.items():
        shown = ", ".join(usernames) if len(usernames) <= 6 else f"{', '.join(usernames[:2])} … {usernames[-1]} ({len(usernames)})"
        lines.append(f"  {role}: {shown}")
    return lines
