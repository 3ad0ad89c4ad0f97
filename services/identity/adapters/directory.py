"""The user directory on SQLAlchemy 2 (SQLite or PostgreSQL): accounts, clients, codes,
refresh tokens and the append-only security-event table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from services.identity.adapters import tables as t
from services.identity.domain.accounts import Account, Client, Grants
from services.identity.domain.events import SecurityEvent
from shared.eventstore.backend import create_tables, sqlalchemy_url, sqlite_pragmas


class AccountExists(Exception):
    pass


@dataclass(frozen=True)
class StoredCode:
    client_id: str
    username: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None
    auth_time: datetime
    family_id: str


@dataclass(frozen=True)
class StoredRefreshToken:
    family_id: str
    client_id: str
    username: str
    scope: str


def _grants(row: Any) -> Grants:
    return Grants(tuple(row.roles), tuple(row.sections), row.township, row.agency)


def _account(row: Any) -> Account:
    return Account(row.username, row.display_name, _grants(row), bool(row.disabled))


def _client(row: Any) -> Client:
    return Client(row.client_id, bool(row.public), tuple(row.redirect_uris), tuple(row.grant_types), tuple(row.scopes), _grants(row), row.secret_hash)


class DirectoryStore:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", sqlite_pragmas)

    def create_tables(self) -> None:
        create_tables(t.metadata, self.engine)

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()

    # accounts
    def account(self, username: str) -> tuple[Account, str | None] | None:
        with self.engine.connect() as c:
            row = c.execute(select(t.accounts).where(t.accounts.c.username == username)).first()
        return (_account(row), row.password_hash) if row else None

    def accounts(self) -> list[Account]:
        with self.engine.connect() as c:
            return [_account(r) for r in c.execute(select(t.accounts).order_by(t.accounts.c.username))]

    def add_account(self, account: Account, password_hash: str | None, now: datetime, created: SecurityEvent) -> None:
        g = account.grants
        try:
            with self.engine.begin() as c:
                c.execute(insert(t.accounts).values(
                    username=account.username, display_name=account.display_name, password_hash=password_hash,
                    roles=list(g.roles), sections=list(g.sections), township=g.township, agency=g.agency,
                    disabled=account.disabled, created_at=now,
                ))
                self._record(c, created)
        except IntegrityError:
            raise AccountExists(account.username) from None

    def save_account(self, account: Account, *events: SecurityEvent) -> None:
        g = account.grants
        with self.engine.begin() as c:
            c.execute(update(t.accounts).where(t.accounts.c.username == account.username).values(
                display_name=account.display_name, roles=list(g.roles), sections=list(g.sections),
                township=g.township, agency=g.agency, disabled=account.disabled,
            ))
            for e in events:
                self._record(c, e)

    def set_password_hash(self, username: str, password_hash: str, recorded: SecurityEvent) -> None:
        with self.engine.begin() as c:
            c.execute(update(t.accounts).where(t.accounts.c.username == username).values(password_hash=password_hash))
            self._record(c, recorded)

    # clients
    def client(self, client_id: str) -> Client | None:
        with self.engine.connect() as c:
            row = c.execute(select(t.clients).where(t.clients.c.client_id == client_id)).first()
        return _client(row) if row else None

    def save_client(self, client: Client) -> None:
        g = client.grants
        values = dict(
            public=client.public, secret_hash=client.secret_hash, redirect_uris=list(client.redirect_uris),
            grant_types=list(client.grant_types), scopes=list(client.scopes), roles=list(g.roles),
            sections=list(g.sections), township=g.township, agency=g.agency,
        )
        with self.engine.begin() as c:
            if c.execute(update(t.clients).where(t.clients.c.client_id == client.client_id).values(**values)).rowcount == 0:
                c.execute(insert(t.clients).values(client_id=client.client_id, **values))

    # authorization codes
    def save_code(self, code_hash: str, code: StoredCode, expires_at: datetime) -> None:
        with self.engine.begin() as c:
            c.execute(insert(t.authorization_codes).values(code_hash=code_hash, expires_at=expires_at, used_at=None, **code.__dict__))

    def claim_code(self, code_hash: str, client_id: str, now: datetime) -> StoredCode | str | None:
        """The code, marked used in the same statement (single use even under a race);
        "reused" when it was used before (its token family is then revoked by the caller)."""
        codes = t.authorization_codes
        with self.engine.begin() as c:
            claimed = c.execute(update(codes).where(
                codes.c.code_hash == code_hash, codes.c.client_id == client_id, codes.c.used_at.is_(None), codes.c.expires_at > now,
            ).values(used_at=now)).rowcount
            row = c.execute(select(codes).where(codes.c.code_hash == code_hash, codes.c.client_id == client_id)).first()
        if row is None:
            return None
        if not claimed:
            return f"reused:{row.family_id}" if row.used_at is not None else None
        return StoredCode(row.client_id, row.username, row.redirect_uri, row.scope, row.code_challenge,
                          row.code_challenge_method, row.nonce, row.auth_time, row.family_id)

    # refresh tokens
    def save_refresh_token(self, token_hash: str, token: StoredRefreshToken, issued_at: datetime, expires_at: datetime) -> None:
        with self.engine.begin() as c:
            c.execute(insert(t.refresh_tokens).values(token_hash=token_hash, issued_at=issued_at, expires_at=expires_at, **token.__dict__))

    def claim_refresh_token(self, token_hash: str, now: datetime) -> StoredRefreshToken | str | None:
        """The token, marked rotated in the same statement; "reused:<family>" when it was
        rotated before (a stolen copy, or the thief's); None when unknown, expired or revoked."""
        rt = t.refresh_tokens
        with self.engine.begin() as c:
            claimed = c.execute(update(rt).where(
                rt.c.token_hash == token_hash, rt.c.rotated_at.is_(None), rt.c.revoked_at.is_(None), rt.c.expires_at > now,
            ).values(rotated_at=now)).rowcount
            row = c.execute(select(rt).where(rt.c.token_hash == token_hash)).first()
        if row is None:
            return None
        if not claimed:
            return f"reused:{row.family_id}" if row.rotated_at is not None and row.revoked_at is None else None
        return StoredRefreshToken(row.family_id, row.client_id, row.username, row.scope)

    def revoke_family(self, family_id: str, now: datetime, recorded: SecurityEvent | None = None) -> int:
        rt = t.refresh_tokens
        with self.engine.begin() as c:
            count = c.execute(update(rt).where(rt.c.family_id == family_id, rt.c.revoked_at.is_(None)).values(revoked_at=now)).rowcount
            if recorded is not None:
                self._record(c, recorded)
        return count

    def revoke_refresh_tokens_of(self, username: str, client_id: str, now: datetime, recorded: SecurityEvent) -> int:
        rt = t.refresh_tokens
        with self.engine.begin() as c:
            count = c.execute(update(rt).where(rt.c.username == username, rt.c.client_id == client_id, rt.c.revoked_at.is_(None)).values(revoked_at=now)).rowcount
            self._record(c, recorded)
        return count

    # security events
    def record(self, *events: SecurityEvent) -> None:
        with self.engine.begin() as c:
            for e in events:
                self._record(c, e)

    @staticmethod
    def _record(connection: Any, e: SecurityEvent) -> None:
        connection.execute(insert(t.security_events).values(
            at=e.at, kind=e.kind, actor=e.actor, account=e.account, client_id=e.client_id, remote_addr=e.remote_addr, detail=e.detail,
        ))

    def events(self, kind: str | None = None, account: str | None = None, since: datetime | None = None) -> list[SecurityEvent]:
        ev = t.security_events
        query = select(ev).order_by(ev.c.id)
        if kind is not None:
            query = query.where(ev.c.kind == kind)
        if account is not None:
            query = query.where(ev.c.account == account)
        if since is not None:
            query = query.where(ev.c.at >= since)
        with self.engine.connect() as c:
            return [SecurityEvent(r.kind, r.at, r.actor, r.account, r.client_id, r.remote_addr, dict(r.detail or {})) for r in c.execute(query)]

    def login_history(self, account: str | None, remote_addr: str | None, since: datetime, kinds: Sequence[str]) -> list[SecurityEvent]:
        """Events of these kinds since a moment, for one account name or one address."""
        ev = t.security_events
        query = select(ev).where(ev.c.kind.in_(list(kinds)), ev.c.at >= since).order_by(ev.c.id)
        if account is not None:
            query = query.where(ev.c.account == account)
        if remote_addr is not None:
            query = query.where(ev.c.remote_addr == remote_addr)
        with self.engine.connect() as c:
            return [SecurityEvent(r.kind, r.at, r.actor, r.account, r.client_id, r.remote_addr, dict(r.detail or {})) for r in c.execute(query)]
