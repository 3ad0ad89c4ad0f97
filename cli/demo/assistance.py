"""Demo records for reward and special assistance (奖扶 / 特扶): beneficiaries reported by
townships, deaths from health and the rural pension roll. Mixed into the demo builder
in records.py, which provides rng, people, add, day.

The `reason` object follows the fields verification's subsidy policy reads (README,
"Reward and special assistance"): `type`, `household_type`, `living_children`, and for
special assistance `child_died_on` or `disability_grade`.

Planted for the cross-checks to find: two people reported although already dead
(虚报), one person reported by two townships (虚报), a township that reports urban
households for rural reward assistance, and one death the health bureau reports only
after the money was paid (冒领; held back, published by the demo driver after the
payments). Follow-ups quote payment ids the platform assigns, so the driver
(assistance_driver.py) records them once the payments exist.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cli.demo.people import Person, iso_day, moment, random_day, years_before
from shared.contracts.townships import TOWNSHIPS

# The township whose reports fail confirmation unusually often (urban households for rural reward).
CARELESS_TOWNSHIP = "130132205"
Enrolled = tuple[Person, str, str, date]  # person, township, program, day reported


class AssistanceMixin:
    def assistance(self: Any, reward_couples: int, special_couples: int) -> None:
        codes = list(TOWNSHIPS)
        enrolled: list[Enrolled] = []
        for i in range(reward_couples + special_couples):
            code = codes[i % len(codes)] if i < len(codes) else self.township()
            couple = self._reward_couple(code) if i < reward_couples else self._special_couple(code)
            enrolled.extend(couple)
        for _ in range(4):
            self._reward_couple(CARELESS_TOWNSHIP, household="urban")
        self._reported_twice(next(e for e in enrolled if e[2] == "reward"))
        dead = self._deaths_of_beneficiaries([e for e in enrolled if e[2] == "reward"])
        alive = [e for e in enrolled if e[0].id_number not in dead]
        self._late_death(alive.pop()[0])  # kept off the pension changes below: nothing else stops their payment
        self._other_pension_changes(alive)

    def _child(self: Any, mother: Person, father: Person, sex: str) -> dict[str, Any]:
        born = years_before(mother.birth_date, -self.rng.randint(22, 30)) + timedelta(days=self.rng.randint(0, 300))
        child = self.people.born_between(sex, born, born, surname=father.surname)
        return {"name": child.name, "sex": sex, "birth_date": iso_day(born), "id_number": child.id_number}

    def _report(self: Any, code: str, program: str, person: Person, reason: dict[str, Any], day: date) -> None:
        self.add(moment(self.rng, day), "township", "township.beneficiary.reported", {
            "program": program,
            "id_number": person.id_number,
            "name": person.name,
            "birth_date": iso_day(person.birth_date),
            "reason": reason,
            "year": self.year,
        }, code)

    def _reward_couple(self: Any, code: str, household: str = "rural") -> list[Enrolled]:
        """Rural parents of an only child or of two daughters, both aged 60 or more."""
        rng = self.rng
        husband = self.people.aged("M", 60, 78, self.start)
        wife_age = max(60, min(78, husband.age_on(self.start) + rng.randint(-4, 1)))
        wife = self.people.aged("F", wife_age, wife_age, self.start)
        basis = "two_daughters" if rng.random() < 0.3 else "only_child"
        children = [self._child(wife, husband, "F" if basis == "two_daughters" else rng.choice("MF"))]
        if basis == "two_daughters":
            children.append(self._child(wife, husband, "F"))
        reported = self.day(date(self.year, 1, 10), date(self.year, 4, 30))
        for person, spouse in ((husband, wife), (wife, husband)):
            reason = {"type": basis, "household_type": household, "living_children": len(children),
                      "spouse_id_number": spouse.id_number, "children": [dict(c) for c in children]}
            self._report(code, "reward", person, reason, reported)
        return [(p, code, "reward", reported) for p in (husband, wife)]

    def _special_couple(self: Any, code: str) -> list[Enrolled]:
        """Parents whose only child died or is disabled, the mother aged 49 or more."""
        rng = self.rng
        mother = self.people.aged("F", 49, 68, self.start)
        father_age = mother.age_on(self.start) + rng.randint(0, 4)
        father = self.people.aged("M", father_age, father_age, self.start)
        basis = "only_child_died" if rng.random() < 0.6 else "only_child_disabled"
        child = self._child(mother, father, rng.choice("MF"))
        household = "rural" if rng.random() < 0.7 else "urban"  # special assistance is for both
        reason: dict[str, Any] = {"type": basis, "household_type": household, "living_children": 0}
        if basis == "only_child_died":
            earliest = date.fromisoformat(child["birth_date"]) + timedelta(days=365)
            reason["child_died_on"] = child["died_on"] = iso_day(random_day(rng, earliest, date(self.year - 1, 12, 31)))
        else:
            reason["disability_grade"] = child["disability_grade"] = rng.choice([1, 2, 3])
        reported = self.day(date(self.year, 1, 10), date(self.year, 4, 30))
        for person, spouse in ((mother, father), (father, mother)):
            self._report(code, "special", person, {**reason, "mother_id_number": mother.id_number,
                                                   "spouse_id_number": spouse.id_number, "child": dict(child)}, reported)
        return [(p, code, "special", reported) for p in (mother, father)]

    def _reported_twice(self: Any, enrolled: Enrolled) -> None:
        """The same person reported again by another township (虚报)."""
        person, code, _, reported = enrolled
        other = next(c for c in TOWNSHIPS if c != code)
        reason = {"type": "only_child", "household_type": "rural", "living_children": 1}
        self._report(other, "reward", person, reason, self.clamp(reported + timedelta(days=20)))

    def _late_death(self: Any, person: Person) -> None:
        """A death in June that the health bureau reports only in September, after the
        June payments: held back for the demo driver to publish after disbursement."""
        died = date(self.year, 6, 20)
        self.held_back.append(("county.health.death.reported", {
            "record_id": f"HB-{self.year}-LATE-0001", "schema": "county.health.death.reported/v1", "source": "health",
            "occurred_at": moment(self.rng, date(self.year, 9, 3)).isoformat(timespec="seconds"),
            "data": {"id_number": person.id_number, "died_on": iso_day(died)},
        }))

    def _death(self: Any, person: Person, died: date, on_pension_roll: bool) -> None:
        self.add(moment(self.rng, self.clamp(died + timedelta(days=self.rng.randint(0, 5)))), "health",
                 "health.death.reported", {"id_number": person.id_number, "died_on": iso_day(died)})
        if on_pension_roll:
            self._pension(person, "deceased", died, self.rng.randint(10, 40))

    def _pension(self: Any, person: Person, status: str, effective: date, delay_days: int) -> None:
        self.add(moment(self.rng, self.clamp(effective + timedelta(days=delay_days))), "pension",
                 "pension.status.changed",
                 {"id_number": person.id_number, "status": status, "effective_on": iso_day(effective)})

    def _deaths_of_beneficiaries(self: Any, reward: list[Enrolled]) -> set[str]:
        """A couple reported although already dead (虚报), a few who die during the year."""
        rng, dead = self.rng, set()
        late_reports = [e for e in reward if e[3] >= date(self.year, 2, 20)]
        for person, _, _, reported in late_reports[:2]:
            self._death(person, self.day(self.start + timedelta(days=1), reported - timedelta(days=14)), True)
            dead.add(person.id_number)
        for person, _, _, reported in reward:
            if person.id_number not in dead and rng.random() < 0.03:
                self._death(person, self.day(reported + timedelta(days=30), date(self.year, 11, 30)), True)
                dead.add(person.id_number)
        return dead

    def _other_pension_changes(self: Any, enrolled: list[Enrolled]) -> None:
        rng = self.rng
        for _ in range(max(4, len(enrolled) // 8)):  # deaths of people on no subsidy roll
            died = self.day()
            person = self.people.aged(rng.choice("MF"), 40, 95, died)
            self._death(person, died, person.age_on(died) >= 60 and rng.random() < 0.6)
        for _ in range(max(3, len(enrolled) // 10)):  # new pensioners turning 60
            day = self.day()
            self._pension(self.people.aged(rng.choice("MF"), 60, 60, day), "active", day, rng.randint(0, 20))
        for person, *_ in rng.sample(enrolled, k=min(2, len(enrolled))):
            self._pension(person, "suspended", self.day(date(self.year, 5, 1), date(self.year, 6, 20)), rng.randint(0, 20))
