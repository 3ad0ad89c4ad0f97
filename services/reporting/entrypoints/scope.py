"""Which township a report is cut to (乡镇口径), and for whom.

A township officer's request reaches reporting with `township_code` already set to their
own township: the access middleware does it on every route the policy marks
`"township": "filter"` (asking for another township is refused there, 403 naming the
field). A county-wide reader may cut the same reports to one township with the same
parameter. Either way the cut is read here once and every query applies it in SQL, so a
count or total is over that township alone, never the county's.

What a township officer receives of their own township follows their rights elsewhere:
they may not read cases (cases.read), so the records routed to the sections whose work
is case work (tips, petitions, the two-illegals evidence of 执法大队 and 信访科) stay out of
their submission figures, and the response says so (`sections_withheld`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Query, Request

from shared.contracts.townships import TOWNSHIPS
from shared.identity.access import township_scope

# Sections whose work is case work (the sections of cases.read): withheld from a township officer.
CASE_SECTIONS = ("执法大队", "信访科")

TOWNSHIP_HELP = "One township only (乡镇代码, e.g. 130132100); a township officer always gets their own"


def township_query(unnamed: bool = False) -> Any:
    extra = "; empty: the records that name no township" if unnamed else ""
    return Query(None, description=TOWNSHIP_HELP + extra)


def unknown_township(value: str) -> HTTPException:
    return HTTPException(422, detail=[{"field": "township_code", "message": (
        f"未知的乡镇代码 {value!r}，应为本县乡镇代码之一 / unknown township code {value!r}; one of {', '.join(TOWNSHIPS)}")}])


@dataclass(frozen=True)
class TownshipCut:
    """code: the township the figures are cut to ("" the records naming none; None the
    whole county). scoped: the caller may see no other township (a township officer)."""

    code: str | None = None
    scoped: bool = False

    @property
    def township_name(self) -> str:
        return TOWNSHIPS.get(self.code or "", "未注明乡镇" if self.code == "" else "")

    @property
    def withheld_sections(self) -> tuple[str, ...]:
        return CASE_SECTIONS if self.scoped else ()

    def where(self) -> dict[str, str]:
        """Equality filters for ReadModelStore.rows."""
        return {} if self.code is None else {"township_code": self.code}

    def without(self) -> dict[str, tuple[str, ...]]:
        """Exclusions for ReadModelStore.rows (on tables with a section column)."""
        return {"section": self.withheld_sections} if self.withheld_sections else {}

    def describe(self, sections: bool = False) -> dict[str, Any]:
        """What a cut report adds to its answer (nothing for the whole county); `sections`:
        the report counts records by section, so it also says which were withheld."""
        found: dict[str, Any] = {} if self.code is None else {"township_code": self.code, "township_name": self.township_name}
        if sections and self.withheld_sections:
            found["sections_withheld"] = list(self.withheld_sections)
        return found


def township_cut(request: Request, township_code: str | None, *, unnamed: bool = False) -> TownshipCut:
    """The cut of this request: a township officer's own township whatever the query says
    (the middleware has set it already; this does not rely on it), else the query's
    township_code, checked (422 naming the field). `unnamed`: "" asks for the records
    that name no township (the submission figures keep them apart)."""
    own = township_scope(request)
    if own is not None:
        return TownshipCut(own, scoped=True)
    if township_code is None:
        return TownshipCut()
    if township_code not in TOWNSHIPS and not (unnamed and township_code == ""):
        raise unknown_township(township_code)
    return TownshipCut(township_code)
