"""Accounts and machine clients of the built-in OpenID provider: who they are, what
they may be granted. Pure: no I/O; the township codes come from the shared contract."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from shared.contracts.townships import TOWNSHIPS

ROLES: tuple[str, ...] = (
    "township_officer",
    "section_staff",
    "section_head",
    "enforcement_officer",
    "auditor",
    "statistician",
    "agency_liaison",
    "administrator",
    "operations",
)
# 责任科室: the sections of the duty register.
SECTIONS: tuple[str, ...] = (
    "法规科", "办公室", "扶助中心", "县直科", "技术科", "服务站", "药具站", "执法大队", "宣传站",
    "宣传科", "计生协会", "财务科", "基层科", "流动人口科", "统计科", "信访科", "人口调查科", "回访中心",
)
AGENCIES: tuple[str, ...] = ("police", "health", "drug")
SECTION_ROLES = frozenset({"section_staff", "section_head"})


class AccountRuleError(ValueError):
    """An account or grant breaks a rule; `option` names the input that is wrong
    (the CLI option, e.g. "--township"), so the message can point at it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        self.option = option
        self.message = message


@dataclass(frozen=True)
class Grants:
    """What a subject (person or machine client) holds: the claims the services rely on."""

    roles: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    township: str | None = None
    agency: str | None = None

    def validated(self) -> Grants:
        """The same grants, checked; raises AccountRuleError naming the option."""
        for role in self.roles:
            if role not in ROLES:
                raise AccountRuleError("--role", f"未知角色 unknown role {role!r}; one of: {', '.join(ROLES)}")
        for section in self.sections:
            if section not in SECTIONS:
                raise AccountRuleError("--section", f"未知科室 unknown section {section!r}; one of: {' '.join(SECTIONS)}")
        if self.township is not None and self.township not in TOWNSHIPS:
            raise AccountRuleError("--township", f"未知乡镇代码 unknown township code {self.township!r}; one of: {' '.join(TOWNSHIPS)}")
        if self.agency is not None and self.agency not in AGENCIES:
            raise AccountRuleError("--agency", f"未知单位 unknown agency {self.agency!r}; one of: {', '.join(AGENCIES)}")
        if "township_officer" in self.roles and self.township is None:
            raise AccountRuleError("--township", "乡级计生办账户需要一个乡镇 township_officer needs exactly one --township")
        if "agency_liaison" in self.roles and self.agency is None:
            raise AccountRuleError("--agency", "联络员账户需要一个单位 agency_liaison needs exactly one --agency (police, health or drug)")
        if SECTION_ROLES & set(self.roles) and not self.sections:
            raise AccountRuleError("--section", "科室人员需要至少一个科室 section_staff/section_head need at least one --section")
        return Grants(tuple(dict.fromkeys(self.roles)), tuple(dict.fromkeys(self.sections)), self.township, self.agency)

    def plus(self, roles: tuple[str, ...] = (), sections: tuple[str, ...] = (), township: str | None = None, agency: str | None = None) -> Grants:
        """These grants with more roles and sections; a township or agency given replaces the old one."""
        return Grants(
            self.roles + tuple(r for r in roles if r not in self.roles),
            self.sections + tuple(s for s in sections if s not in self.sections),
            township if township is not None else self.township,
            agency if agency is not None else self.agency,
        ).validated()


@dataclass(frozen=True)
class Account:
    username: str
    display_name: str
    grants: Grants = field(default_factory=Grants)
    disabled: bool = False

    @staticmethod
    def new(username: str, display_name: str, grants: Grants) -> Account:
        if not username or len(username) > 64 or any(c.isspace() for c in username):
            raise AccountRuleError("USERNAME", f"用户名无效 invalid username {username!r}: 1-64 characters, no spaces")
        if not display_name.strip():
            raise AccountRuleError("--name", "需要姓名 a display name is needed (--name)")
        if not grants.roles:
            raise AccountRuleError("--role", "至少需要一个角色 at least one --role is needed")
        return Account(username, display_name.strip(), grants.validated())

    def disable(self) -> Account:
        return replace(self, disabled=True)

    def granted(self, grants: Grants) -> Account:
        return replace(self, grants=grants)


@dataclass(frozen=True)
class Client:
    """A registered OAuth client. Public clients (browsers, the CLI) prove themselves with
    PKCE; confidential ones with a secret (its argon2 hash only is kept)."""

    client_id: str
    public: bool
    redirect_uris: tuple[str, ...] = ()
    grant_types: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ("openid", "profile")
    grants: Grants = field(default_factory=Grants)  # machine clients' own claims
    secret_hash: str | None = None

    def accepts_redirect(self, uri: str) -> bool:
        return uri in self.redirect_uris  # exact match, never a prefix (RFC 9700 §4.1.1)
