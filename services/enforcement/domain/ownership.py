"""Which section may own a case of each category: the bureau's duty register (部门职责登记表),
the same data intake routes by. Pure: the register arrives as {(duty, item): sections}."""

from __future__ import annotations

from collections.abc import Mapping

from services.enforcement.domain.errors import CaseRuleError

# category -> (duty no., item no., default owner or None for the item's first section)
CATEGORY_DUTIES: dict[str, tuple[int, int, str | None]] = {
    "two_illegals": (3, 1, None),  # 打击"两非"
    "subsidy_fraud": (9, 1, None),  # 查处违反计划生育政策、法律、法规和规章的案件
    "official_misconduct": (9, 1, None),
    "certificate_service": (9, 1, None),
    "falsification": (9, 1, None),
    "other": (9, 1, None),
    "petition": (9, 2, "信访科"),  # 来信来访: the Petitions Section registers and answers them
    "administrative_review": (9, 2, None),  # 行政复议、诉讼: the Enforcement Brigade answers
}

DutyItems = Mapping[tuple[int, int], tuple[str, ...]]


def owning_section(items: DutyItems, category: str, requested: str | None) -> str:
    """The section that owns a case triaged into `category`: the one requested, if the
    register gives it that work; when none is requested, the category's owner."""
    if category not in CATEGORY_DUTIES:
        raise CaseRuleError("category", f"unknown category {category!r}; one of {', '.join(CATEGORY_DUTIES)}")
    duty, item, default = CATEGORY_DUTIES[category]
    allowed = items.get((duty, item), ())
    if not allowed:
        raise CaseRuleError("section", f"职责登记表中没有第{duty}项第{item}条; the duty register has no duty {duty} item {item}")
    if requested is None:
        return default or allowed[0]
    if requested not in allowed:
        raise CaseRuleError(
            "section",
            f"职责登记表第{duty}项第{item}条不由「{requested}」负责，应为：{'、'.join(allowed)}; "
            f"the duty register gives duty {duty} item {item} to {', '.join(allowed)}, not {requested!r}",
        )
    return requested
