"""People and calendar helpers for the demo data: plausible names, valid resident IDs,
and moments in China Standard Time. Everything draws from the caller's random.Random."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from shared.contracts.identity import make_resident_id
from shared.contracts.townships import COUNTY_REGION_CODE

CST = timezone(timedelta(hours=8))

# Common surnames in southern Hebei, the frequent ones repeated so they come up more.
_SURNAMES = "王王王李李李张张张刘刘赵赵杨陈孙郭马高周吴徐田韩贾冯董石郝范靳梁苏许侯宋崔霍谷康"

# Given names by generation: the names parents chose changed a lot between the 1950s and the 2020s.
_GIVEN = {
    ("M", "old"): "建国 国庆 振华 志强 建军 保国 树林 文明 福生 长海 金锁 春生 玉林 占军 国栋".split(),
    ("F", "old"): "秀英 桂兰 淑珍 凤英 玉兰 秀兰 桂芝 素芬 淑芳 玉梅 金花 翠英 秀云 俊英 玉珍".split(),
    ("M", "mid"): "伟 磊 鹏 超 亮 勇 帅 旭 强 浩 志刚 晓东 海涛 建伟 立军 永辉 建涛 少华 振宇".split(),
    ("F", "mid"): "丽 静 敏 燕 娜 婷 雪 佳 晓燕 丽娜 秀丽 雅琪 晓静 红霞 美玲 彩霞 丽娟 海燕 慧敏".split(),
    ("M", "young"): "浩宇 宇轩 子墨 梓豪 一鸣 奕辰 俊熙 沐宸 浩然 子轩 皓轩 铭泽 宇航 嘉诚 博文".split(),
    ("F", "young"): "梓涵 一诺 欣怡 雨桐 子涵 诗涵 可馨 若汐 语桐 思琪 佳怡 梦瑶 雨萱 安琪 欣妍".split(),
}


@dataclass(frozen=True)
class Person:
    name: str
    sex: str  # "M" or "F"
    birth_date: date
    id_number: str

    @property
    def surname(self) -> str:
        return self.name[0]

    def age_on(self, day: date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


class People:
    """Makes people with unique, valid resident IDs (sequence parity matches sex)."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: set[str] = set()

    def born_between(
        self, sex: str, earliest: date, latest: date, *, surname: str | None = None, region: str = COUNTY_REGION_CODE
    ) -> Person:
        birth = random_day(self._rng, earliest, latest)
        return Person(self.name(sex, birth, surname), sex, birth, self._new_id(region, birth, sex))

    def aged(self, sex: str, youngest: int, oldest: int, on: date, **kwargs: str | None) -> Person:
        """Someone aged youngest..oldest (inclusive) on the given day."""
        earliest = years_before(on, oldest + 1) + timedelta(days=1)
        latest = years_before(on, youngest)
        return self.born_between(sex, earliest, latest, **kwargs)  # type: ignore[arg-type]

    def name(self, sex: str, birth: date, surname: str | None = None) -> str:
        era = "old" if birth.year < 1972 else "mid" if birth.year < 2006 else "young"
        return (surname or self._rng.choice(_SURNAMES)) + self._rng.choice(_GIVEN[(sex, era)])

    def _new_id(self, region: str, birth: date, sex: str) -> str:
        while True:
            sequence = self._rng.randrange(1, 1000, 2) if sex == "M" else self._rng.randrange(2, 1000, 2)
            candidate = make_resident_id(region, birth, sequence)
            if candidate not in self._issued:
                self._issued.add(candidate)
                return candidate


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def random_day(rng: random.Random, earliest: date, latest: date) -> date:
    if latest < earliest:
        latest = earliest
    return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))


def moment(rng: random.Random, day: date, first_hour: int = 8, last_hour: int = 17) -> datetime:
    """A time on the given day, by default in office hours."""
    clock = time(rng.randint(first_hour, last_hour), rng.randint(0, 59), rng.randint(0, 59))
    return datetime.combine(day, clock, tzinfo=CST)


def iso_day(day: date) -> str:
    return day.isoformat()
