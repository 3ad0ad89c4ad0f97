"""The county's 15 townships (乡镇), as in CONTRACT.md. Reference data, kept as configuration."""

from __future__ import annotations

TOWNSHIPS: dict[str, str] = {
    "130132100": "槐阳镇",
    "130132101": "因村镇",
    "130132102": "宋曹镇",
    "130132103": "南因镇",
    "130132104": "姬村镇",
    "130132105": "南佐镇",
    "130132106": "殷村镇",
    "130132107": "马村镇",
    "130132200": "苏村乡",
    "130132201": "赵同乡",
    "130132202": "东张乡",
    "130132203": "黑水坊乡",
    "130132204": "北正乡",
    "130132205": "前仙乡",
    "130132206": "北褚乡",
}

# Yuanshi County's administrative division code: the first six digits of locally
# issued resident ID numbers.
COUNTY_REGION_CODE = "130132"


def is_known_township(code: str) -> bool:
    return code in TOWNSHIPS
