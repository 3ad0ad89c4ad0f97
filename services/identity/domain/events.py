"""The kinds of security and account events (an append-only table, never updated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACCOUNT_CREATED = "account_created"
ACCOUNT_DISABLED = "account_disabled"
ACCOUNT_GRANTED = "account_granted"
PASSWORD_SET = "password_set"
LOGIN_SUCCEEDED = "login_succeeded"
LOGIN_FAILED = "login_failed"  # a wrong password or an unknown or disabled account: counted for lockout
LOGIN_REFUSED = "login_refused"  # while locked or blocked: not counted again
LOCKED_OUT = "locked_out"  # an account (username) or an address; detail.until
TOKEN_ISSUED = "token_issued"  # client_credentials
REFRESH_TOKEN_REUSED = "refresh_token_reused"  # a rotated refresh token came back: its family is revoked
AUTHORIZATION_CODE_REUSED = "authorization_code_reused"
LOGGED_OUT = "logged_out"


@dataclass(frozen=True)
class SecurityEvent:
    kind: str
    at: datetime
    actor: str | None = None  # who did it: the OS user of `fpb users`, the account logging in, a client
    account: str | None = None
    client_id: str | None = None
    remote_addr: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
