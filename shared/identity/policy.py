"""The access policy table (policy.json): which right each route needs, which roles
(and, for section staff and heads, which sections) hold each right. Default deny: a
route the table does not name is refused. Pure: no I/O beyond reading the file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.identity.principal import ROLES, Principal

POLICY_FILE = Path(__file__).with_name("policy.json")
SECTION_ROLES = frozenset({"section_staff", "section_head"})
SCOPED_ROLES = frozenset({"township_officer", "agency_liaison"})  # they see only their township or agency
TOWNSHIP_SCOPES = ("filter", "object", "none")
AGENCY_SCOPES = ("path", "none")


class PolicyError(ValueError):
    """The policy table is not coherent (found when it is loaded, never at a request)."""


@dataclass(frozen=True)
class Right:
    name: str
    zh: str
    en: str
    roles: tuple[str, ...]
    sections: tuple[str, ...] = ()  # for section roles: one of these sections is needed (empty: any)

    def granting_roles(self, principal: Principal) -> tuple[str, ...]:
        def grants(role: str) -> bool:
            if not principal.holds(role):
                return False
            return role not in SECTION_ROLES or not self.sections or bool(set(principal.sections) & set(self.sections))

        return tuple(role for role in self.roles if grants(role))

    def describe(self) -> str:
        holders = ", ".join(self.roles)
        where = f" ({'/'.join(self.sections)})" if self.sections else ""
        return f"{self.zh} / {self.en}: {holders}{where}"


@dataclass(frozen=True)
class RouteRule:
    key: str  # "METHOD /template"
    open: bool = False
    right: str | None = None
    township: str | None = None
    agency: str | None = None


@dataclass(frozen=True)
class Grant:
    """Why a request may go on: the right, the roles that gave it, and the scope that
    still applies (a township officer's township, a liaison's agency), if any."""

    right: str
    roles: tuple[str, ...]
    township: str | None = None
    agency: str | None = None


@dataclass(frozen=True)
class Refusal:
    status: int
    field: str
    message: str


@dataclass(frozen=True)
class Policy:
    rights: Mapping[str, Right]
    routes: Mapping[str, Mapping[str, RouteRule]]  # service -> key -> rule ("*": every service)

    def rule(self, service: str, method: str, template: str) -> RouteRule | None:
        key = f"{'GET' if method == 'HEAD' else method} {template}"
        return self.routes.get(service, {}).get(key) or self.routes.get("*", {}).get(key)

    def keys_of(self, service: str) -> set[str]:
        return set(self.routes.get(service, {})) | set(self.routes.get("*", {}))

    def decide(self, principal: Principal, rule: RouteRule) -> Grant | Refusal:
        right = self.rights[rule.right or ""]
        roles = right.granting_roles(principal)
        if not roles:
            return Refusal(403, "authorization", f"需要权限 {right.name}（{right.describe()}） / needs the right {right.name}, held by: {', '.join(right.roles)}"
                           + (f" of {'/'.join(right.sections)}" if right.sections else ""))
        if any(role not in SCOPED_ROLES for role in roles):
            return Grant(right.name, roles)  # a county-wide role: no township or agency scope
        township = principal.township if "township_officer" in roles else None
        agency = principal.agency if "agency_liaison" in roles else None
        if "township_officer" in roles and township is None:
            return Refusal(403, "authorization", "乡级账户未指定乡镇 / the township officer's token names no township")
        if "agency_liaison" in roles and agency is None:
            return Refusal(403, "authorization", "联络员账户未指定单位 / the agency liaison's token names no agency")
        return Grant(right.name, roles, township, agency)


def _as_tuple(value: Any) -> tuple[str, ...]:
    return tuple(value or ())


def parse_policy(document: Mapping[str, Any]) -> Policy:
    rights = {}
    for name, spec in document["rights"].items():
        unknown = [r for r in spec["roles"] if r not in ROLES]
        if unknown:
            raise PolicyError(f"right {name}: unknown role(s) {', '.join(unknown)}")
        rights[name] = Right(name, spec["zh"], spec["en"], _as_tuple(spec["roles"]), _as_tuple(spec.get("sections")))
    routes: dict[str, dict[str, RouteRule]] = {}
    for service, table in document["routes"].items():
        routes[service] = {}
        for key, spec in table.items():
            if key.startswith("_"):  # a note for the reader ("_about")
                continue
            rule = RouteRule(key, bool(spec.get("open")), spec.get("right"), spec.get("township"), spec.get("agency"))
            _check_rule(service, rule, rights)
            routes[service][key] = rule
    return Policy(rights, routes)


def _check_rule(service: str, rule: RouteRule, rights: Mapping[str, Right]) -> None:
    where = f"{service} {rule.key}"
    if rule.open == (rule.right is not None):
        raise PolicyError(f"{where}: a route is either open or needs one right")
    if rule.open:
        return
    if rule.right not in rights:
        raise PolicyError(f"{where}: unknown right {rule.right!r}")
    roles = rights[rule.right].roles
    # A right a scoped role holds must say, on every route, how the scope applies there.
    if "township_officer" in roles and rule.township not in TOWNSHIP_SCOPES:
        raise PolicyError(f"{where}: {rule.right} is held by township officers, so the route must say township: {'|'.join(TOWNSHIP_SCOPES)}")
    if "agency_liaison" in roles and rule.agency not in AGENCY_SCOPES:
        raise PolicyError(f"{where}: {rule.right} is held by agency liaisons, so the route must say agency: {'|'.join(AGENCY_SCOPES)}")


def load_policy(path: Path | None = None) -> Policy:
    return parse_policy(json.loads((path or POLICY_FILE).read_text(encoding="utf-8")))
