"""The bureau's register of duties (部门职责登记表) as data, and routing by it.

Every inbound record lands in the queue of the section (责任科室) that owns the
register item it belongs to. The table and the routes are data (see
adapters/duty_register.json); this module only checks them and looks them up.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping


class UnroutableError(LookupError):
    """No route in the register matches an inbound record kind."""


@dataclass(frozen=True)
class DutyItem:
    no: int
    work_item: str
    sections: tuple[str, ...]  # first listed is the default owner


@dataclass(frozen=True)
class Duty:
    no: int
    duty: str
    items: tuple[DutyItem, ...]

    def item(self, no: int) -> DutyItem | None:
        return next((item for item in self.items if item.no == no), None)


@dataclass(frozen=True)
class Route:
    section: str
    section_en: str
    duty_no: int
    item_no: int
    work_item: str


@dataclass(frozen=True)
class DutyRegister:
    title: str
    duties: tuple[Duty, ...]
    sections: Mapping[str, str]  # Chinese name -> English name
    # (kind, application_kind or None) -> Route
    routes: Mapping[tuple[str, str | None], Route]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DutyRegister:
        try:
            sections = {str(k): str(v) for k, v in data["sections"].items()}
            duties = tuple(_duty(raw) for raw in data["duties"])
            raw_routes = list(data.get("routes", []))
            title = str(data["title"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"duty register is malformed: missing or wrong field {exc}") from exc
        _check_unique([d.no for d in duties], "duty number")
        for duty in duties:
            _check_unique([i.no for i in duty.items], f"item number in duty {duty.no}")
            for item in duty.items:
                for name in item.sections:
                    if name not in sections:
                        raise ValueError(
                            f"duty {duty.no} item {item.no} names section {name!r}, "
                            "which is not in the register's 'sections'"
                        )
        by_no = {d.no: d for d in duties}
        routes: dict[tuple[str, str | None], Route] = {}
        for raw in raw_routes:
            key, route = _route(raw, by_no, sections)
            if key in routes:
                raise ValueError(f"route for {_describe(*key)} is given twice")
            routes[key] = route
        return cls(title, duties, MappingProxyType(sections), MappingProxyType(routes))

    def duty(self, no: int) -> Duty | None:
        return next((d for d in self.duties if d.no == no), None)

    def kinds(self) -> list[tuple[str, str | None]]:
        return list(self.routes)

    def route(self, kind: str, application_kind: str | None = None) -> Route:
        """The owning section for a record kind (e.g. "police.birth.registered"); the
        application kind is needed where the register splits a kind by it."""
        if application_kind is not None and (kind, application_kind) in self.routes:
            return self.routes[(kind, application_kind)]
        if (kind, None) in self.routes:
            return self.routes[(kind, None)]
        split = sorted(a for k, a in self.routes if k == kind and a is not None)
        if split and application_kind is None:
            raise UnroutableError(f"{kind!r} is routed by application kind ({', '.join(split)}); none was given")
        raise UnroutableError(f"no route in the duty register for {_describe(kind, application_kind)}")


def _duty(raw: Mapping[str, Any]) -> Duty:
    items = tuple(
        DutyItem(int(item["no"]), str(item["work_item"]), tuple(str(s) for s in item["sections"]))
        for item in raw["items"]
    )
    for item in items:
        if not item.sections:
            raise ValueError(f"duty {raw['no']} item {item.no} has no responsible section")
    return Duty(int(raw["no"]), str(raw["duty"]), items)


def _route(
    raw: Mapping[str, Any], duties: Mapping[int, Duty], sections: Mapping[str, str]
) -> tuple[tuple[str, str | None], Route]:
    try:
        kind, duty_no, item_no = str(raw["kind"]), int(raw["duty"]), int(raw["item"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"route {dict(raw)!r} needs 'kind', 'duty' and 'item' ({exc})") from exc
    application_kind = raw.get("application_kind")
    what = _describe(kind, application_kind)
    duty = duties.get(duty_no)
    if duty is None:
        raise ValueError(f"route for {what} points at duty {duty_no}, which is not in the register")
    item = duty.item(item_no)
    if item is None:
        raise ValueError(
            f"route for {what} points at duty {duty_no} item {item_no}, "
            f"which is not in the register (duty {duty_no} has {len(duty.items)} items)"
        )
    owner = raw.get("owner_section") or item.sections[0]
    if owner not in sections:
        raise ValueError(f"route for {what} names owner section {owner!r}, which is not in 'sections'")
    if owner not in item.sections:
        raise ValueError(
            f"route for {what} names owner section {owner!r}, but duty {duty_no} item {item_no} "
            f"is the work of {', '.join(item.sections)}"
        )
    route = Route(owner, sections[owner], duty_no, item_no, item.work_item)
    return (kind, application_kind), route


def _check_unique(numbers: list[int], what: str) -> None:
    seen: set[int] = set()
    for n in numbers:
        if n in seen:
            raise ValueError(f"{what} {n} appears twice in the duty register")
        seen.add(n)


def _describe(kind: str, application_kind: str | None) -> str:
    return f"{kind!r}" + (f" (application kind {application_kind!r})" if application_kind else "")
