"""Demo applications filed by the township offices (re-birth approval, first-child
registration card, only-child honor certificate, exam bonus qualification) and the
citizens' satisfaction ratings of them on the online service hall. Mixed into the
demo builder in demo_data.py, which provides rng, people, add, day, clamp, township.

Dates, when the demo year is past (`fpb up --demo` publishes last year's records now):
the county judges a township's report by when the county itself received it (intake's
broker time, rule C-3), and starts the statutory clock there. Published now, a past
year's applications would all be "reported" months late. So the applications are the
bureau's current caseload instead: the township received each one as many days before
the demo runs as it would have before reporting it (mostly 1-10 days, some 16-30: a
realistic mix of on-time and late reports), and dates its report the day before (a few
late ones backdate theirs, which C-4 flags). Exam filings then fall outside the
March-April window unless the demo runs in spring (EX-2 flags them: a late filing). The
rest of the year is generated as before (the same random draws)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from cli.demo import texts
from cli.demo.people import CST, Person, iso_day, moment, years_before
from shared.contracts.townships import TOWNSHIPS

CERTIFICATE_KINDS = ("first_child_registration", "only_child_honor_certificate")
# The supporting documents (材料) a complete filing carries, per kind (the policy table's rules).
DOCUMENTS = {
    "first_child_registration": ["结婚证", "户口簿"],
    "only_child_honor_certificate": ["户口簿", "出生医学证明"],
    "exam_bonus_qualification": ["户口簿"],
}


# What a flawed filing of each kind gets wrong: a ground the rules do not accept, no
# marriage registration, no written commitment, a 审定表 that was not filled in.
FLAWS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {  # kind -> (fields set, fields left out)
    "rebirth_approval": ({"reason": "家庭经济条件较好，希望再生育一个孩子"}, ()),
    "first_child_registration": ({}, ("marriage_registered_on",)),
    "only_child_honor_certificate": ({}, ("commitment",)),
    "exam_bonus_qualification": ({}, ("form",)),
}


class ApplicationsMixin:
    def applications(self: Any, births: int) -> None:
        rng, codes = self.rng, list(TOWNSHIPS)
        counts = {
            "first_child_registration": max(len(codes), births // 5),
            "only_child_honor_certificate": max(5, births // 10),
            "rebirth_approval": max(3, births // 25),
            "exam_bonus_qualification": max(4, births // 10),
        }
        for kind, count in counts.items():
            for i in range(count):
                # Every township files at least one first-child registration.
                code = codes[i] if kind == "first_child_registration" and i < len(codes) else self.township()
                # The filing's paperwork draws from its own generator, so the rest of the year stays as it was.
                paper = random.Random(f"{self.year}:{kind}:{i}:{code}")
                if kind == "exam_bonus_qualification":  # filed each March and April; a few late, in May
                    received = self.day(date(self.year, 3, 1), date(self.year, 4, 30))
                    received += timedelta(days=21) if paper.random() < 0.1 else timedelta()
                else:
                    received = self.day(latest=self.end - timedelta(days=5))
                applicant, spouse, details = getattr(self, f"_{kind}")(received)
                self._paperwork(paper, kind, code, details, flawed=i % 7 == 3)
                late = rng.random() < 0.12  # some townships pass applications on after the time limit
                submitted = self.clamp(received + timedelta(days=rng.randint(16, 30) if late else rng.randint(1, 10)))
                application_id = self._application_id(code)
                when = moment(rng, submitted)
                filed_now = self._filing_now()
                if filed_now is not None:  # the current caseload (module docstring)
                    lag = (submitted - received).days
                    received = filed_now - timedelta(days=lag)
                    backdated = lag > 15 and paper.random() < 0.3
                    reported_on = received + timedelta(days=2) if backdated else filed_now - timedelta(days=1)
                    when = datetime.combine(reported_on, when.time(), tzinfo=CST)
                self._add_filing(filed_now, when, "township", "township.application.submitted", {
                    "application_id": application_id,
                    "kind": kind,
                    "applicant_id_number": applicant.id_number,
                    "spouse_id_number": spouse.id_number if spouse else None,
                    "received_on": iso_day(received),
                    "details": details,
                }, code)
                chance = 0.6 if kind in CERTIFICATE_KINDS else 0.3 if kind == "rebirth_approval" else 0
                if (kind, i) == (CERTIFICATE_KINDS[0], 0) or rng.random() < chance:
                    self._rating(application_id, submitted + timedelta(days=rng.randint(3, 30)), after=when if filed_now else None)

    def _filing_now(self: Any) -> date | None:
        """The day the demo runs, when the demo year is already over; else None (dates stay in the year)."""
        today = datetime.now(CST).date()
        return today if self.end < today else None

    def _add_filing(self: Any, filed_now: date | None, when: datetime, source: str, kind: str, data: dict[str, Any], township: str | None = None) -> None:
        if filed_now is None:
            self.add(when, source, kind, data, township)
            return
        from cli.demo.records import _Pending  # the current caseload lies outside the demo year that add() guards

        self.pending.append(_Pending(when, source, kind, data, township))

    def _paperwork(self: Any, paper: random.Random, kind: str, code: str, details: dict[str, Any], flawed: bool) -> None:
        """Documents filed (now and then one is forgotten) and the township officer who filed it.
        One filing in seven has a flaw the county's checks must catch (FLAWS)."""
        if flawed:
            changes, left_out = FLAWS[kind]
            details.update(changes)
            for name in left_out:
                details.pop(name, None)
        documents = list(DOCUMENTS.get(kind, ()))
        if kind == "rebirth_approval":
            documents = ["再婚结婚证", "离婚证明"] if "再婚" in details["reason"] else ["病残儿医学鉴定证明"]
        if documents and paper.random() < 0.2:
            documents.pop(paper.randrange(len(documents)))
        details["documents"] = documents
        details["submitted_by"] = {"id": f"TS{code}-{paper.randint(1, 3):02d}"}

    def _application_id(self: Any, code: str) -> str:
        self.app_numbers[code] = self.app_numbers.get(code, 0) + 1
        return f"APP-{code}-{self.year}-{self.app_numbers[code]:04d}"

    def _rating(self: Any, application_id: str, day: date, after: datetime | None = None) -> None:
        """`after`: the current caseload's report; the rating follows it within the hour
        (same draws as a rating within the year, so the rest of the year stays as it was)."""
        if day > self.end:
            return
        score = self.rng.choices((5, 4, 3, 2, 1), weights=(55, 25, 10, 6, 4))[0]
        comment = self.rng.choice(texts.SATISFACTION_COMMENTS[score]) if self.rng.random() < 0.45 else None
        when = moment(self.rng, day, 7, 22)
        data = {"application_id": application_id, "score": score, "comment": comment}
        if after is not None:
            self._add_filing(after.date(), after + timedelta(minutes=when.minute + 1), "online_hall", "online_hall.satisfaction.rated", data)
            return
        self.add(when, "online_hall", "online_hall.satisfaction.rated", data)

    def _couple(self: Any, youngest: int, oldest: int, on: date) -> tuple[Person, Person]:
        wife = self.people.aged("F", youngest, oldest, on)
        age = max(22, wife.age_on(on) + self.rng.randint(-1, 4))
        return wife, self.people.aged("M", age, age, on)

    def _kid(self: Any, mother: Person, father: Person, sex: str, earliest: date, latest: date) -> dict[str, Any]:
        """A child born to the mother aged 21 or more, between the given days."""
        earliest = max(earliest, years_before(mother.birth_date, -21))
        kid = self.people.born_between(sex, earliest, latest, surname=father.surname)
        return {"name": kid.name, "sex": sex, "birth_date": iso_day(kid.birth_date), "id_number": kid.id_number}

    def _rebirth_approval(self: Any, received: date) -> tuple[Person, Person, dict[str, Any]]:
        rng = self.rng
        wife, husband = self._couple(28, 42, received)
        reason = rng.choice(texts.REBIRTH_REASONS)
        count = 1 if "再婚" in reason else rng.choice((1, 2))
        # After a remarriage the existing child carries the former husband's surname.
        former = self.people.aged("M", 30, 45, received) if "再婚" in reason else husband
        first_birthday = years_before(wife.birth_date, -21)
        children = [self._kid(wife, former, rng.choice("MF"), first_birthday, received - timedelta(days=730))
                    for _ in range(count)]
        for n, child in enumerate(children):  # the ground names the disabled child (病残儿): the first
            child["status"] = "disabled" if n == 0 and "残" in reason else "healthy"
        return wife, husband, {"existing_children": children, "reason": reason}

    def _first_child_registration(self: Any, received: date) -> tuple[Person, Person | None, dict[str, Any]]:
        rng = self.rng
        wife, husband = self._couple(21, 34, received)
        married = max(received - timedelta(days=rng.randint(60, 1200)), years_before(wife.birth_date, -20))
        return wife, husband if rng.random() > 0.05 else None, {
            "marriage_registered_on": iso_day(married),
            "expected_due_date": iso_day(received + timedelta(days=rng.randint(60, 250))),
            "household_type": "urban" if rng.random() < 0.65 else "rural",
        }

    def _only_child_honor_certificate(self: Any, received: date) -> tuple[Person, Person, dict[str, Any]]:
        rng = self.rng
        wife, husband = self._couple(26, 45, received)
        child = self._kid(wife, husband, rng.choice("MF"), years_before(received, 14), received - timedelta(days=30))
        applicant, spouse = (wife, husband) if rng.random() < 0.7 else (husband, wife)
        return applicant, spouse, {
            "child": child,
            "household_type": "urban" if rng.random() < 0.5 else "rural",
            "commitment": "夫妻双方自愿终身只生育一个子女",
        }

    def _exam_bonus_qualification(self: Any, received: date) -> tuple[Person, Person, dict[str, Any]]:
        rng = self.rng
        exam = rng.choice(("zhongkao", "gaokao"))
        age = 15 if exam == "zhongkao" else 18  # in the school year of the exam
        born_from, born_to = date(self.year - age - 1, 9, 1), date(self.year - age, 8, 31)
        wife, husband = self._couple(age + 22, age + 32, received)
        student = self.people.born_between(rng.choice("MF"), born_from, born_to, surname=husband.surname)
        applicant, spouse = (husband, wife) if rng.random() < 0.5 else (wife, husband)
        return applicant, spouse, {
            "student_name": student.name,
            "student_id_number": student.id_number,
            "exam": exam,
            "household_type": "rural",
            "form": "河北省农村独生子女审定表",
        }
