"""Checking a login: password, disabled accounts, lockout per account and per address.

Failures and lockouts are events in the database, so they survive a restart and every
replica sees them. Failures are counted per username *as typed*, known or not, so a
lock says nothing about whether an account exists; a disabled account answers like a
wrong password. While locked, the password is not even checked (no guessing oracle)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.identity.adapters.directory import DirectoryStore
from services.identity.application.ports import Clock, PasswordHashes
from services.identity.domain import events as ev
from services.identity.domain.accounts import Account
from services.identity.domain.events import SecurityEvent
from services.identity.domain.lockout import LockoutPolicy, active_until, lock_after

BAD_CREDENTIALS = "bad_credentials"
ACCOUNT_LOCKED = "account_locked"
ADDRESS_BLOCKED = "address_blocked"


@dataclass(frozen=True)
class LoginOutcome:
    account: Account | None
    refusal: str | None = None
    until: datetime | None = None


def _lock_ends(events: list[SecurityEvent], scope: str) -> list[datetime]:
    return [datetime.fromisoformat(e.detail["until"]) for e in events if e.kind == ev.LOCKED_OUT and e.detail.get("scope") == scope]


class LoginService:
    def __init__(self, directory: DirectoryStore, passwords: PasswordHashes, policy: LockoutPolicy, clock: Clock) -> None:
        self._directory = directory
        self._passwords = passwords
        self._policy = policy
        self._clock = clock

    def login(self, username: str, password: str, remote_addr: str | None, client_id: str | None) -> LoginOutcome:
        now, p = self._clock(), self._policy
        kinds = (ev.LOGIN_FAILED, ev.LOGIN_SUCCEEDED, ev.LOCKED_OUT)
        by_address = self._directory.login_history(None, remote_addr, now - max(p.address_window, p.address_block), kinds) if remote_addr else []
        by_account = self._directory.login_history(username, None, now - max(p.account_window, p.account_lock), kinds)
        where = dict(account=username, client_id=client_id, remote_addr=remote_addr)

        blocked = active_until(_lock_ends(by_address, "address"), now)
        locked = active_until(_lock_ends(by_account, "account"), now)
        if blocked or locked:
            self._directory.record(SecurityEvent(ev.LOGIN_REFUSED, now, actor=username, detail={"reason": ADDRESS_BLOCKED if blocked else ACCOUNT_LOCKED}, **where))
            return LoginOutcome(None, ADDRESS_BLOCKED if blocked else ACCOUNT_LOCKED, blocked or locked)

        found = self._directory.account(username)
        account, password_hash = found if found else (None, None)
        if self._passwords.verify(password_hash, password) and account is not None and not account.disabled:
            self._directory.record(SecurityEvent(ev.LOGIN_SUCCEEDED, now, actor=username, **where))
            return LoginOutcome(account)

        reason = "unknown_account" if account is None else "disabled" if account.disabled else "wrong_password"
        recorded = [SecurityEvent(ev.LOGIN_FAILED, now, actor=username, detail={"reason": reason}, **where)]
        account_reset = max([e.at for e in by_account if e.kind == ev.LOGIN_SUCCEEDED] + _lock_ends(by_account, "account"), default=None)
        account_failures = [e.at for e in by_account if e.kind == ev.LOGIN_FAILED and (account_reset is None or e.at > account_reset)] + [now]
        locked = lock_after(account_failures, now, p.account_failures, p.account_window, p.account_lock)
        if locked:
            recorded.append(SecurityEvent(ev.LOCKED_OUT, now, actor="identity", detail={"scope": "account", "until": locked.isoformat()}, **where))
        if remote_addr:
            # a success from the address does not reset it: one valid account must not let a guesser go on
            address_reset = max(_lock_ends(by_address, "address"), default=None)
            address_failures = [e.at for e in by_address if e.kind == ev.LOGIN_FAILED and (address_reset is None or e.at > address_reset)] + [now]
            blocked = lock_after(address_failures, now, p.address_failures, p.address_window, p.address_block)
            if blocked:
                recorded.append(SecurityEvent(ev.LOCKED_OUT, now, actor="identity", client_id=client_id, remote_addr=remote_addr,
                                              detail={"scope": "address", "until": blocked.isoformat()}))
        self._directory.record(*recorded)
        if locked:
            return LoginOutcome(None, ACCOUNT_LOCKED, locked)
        if blocked:
            return LoginOutcome(None, ADDRESS_BLOCKED, blocked)
        return LoginOutcome(None, BAD_CREDENTIALS)
