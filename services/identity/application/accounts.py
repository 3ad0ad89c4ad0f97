"""Managing accounts (`fpb users …`): every change is one transaction with its event."""

from __future__ import annotations

from services.identity.adapters.directory import DirectoryStore
from services.identity.application.ports import Clock, PasswordHashes
from services.identity.domain import events as ev
from services.identity.domain.accounts import Account, AccountRuleError, Grants
from services.identity.domain.events import SecurityEvent

MIN_PASSWORD_LENGTH = 10


class AccountAdmin:
    def __init__(self, directory: DirectoryStore, passwords: PasswordHashes, clock: Clock) -> None:
        self._directory = directory
        self._passwords = passwords
        self._clock = clock

    def add(self, username: str, display_name: str, grants: Grants, password: str | None, actor: str) -> Account:
        account = Account.new(username, display_name, grants)
        password_hash = self._password_hash(password) if password is not None else None
        now = self._clock()
        created = SecurityEvent(ev.ACCOUNT_CREATED, now, actor=actor, account=username, detail=_grants_detail(account.grants))
        self._directory.add_account(account, password_hash, now, created)
        if password_hash is not None:
            self._directory.record(SecurityEvent(ev.PASSWORD_SET, now, actor=actor, account=username))
        return account

    def set_password(self, username: str, password: str, actor: str) -> None:
        self._existing(username)
        self._directory.set_password_hash(username, self._password_hash(password), SecurityEvent(ev.PASSWORD_SET, self._clock(), actor=actor, account=username))

    def disable(self, username: str, actor: str) -> Account:
        account = self._existing(username).disable()
        self._directory.save_account(account, SecurityEvent(ev.ACCOUNT_DISABLED, self._clock(), actor=actor, account=username))
        return account

    def grant(self, username: str, roles: tuple[str, ...], sections: tuple[str, ...], township: str | None, agency: str | None, actor: str) -> Account:
        before = self._existing(username)
        account = before.granted(before.grants.plus(roles, sections, township, agency))
        granted = SecurityEvent(ev.ACCOUNT_GRANTED, self._clock(), actor=actor, account=username,
                                detail={"before": _grants_detail(before.grants), "after": _grants_detail(account.grants)})
        self._directory.save_account(account, granted)
        return account

    def list(self) -> list[Account]:
        return self._directory.accounts()

    def _existing(self, username: str) -> Account:
        found = self._directory.account(username)
        if found is None:
            raise AccountRuleError("USERNAME", f"没有此账户 no account {username!r}")
        return found[0]

    def _password_hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountRuleError("--password-file", f"密码太短 password too short: at least {MIN_PASSWORD_LENGTH} characters")
        return self._passwords.hash(password)


def _grants_detail(grants: Grants) -> dict:
    return {"roles": list(grants.roles), "sections": list(grants.sections), "township": grants.township, "agency": grants.agency}
