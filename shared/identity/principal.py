"""The authenticated caller, as the services see it: read from a verified token's claims.

Identity enters the domain as an input, exactly as time does: handlers take the officer
from the principal, never from the request body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Every role the policy table may name (CONTRACT.md, Authentication).
ROLES: dict[str, str] = {
    "township_officer": "乡级计生办 Township family-planning office",
    "section_staff": "科室工作人员 Section staff",
    "section_head": "科室负责人 Head of section",
    "enforcement_officer": "执法人员 Enforcement officer",
    "auditor": "审计人员 Auditor",
    "statistician": "统计人员 Statistician",
    "agency_liaison": "协作单位联络员 Agency liaison (police, health, drug)",
    "administrator": "系统管理员 Administrator (users and roles)",
    "operations": "运维人员 Operations",
}


@dataclass(frozen=True)
class ClaimNames:
    """Where the claims live in the token; a dotted name reads a nested claim
    (Keycloak puts realm roles in `realm_access.roles`)."""

    roles: str = "roles"
    sections: str = "sections"
    township: str = "township"
    agency: str = "agency"
    name: str = "name"


@dataclass(frozen=True)
class Principal:
    subject: str
    name: str
    roles: frozenset[str]
    sections: tuple[str, ...] = ()
    township: str | None = None
    agency: str | None = None
    client_id: str | None = None

    def holds(self, role: str) -> bool:
        return role in self.roles

    def as_officer(self, section: str) -> dict[str, str]:
        """The officer recorded in events: the token's subject and one of its sections."""
        return {"id": self.subject, "section": section}


def claim(claims: Mapping[str, Any], dotted: str) -> Any:
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value if isinstance(v, str) and v)
    return ()


def _single(value: Any) -> str | None:
    found = _strings(value)
    return found[0] if found else None


def principal_from_claims(claims: Mapping[str, Any], names: ClaimNames = ClaimNames()) -> Principal:
    """Unknown roles are ignored (an issuer may carry roles of other applications)."""
    return Principal(
        subject=str(claims["sub"]),
        name=str(claim(claims, names.name) or claims["sub"]),
        roles=frozenset(r for r in _strings(claim(claims, names.roles)) if r in ROLES),
        sections=_strings(claim(claims, names.sections)),
        township=_single(claim(claims, names.township)),
        agency=_single(claim(claims, names.agency)),
        client_id=_single(claims.get("client_id") or claims.get("azp")),
    )
