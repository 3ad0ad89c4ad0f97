"""`fpb users`, the demo accounts and `fpb token`, against a real `python -m services.identity`."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import jwt
import pytest
from rich.console import Console
from typer.testing import CliRunner

from cli.main import app
from cli.platform import ServiceProcess
from cli.tokens import DemoLogin, token_for
from cli.users import create_demo_accounts, identity_store_url
from services.identity.adapters.directory import DirectoryStore
from services.identity.adapters.passwords import Passwords
from services.identity.domain import events as ev
from shared.messaging.nats_server import free_port

FAST_HASHES = {"FPB_PASSWORD_HASH_TIME_COST": "1", "FPB_PASSWORD_HASH_MEMORY_COST": "8", "FPB_PASSWORD_HASH_PARALLELISM": "1"}
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in FAST_HASHES.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "password").write_text("a long enough password\n")
    return tmp_path


def fpb(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("options, named", [
    (["--role", "superuser"], "--role"),
    (["--role", "section_staff", "--section", "人事科"], "--section"),
    (["--role", "section_staff"], "--section"),
    (["--role", "township_officer"], "--township"),
    (["--role", "township_officer", "--township", "130132999"], "--township"),
    (["--role", "agency_liaison", "--agency", "army"], "--agency"),
])
def test_users_add_refuses_bad_input_naming_the_option(data_dir, options, named):
    result = fpb("users", "add", "someone", "--name", "某人", *options, "--password-file", str(data_dir / "password"), "--data-dir", str(data_dir))
    assert result.exit_code == 2, result.output
    assert named in result.output


def test_users_add_list_grant_disable_each_recorded_with_the_os_user(data_dir, monkeypatch):
    monkeypatch.setattr("cli.users.console", Console(width=200))  # one table row per line
    d = ["--data-dir", str(data_dir)]
    added = fpb("users", "add", "FZ-07", "--name", "王芳", "--role", "section_staff", "--section", "扶助中心", "--password-file", str(data_dir / "password"), *d)
    assert added.exit_code == 0, added.output
    assert fpb("users", "add", "FZ-07", "--name", "王芳", "--role", "auditor", "--password-file", str(data_dir / "password"), *d).exit_code == 1
    granted = fpb("users", "grant", "FZ-07", "--role", "section_head", "--section", "财务科", *d)
    assert granted.exit_code == 0, granted.output
    refused = fpb("users", "grant", "FZ-07", "--role", "township_officer", *d)
    assert refused.exit_code == 2 and "--township" in refused.output
    assert fpb("users", "disable", "FZ-07", *d).exit_code == 0
    assert fpb("users", "disable", "nobody", *d).exit_code == 2
    listed = fpb("users", "list", *d)
    assert "FZ-07" in listed.output and "section_head" in listed.output and "disabled" in listed.output
    directory = DirectoryStore(identity_store_url(data_dir))
    account, password_hash = directory.account("FZ-07")
    assert account.disabled and account.grants.sections == ("扶助中心", "财务科") and password_hash.startswith("$argon2id$")
    kinds = [(e.kind, e.actor) for e in directory.events(account="FZ-07")]
    me = getpass.getuser()
    assert kinds == [(ev.ACCOUNT_CREATED, me), (ev.PASSWORD_SET, me), (ev.ACCOUNT_GRANTED, me), (ev.ACCOUNT_DISABLED, me)]
    directory.close()


@pytest.fixture
def running_provider(data_dir: Path):
    """The provider as `fpb up` runs it: its own process, waited on through /readyz."""
    port = free_port()
    store = f"sqlite:///{data_dir / 'stores' / 'identity.db'}"
    (data_dir / "stores").mkdir(exist_ok=True)
    env = {"FPB_IDENTITY_STORE_URL": store, "FPB_IDENTITY_KEY_DIR": str(data_dir / "keys-identity"), "FPB_IDENTITY_SECRETS_DIR": str(data_dir),
           "FPB_OIDC_ISSUER": f"http://127.0.0.1:{port}", "FPB_HTTP_PORT": str(port), **FAST_HASHES}
    process = ServiceProcess("identity", env, data_dir / "identity.log", port)
    process.start()
    try:
        process.wait_ready(30)
        (data_dir / "endpoints.json").write_text(json.dumps({"oidc_issuer": process.url, "identity_store": store, "services": {"identity": process.url}}))
        yield process
    finally:
        process.stop()


def test_demo_accounts_log_in_through_the_real_flow(data_dir, running_provider):
    out = data_dir / "demo-accounts.json"
    accounts = create_demo_accounts(identity_store_url(data_dir), out, Passwords(1, 8, 1))
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    names = {a["username"] for a in accounts}
    assert {"FZ-01", "FZ-02", "CW-01", "ZF-03", "ZF-001", "XF-001", "fg-wang", "fg-li", "xz-zhao", "xz-sun", "sj-auditor", "tj-01",
            "admin", "ops", "police-liaison", "health-liaison", "drug-liaison"} <= names
    assert sum(1 for n in names if n.startswith("ts-1301321")) + sum(1 for n in names if n.startswith("ts-1301322")) == 15
    again = create_demo_accounts(identity_store_url(data_dir), out, Passwords(1, 8, 1))  # idempotent, passwords kept
    assert [a["password"] for a in again] == [a["password"] for a in accounts]

    claims = jwt.decode(token_for(data_dir, "township_officer", township="130132105"), options={"verify_signature": False})
    assert (claims["sub"], claims["township"], claims["iss"]) == ("ts-130132105", "130132105", running_provider.url)

    printed = fpb("token", "--role", "agency_liaison", "--agency", "police", "--data-dir", str(data_dir))
    assert printed.exit_code == 0, printed.output
    assert jwt.decode(printed.stdout.strip(), options={"verify_signature": False})["agency"] == "police"
    unmatched = fpb("token", "--role", "section_head", "--section", "信访科", "--data-dir", str(data_dir))
    assert unmatched.exit_code == 2 and "--section" in unmatched.output


def test_demo_login_refreshes_before_expiry(data_dir, running_provider):
    accounts = create_demo_accounts(identity_store_url(data_dir), data_dir / "demo-accounts.json", Passwords(1, 8, 1))
    fz = next(a for a in accounts if a["username"] == "FZ-01")
    now = [0.0]
    login = DemoLogin(running_provider.url, "FZ-01", fz["password"], margin=60, clock=lambda: now[0])
    first = login.access_token()
    now[0] = 600.0
    assert login.access_token() == first  # 900 s tokens: still good
    now[0] = 850.0
    second = login.access_token()  # within a minute of expiry: renewed
    assert second != first and jwt.decode(second, options={"verify_signature": False})["sub"] == "FZ-01"
    events = DirectoryStore(identity_store_url(data_dir)).events(kind=ev.LOGIN_SUCCEEDED, account="FZ-01")
    assert len(events) == 1  # renewed with the refresh token, not a second password login
    assert DemoLogin.for_demo(data_dir, "section_head", section="扶助中心").username == "FZ-02"
