"""Demo records for reward and special assistance (奖扶 / 特扶): beneficiaries reported by
townships, deaths from health, the rural pension roll, and follow-ups that the money
arrived. Mixed into the demo builder in demo_data.py, which provides rng, people, add, day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from cli.demo import texts
from cli.demo.people import Person, iso_day, moment, random_day, years_before
from shared.contracts.townships import TOWNSHIPS

# Demo amounts only: the real ones are set per year and province (configuration).
DEMO_ANNUAL_AMOUNTS = {"reward": "960.00", "only_child_disabled": "5160.00", "only_child_deceased": "6600.00"}


class AssistanceMixin:
    def assistance(self: Any, reward_couples: int, special_couples: int) -> None:
        codes = list(TOWNSHIPS)
        enrolled: list[tuple[Person, str, str, date, str]] = []  # person, township, program, reported, amount
        for i in range(reward_couples + special_couples):
            code = codes[i % len(codes)] if i < len(codes) else self.township()
            couple = self._reward_couple(code) if i < reward_couples else self._special_couple(code)
            enrolled.extend(couple)
        dead = self._deaths_of_beneficiaries([e for e in enrolled if e[2] == "reward"])
        alive = [e for e in enrolled if e[0].id_number not in dead]
        self._other_pension_changes(alive)
        self._followups(alive)

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

    def _reward_couple(self: Any, code: str) -> list[tuple[Person, str, str, date, str]]:
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
            reason = {"basis": basis, "household_type": "rural", "spouse_id_number": spouse.id_number,
                      "children": [dict(c) for c in children]}
            self._report(code, "reward", person, reason, reported)
        return [(p, code, "reward", reported, DEMO_ANNUAL_AMOUNTS["reward"]) for p in (husband, wife)]

    def _special_couple(self: Any, code: str) -> list[tuple[Person, str, str, date, str]]:
        """Parents whose only child died or is disabled, the mother aged 49 or more."""
        rng = self.rng
        mother = self.people.aged("F", 49, 68, self.start)
        father_age = mother.age_on(self.start) + rng.randint(0, 4)
        father = self.people.aged("M", father_age, father_age, self.start)
        basis = "only_child_deceased" if rng.random() < 0.6 else "only_child_disabled"
        child = self._child(mother, father, rng.choice("MF"))
        if basis == "only_child_deceased":
            earliest = date.fromisoformat(child["birth_date"]) + timedelta(days=365)
            child["died_on"] = iso_day(random_day(rng, earliest, date(self.year - 1, 12, 31)))
        else:
            child["disability_grade"] = rng.choice(["一级", "二级", "三级"])
        household = "rural" if rng.random() < 0.7 else "urban"
        reported = self.day(date(self.year, 1, 10), date(self.year, 4, 30))
        for person, spouse in ((mother, father), (father, mother)):
            reason = {"basis": basis, "household_type": household, "mother_id_number": mother.id_number,
                      "spouse_id_number": spouse.id_number, "child": dict(child)}
            self._report(code, "special", person, reason, reported)
        return [(p, code, "special", reported, DEMO_ANNUAL_AMOUNTS[basis]) for p in (mother, father)]

    def _death(self: Any, person: Person, died: date, on_pension_roll: bool) -> None:
        self.add(moment(self.rng, self.clamp(died + timedelta(days=self.rng.randint(0, 5)))), "health",
                 "health.death.reported", {"id_number": person.id_number, "died_on": iso_day(died)})
        if on_pension_roll:
            self._pension(person, "deceased", died, self.rng.randint(10, 40))

    def _pension(self: Any, person: Person, status: str, effective: date, delay_days: int) -> None:
        self.add(moment(self.rng, self.clamp(effective + timedelta(days=delay_days))), "pension",
                 "pension.status.changed",
                 {"id_number": person.id_number, "status": status, "effective_on": iso_day(effective)})

    def _deaths_of_beneficiaries(self: Any, reward: list[tuple[Person, str, str, date, str]]) -> set[str]:
        """A couple reported although already dead (虚报), a few who die during the year."""
        rng, dead = self.rng, set()
        late_reports = [e for e in reward if e[3] >= date(self.year, 2, 20)]
        for person, _, _, reported, _ in late_reports[:2]:
            self._death(person, self.day(self.start + timedelta(days=1), reported - timedelta(days=14)), True)
            dead.add(person.id_number)
        for person, _, _, reported, _ in reward:
            if person.id_number not in dead and rng.random() < 0.03:
                self._death(person, self.day(reported + timedelta(days=30), date(self.year, 11, 30)), True)
                dead.add(person.id_number)
        return dead

    def _other_pension_changes(self: Any, enrolled: list[tuple[Person, str, str, date, str]]) -> None:
        rng = self.rng
        for _ in range(max(4, len(enrolled) // 8)):  # deaths of people on no subsidy roll
            died = self.day()
            person = self.people.aged(rng.choice("MF"), 40, 95, died)
            self._death(person, died, person.age_on(died) >= 60 and rng.random() < 0.6)
        for _ in range(max(3, len(enrolled) // 10)):  # new pensioners turning 60
            day = self.day()
            self._pension(self.people.aged(rng.choice("MF"), 60, 60, day), "active", day, rng.randint(0, 20))
        for person, *_ in rng.sample(enrolled, k=min(2, len(enrolled))):
            self._pension(person, "suspended", self.day(date(self.year, 5, 1)), rng.randint(0, 20))

    def _followups(self: Any, alive: list[tuple[Person, str, str, date, str]]) -> None:
        rng, numbers = self.rng, {"reward": 0, "special": 0}
        done = 0
        for person, code, program, _, amount in alive:
            numbers[program] += 1
            payment_id = f"PAY-{self.year}-{'JF' if program == 'reward' else 'TF'}-{numbers[program]:05d}"
            if rng.random() > 0.6:
                continue
            outcome = ("short", "none")[done] if done < 2 else rng.choices(("ok", "short", "none"), (92, 5, 3))[0]
            done += 1
            # A shortfall is checked at home; "nothing arrived" is what a phone call first hears.
            method = {"short": "visit", "none": "phone"}.get(outcome) or ("visit" if rng.random() < 0.3 else "phone")
            confirmed = {"ok": Decimal(amount), "short": Decimal(amount) * Decimal("0.75"), "none": Decimal(0)}[outcome]
            confirmed_text = f"{confirmed:.2f}"
            note = texts.FOLLOWUP_NOTES[f"ok_{method}" if outcome == "ok" else outcome]
            visited = self.day(date(self.year, 7, 1), date(self.year, 11, 30))
            self.add(moment(rng, self.clamp(visited + timedelta(days=rng.randint(0, 3)))), "township",
                     "township.followup.recorded", {
                         "payment_id": payment_id,
                         "method": method,
                         "amount_confirmed": confirmed_text,
                         "visited_on": iso_day(visited),
                         "notes": note.format(amount=confirmed_text),
                     }, code)
