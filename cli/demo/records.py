"""A year of inbound records from every county system, as CONTRACT.md describes them.

`generate_demo_records` returns (subject, envelope) pairs in the order they happened;
`generate_demo` also returns the records a demo driver publishes later (a death
reported only after the money was paid).
The data carries the patterns the bureau looks for, so that demos have something to
find: two townships whose births skew male, late terminations without a medical
indication after a private-clinic ultrasound, termination drugs sold without a
prescription, subsidies reported for people already dead or by two townships, migrants who presented the 婚育证明 late or never.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cli.demo import texts
from cli.demo.applications import ApplicationsMixin
from cli.demo.assistance import AssistanceMixin
from cli.demo.people import People, iso_day, moment, random_day
from shared.contracts.townships import TOWNSHIPS

SOURCE_PREFIX = {
    "police": "PSB", "health": "HB", "drug": "DA", "pension": "PEN",
    "petitions": "XF", "hotline": "HL", "online_hall": "OH", "township": "TS",
}
# Remote townships whose births skew male in the demo, for sex-ratio views to find.
HIGH_SEX_RATIO_TOWNSHIPS = ("130132203", "130132206")
COUNTY_SEX_RATIO = 110  # boys per 100 girls, over all births
HIGH_SEX_RATIO = 135
SEAT = "130132100"  # 槐阳镇, the county seat
# Approval-number style codes of the two termination drugs (mifepristone, misoprostol); demo values.
TERMINATION_DRUGS = ("H10950347", "H20000668")


@dataclass
class _Pending:
    when: datetime
    source: str
    kind: str  # subject without "county." and without the township code
    data: dict[str, Any]
    township: str | None = None


def generate_demo_records(seed: int = 2026, year: int = 2026, births: int = 300) -> list[tuple[str, dict]]:
    return generate_demo(seed, year, births)[0]


def generate_demo(seed: int = 2026, year: int = 2026, births: int = 300) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """(the year's records, the records held back for the demo driver)."""
    demo = _Demo(random.Random(seed), year)
    demo.births(births)
    demo.terminations(max(6, births // 10))
    demo.ultrasounds(max(4, births // 5))
    demo.drug_sales(max(6, births // 8))
    demo.migrants(max(6, births // 7))
    demo.assistance(reward_couples=max(8, births // 6), special_couples=max(3, births // 30))
    demo.applications(births)
    demo.tips(max(10, births // 15))
    demo.petitions(max(6, births // 30))
    return demo.envelopes(), demo.held_back


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split total in proportion to weights (largest remainder), deterministically."""
    scale = sum(weights.values()) or 1.0
    exact = {key: total * w / scale for key, w in weights.items()}
    counts = {key: int(v) for key, v in exact.items()}
    short = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[:short]:
        counts[key] += 1
    return counts


def township_weight(code: str) -> float:
    return 2.2 if code == SEAT else 1.1 if code[-3] == "1" else 0.8  # 1xx towns, 2xx townships


class _Demo(AssistanceMixin, ApplicationsMixin):
    def __init__(self, rng: random.Random, year: int) -> None:
        self.rng, self.year = rng, year
        self.start, self.end = date(year, 1, 1), date(year, 12, 31)
        self.people = People(rng)
        self.pending: list[_Pending] = []
        self.held_back: list[tuple[str, dict]] = []
        self.hospitals = ["130132-H01", "130132-H02", "130132-H03"]  # 县医院, 妇幼保健院, 中医院
        self.health_centres = {code: f"{code}-WSY" for code in TOWNSHIPS}  # 乡镇卫生院
        self.clinics = [f"130132-C{n:02d}" for n in range(1, 7)]  # private clinics
        facilities = self.hospitals + list(self.health_centres.values()) + self.clinics
        self.operators = {f: [f"DR{rng.randint(10000, 99999)}" for _ in range(rng.randint(2, 4))] for f in facilities}
        self.app_numbers: dict[str, int] = {}

    # -- plumbing ---------------------------------------------------------------
    def add(self, when: datetime, source: str, kind: str, data: dict[str, Any], township: str | None = None) -> None:
        assert when.year == self.year, (kind, when)
        self.pending.append(_Pending(when, source, kind, data, township))

    def day(self, earliest: date | None = None, latest: date | None = None) -> date:
        return random_day(self.rng, self.clamp(earliest or self.start), self.clamp(latest or self.end))

    def clamp(self, day: date) -> date:
        return min(max(day, self.start), self.end)

    def township(self) -> str:
        codes = list(TOWNSHIPS)
        return self.rng.choices(codes, weights=[township_weight(c) for c in codes])[0]

    def envelopes(self) -> list[tuple[str, dict]]:
        ordered = sorted(enumerate(self.pending), key=lambda pair: (pair[1].when, pair[0]))
        counters: dict[str, int] = {}
        out: list[tuple[str, dict]] = []
        for _, p in ordered:
            if p.source == "township":
                key = f"TS-{p.township}"
                subject = f"township.{p.township}.{p.kind.removeprefix('township.')}"
            else:
                key, subject = SOURCE_PREFIX[p.source], f"county.{p.kind}"
            counters[key] = counters.get(key, 0) + 1
            envelope = {
                "record_id": f"{key}-{self.year}-{counters[key]:06d}",
                "schema": f"{p.kind if p.source == 'township' else subject}/v1",
                "source": p.source,
                "occurred_at": p.when.isoformat(timespec="seconds"),
                "data": p.data,
            }
            out.append((subject, envelope))
        return out

    # -- police and health: births and the two illegals --------------------------
    def births(self, total: int) -> None:
        counts = allocate(total, {code: township_weight(code) for code in TOWNSHIPS})
        boys = {c: round(counts[c] * HIGH_SEX_RATIO / (100 + HIGH_SEX_RATIO)) for c in HIGH_SEX_RATIO_TOWNSHIPS}
        rest = max(0, round(total * COUNTY_SEX_RATIO / (100 + COUNTY_SEX_RATIO)) - sum(boys.values()))
        boys |= allocate(rest, {c: counts[c] for c in TOWNSHIPS if c not in HIGH_SEX_RATIO_TOWNSHIPS})
        for code in TOWNSHIPS:
            n_boys = min(boys[code], counts[code])
            sexes = ["M"] * n_boys + ["F"] * (counts[code] - n_boys)
            self.rng.shuffle(sexes)
            for sex in sexes:
                self.birth(code, sex)

    def birth(self, code: str, sex: str) -> None:
        rng = self.rng
        order = rng.choices((1, 2, 3), weights=(46, 48, 6))[0]
        born = self.day(latest=self.end - timedelta(days=3))
        youngest, oldest = {1: (21, 32), 2: (25, 38), 3: (28, 41)}[order]
        mother = self.people.aged("F", youngest, oldest, born)
        father = None
        if rng.random() > 0.03:
            age = max(22, mother.age_on(born) + rng.randint(-1, 5))
            father = self.people.aged("M", age, age, born)
        registered = self.clamp(born + timedelta(days=rng.randint(1, 40)))
        self.add(moment(rng, registered), "police", "police.birth.registered", {
            "child_name": self.people.name(sex, born, (father or mother).surname),
            "sex": sex,
            "birth_date": iso_day(born),
            "birth_order": order,
            "mother_id_number": mother.id_number,
            "father_id_number": father.id_number if father else None,
            "township_code": code,
        })
        if rng.random() < 0.7:
            # A son in a high-ratio township: often an early scan at a private clinic.
            suspicious = code in HIGH_SEX_RATIO_TOWNSHIPS and sex == "M" and rng.random() < 0.4
            weeks = rng.randint(14, 18) if suspicious else rng.randint(16, 30)
            facility = rng.choice(self.clinics) if suspicious else rng.choice(self.hospitals + [self.health_centres[code]])
            scanned = born - timedelta(weeks=40 - weeks, days=rng.randint(-3, 3))
            if scanned >= self.start:
                self.ultrasound(mother.id_number, facility, weeks, scanned)

    def ultrasound(self, patient: str, facility: str, weeks: int, day: date) -> None:
        self.add(moment(self.rng, self.clamp(day + timedelta(days=self.rng.randint(0, 1)))), "health",
                 "health.ultrasound.recorded", {
                     "facility_id": facility,
                     "operator_id": self.rng.choice(self.operators[facility]),
                     "patient_id_number": patient,
                     "gestation_weeks": weeks,
                     "performed_on": iso_day(day),
                 })

    def ultrasounds(self, count: int) -> None:
        """Routine scans of women whose births fall outside the year."""
        for _ in range(count):
            day = self.day()
            woman = self.people.aged("F", 21, 40, day)
            facility = self.rng.choice(self.hospitals + list(self.health_centres.values()))
            self.ultrasound(woman.id_number, facility, self.rng.randint(8, 30), day)

    def terminations(self, count: int) -> None:
        rng = self.rng
        late_without_indication = max(3, count // 6)
        for i in range(count):
            day = self.day(self.start + timedelta(days=28))
            woman = self.people.aged("F", 20, 42, day)
            indication: str | None = None
            if i < late_without_indication:
                weeks = rng.randint(14, 24)
                hot = [self.health_centres[c] for c in HIGH_SEX_RATIO_TOWNSHIPS]
                facility = rng.choice(self.clinics + hot)
                clinic = rng.choice(self.clinics)
                gap = rng.randint(1, 3)
                self.ultrasound(woman.id_number, clinic, weeks - gap, self.clamp(day - timedelta(weeks=gap)))
            elif rng.random() < 0.25:
                weeks, indication = rng.randint(12, 26), rng.choice(texts.TERMINATION_INDICATIONS)
                facility = rng.choice(self.hospitals[:2])
            else:
                weeks = rng.randint(5, 10)
                facility = rng.choice(self.hospitals + list(self.health_centres.values()))
            self.add(moment(rng, day), "health", "health.termination.recorded", {
                "facility_id": facility,
                "patient_id_number": woman.id_number,
                "gestation_weeks": weeks,
                "medical_indication": indication,
                "performed_on": iso_day(day),
            })

    def drug_sales(self, count: int) -> None:
        rng = self.rng
        outlets = [f"YD-{code}-{k:02d}" for code in TOWNSHIPS for k in (1, 2)]
        without_prescription = max(2, count // 4)
        for i in range(count):
            day = self.day()
            sold_at = moment(rng, day, 8, 21)
            buyer = self.people.aged("F", 19, 44, day).id_number
            if i < without_prescription:
                prescription, quantity = None, rng.randint(1, 4)
                buyer = buyer if rng.random() < 0.4 else None
            else:
                prescription = f"RX-{rng.choice(self.hospitals)}-{self.year}-{rng.randint(1, 99999):05d}"
                quantity = 1
            self.add(sold_at, "drug", "drug.sale.recorded", {
                "outlet_id": rng.choice(outlets),
                "drug_code": rng.choice(TERMINATION_DRUGS),
                "quantity": quantity,
                "prescription_id": prescription,
                "buyer_id_number": buyer,
                "sold_at": sold_at.isoformat(timespec="seconds"),
            })

    # -- floating population --------------------------------------------------------
    def migrants(self, count: int) -> None:
        rng = self.rng
        codes = list(TOWNSHIPS)
        for i in range(count):
            region, origin = rng.choice(texts.MIGRANT_ORIGINS)
            arrived = self.day(latest=self.end - timedelta(days=20))
            woman_of_childbearing_age = i == 0 or rng.random() < 0.75
            if woman_of_childbearing_age:
                person = self.people.aged("F", 18, 49, arrived, region=region)
            else:
                person = self.people.aged("M", 20, 55, arrived, region=region)
            code = rng.choices(codes, weights=[4 if c == SEAT else 1.5 if c[-3] == "1" else 0.5 for c in codes])[0]
            registered = self.clamp(arrived + timedelta(days=rng.randint(3, 25)))
            self.add(moment(rng, registered), "police", "police.residence.registered", {
                "id_number": person.id_number, "name": person.name, "sex": person.sex,
                "birth_date": iso_day(person.birth_date), "origin": origin,
                "arrived_on": iso_day(arrived), "township_code": code,
            })
            if not woman_of_childbearing_age or (i > 0 and rng.random() < 0.15):
                continue  # men need no certificate; some women never present one
            late = i > 0 and rng.random() < 0.2
            presented = arrived + timedelta(days=rng.randint(16, 45) if late else rng.randint(0, 14))
            if presented <= self.end:
                self.add(moment(rng, presented), "township", "township.migrant.certificate_presented", {
                    "id_number": person.id_number,
                    "certificate_no": f"{region}{arrived.year}{rng.randint(1, 99999):05d}",
                    "presented_on": iso_day(presented),
                }, code)

    # -- hotline and petitions -------------------------------------------------------
    def tips(self, count: int) -> None:
        rng = self.rng
        categories = list(texts.TIPS)
        for i in range(count):
            category = categories[i % len(categories)] if i < 2 * len(categories) else rng.choice(categories)
            code: str | None = self.township()
            if category == "two_illegals" and rng.random() < 0.5:
                code = rng.choice(HIGH_SEX_RATIO_TOWNSHIPS)
            if (category == "other" and rng.random() < 0.6) or rng.random() < 0.1:
                code = None
            channel = rng.choices(("phone", "web", "letter"), weights=(60, 30, 10))[0]
            text = rng.choice(texts.TIPS[category]).format(town=TOWNSHIPS[code] if code else "某乡镇")
            self.add(moment(rng, self.day(), 0 if channel == "web" else 8, 23 if channel == "web" else 20),
                     "hotline", "hotline.tip.received", {
                         "channel": channel,
                         "anonymous": i % 2 == 0 if i < 2 else rng.random() < 0.55,
                         "category": category,
                         "township_code": code,
                         "text": text,
                     })

    def petitions(self, count: int) -> None:
        rng = self.rng
        for i in range(count):
            day = self.day()
            subject, template = texts.PETITIONS[i % len(texts.PETITIONS)]
            code = self.township() if rng.random() < 0.9 else None
            petitioner = self.people.aged(rng.choice("MF"), 30, 75, day).id_number if rng.random() < 0.8 else None
            self.add(moment(rng, day), "petitions", "petitions.petition.received", {
                "petitioner_id_number": petitioner,
                "township_code": code,
                "subject": subject,
                "text": template.format(town=TOWNSHIPS[code] if code else "乡镇"),
            })
