"""Properties of the money: for any sequence of enrolments, status changes (deaths,
the pension roll, fraud suspensions, reinstatements), cycles, batches, returns,
reissues and follow-ups, every cycle reconciles exactly per township and county, and
no payment is disbursed to a beneficiary suspended on the disbursement day."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.verification.adapters.subsidy_policy_file import load_subsidy_policy
from services.verification.application import life_events
from services.verification.application.payment_commands import PaymentCommands
from services.verification.application.subsidies import Subsidies
from services.verification.application.subsidy_commands import BeneficiaryCommands, SubsidyNotFoundError
from services.verification.adapters.index_rows import SUBSIDY
from shared.eventstore.index_rows import IndexRows
from services.verification.application.subsidy_queries import SubsidyIndex, cycle_totals
from services.verification.domain.errors import RuleViolation
from services.verification.domain.subsidy.beneficiary import beneficiary_uuid
from services.verification.domain.subsidy.cycle import cycle_uuid
from services.verification.domain.subsidy.money import ZERO
from shared.contracts.events.intake import SubmissionAcceptedV1
from shared.contracts.integration import IntegrationEnvelope, ReceivedEvent
from shared.eventstore.application import ServiceApplication

POLICY = load_subsidy_policy()
TOWNSHIPS = ("130132100", "130132204", "130132206")
PEOPLE = [f"person-{n}" for n in range(6)]
START = date(2026, 3, 1)
ASSIST, CHIEF, FINANCE = {"id": "fz-1", "section": "扶助中心"}, {"id": "fz-2", "section": "扶助中心"}, {"id": "cw-1", "section": "财务科"}
REASONS = {
    "reward": [{"type": "only_child", "household_type": "rural"}, {"type": "two_daughters", "household_type": "urban"}, {}],
    "special": [{"type": "only_child_died", "child_died_on": "2019-01-01", "living_children": 0},
                {"type": "only_child_disabled", "disability_grade": 2, "living_children": 0}, {"type": "only_child_disabled"}],
}

person = st.integers(0, len(PEOPLE) - 1)
program = st.sampled_from(("reward", "special"))
back = st.integers(0, 20)  # how many days before "today" a fact takes effect
enrolment_steps = [
    st.tuples(st.just("report"), person, st.integers(0, 2), program, st.sampled_from((0, 0, 1, 2))),
    st.tuples(st.just("confirm"), program),
    st.tuples(st.just("death"), person, back),
    st.tuples(st.just("pension"), person, st.sampled_from(("deceased", "suspended", "active")), back),
    st.tuples(st.just("fraud"), person, back),
    st.tuples(st.just("reinstate"), person),
]
payment_steps = [
    st.tuples(st.just("cycle"), program),
    st.tuples(st.just("batch"), program, st.lists(st.integers(0, 11), min_size=1, max_size=6, unique=True), st.integers(0, 3)),
    st.tuples(st.just("return"), st.integers(0, 11), st.sampled_from(("returned", "failed"))),
    st.tuples(st.just("reissue"), st.integers(0, 11)),
    st.tuples(st.just("followup"), st.integers(0, 11), st.sampled_from(("960.00", "0.00", "5000.00", "7080.00"))),
    st.tuples(st.just("close"), program),
]
# Enrolments first (so that there is something to pay), both cycles run, then anything.
steps = st.builds(
    lambda roll, before, after: [*[("report", who, township, prog, 0) for who, (township, prog) in enumerate(roll)], *before,
                                 ("confirm", "reward"), ("confirm", "special"), ("cycle", "reward"), ("cycle", "special"), *after],
    st.lists(st.tuples(st.integers(0, 2), program), min_size=len(PEOPLE), max_size=len(PEOPLE)),
    st.lists(st.one_of(*enrolment_steps), max_size=10),
    st.lists(st.one_of(*enrolment_steps, *payment_steps, *payment_steps), min_size=5, max_size=30),
)


class Run:
    def __init__(self) -> None:
        self.store = ServiceApplication("memory://")
        self.index = SubsidyIndex(self.store, IndexRows(None, SUBSIDY))
        self.subsidies = Subsidies(POLICY, None)
        self.beneficiaries = BeneficiaryCommands(self.store, POLICY, self.index)
        self.payments = PaymentCommands(self.store, self.index)
        self.n = 0

    def fact(self, decide, kind: str, data: dict, ref: str, township: str | None, day: date) -> None:
        self.n += 1
        at = datetime(day.year, day.month, day.day, 2, tzinfo=timezone.utc)
        payload = SubmissionAcceptedV1(
            submission_id=f"s-{self.n}", record_id=f"r-{self.n}", source="township", schema=f"{kind}/v1", kind=kind, township_code=township,
            section="扶助中心", section_en="Assistance Center", duty_no=1, item_no=1, occurred_at=at, received_at=at, data=data,
            person_refs={"id_number": ref}, data_subject_ref=ref)
        envelope = IntegrationEnvelope(event_id=f"intake-{self.n}", type="intake.submission.accepted", version=1, producer="intake",
                                       aggregate_id=f"a-{self.n}", aggregate_version=1, occurred_at=at, correlation_id="c", causation_id="c",
                                       payload={})
        received = ReceivedEvent(envelope=envelope, payload=payload)
        self.store.save_once(envelope.event_id, kind, *decide(received, self.store.find))

    def apply(self, step: tuple, day: date) -> None:
        kind, *args = step
        back_to = lambda days: (day - timedelta(days=days)).isoformat()  # noqa: E731
        payment_ids = [row["payment_id"] for row in self.index.payments()]
        pick = lambda i: payment_ids[i % len(payment_ids)] if payment_ids else "PAY-2026-RW-999999"  # noqa: E731
        if kind == "report":
            who, township, prog, reason = args
            data = {"program": prog, "birth_date": "1955-01-01", "year": 2026, "reason": REASONS[prog][reason]}
            self.fact(self.subsidies.report_beneficiary, "township.beneficiary.reported", data, PEOPLE[who], TOWNSHIPS[township], day)
        elif kind == "confirm":
            self.beneficiaries.confirm_all(ASSIST, day, args[0], 2026, None)
        elif kind == "death":
            self.fact(life_events.record_death, "health.death.reported", {"died_on": back_to(args[1])}, PEOPLE[args[0]], None, day)
        elif kind == "pension":
            data = {"status": args[1], "effective_on": back_to(args[2])}
            self.fact(life_events.record_pension_status, "pension.status.changed", data, PEOPLE[args[0]], None, day)
        elif kind == "fraud":
            self.beneficiaries.suspend(self.bf(args[0]), CHIEF, day, day - timedelta(days=args[1]), "fraud", "查实冒领", None)
        elif kind == "reinstate":
            self.beneficiaries.reinstate(self.bf(args[0]), ASSIST, day, "复查撤销")
        elif kind == "cycle":  # create (once), compute what is confirmed, approve
            cycle_id = f"2026-{args[0]}"
            if self.store.find(cycle_uuid(cycle_id)) is None:
                self.payments.create_cycle(ASSIST, day, args[0], 2026)
            if self.store.find(cycle_uuid(cycle_id)).status in ("created", "computed"):
                self.payments.compute(cycle_id, ASSIST, day, None)
            if self.store.find(cycle_uuid(cycle_id)).status == "computed":
                self.payments.approve(cycle_id, CHIEF, day)
        elif kind == "batch":
            prog, picks, days = args
            paid_on = day - timedelta(days=days)
            of_cycle = [row["payment_id"] for row in self.index.payments(cycle_id=f"2026-{prog}")] or ["PAY-2026-RW-999999"]
            items = [{"payment_id": of_cycle[i % len(of_cycle)], "bank_reference": f"B-{self.n}-{i}", "disbursed_on": paid_on}
                     for i in sorted({i % len(of_cycle) for i in picks})]
            result = self.payments.record_batch(f"2026-{prog}", FINANCE, day, f"batch-{self.n}", items) if items else {"disbursed": []}
            self.n += 1
            self.assert_nobody_suspended_was_paid(result["disbursed"])
        elif kind == "return":
            self.payments.send_back(pick(args[0]), FINANCE, day, "账户异常", args[1])
        elif kind == "reissue":
            self.payments.reissue(pick(args[0]), FINANCE, day, f"R-{self.n}")
            self.n += 1
            self.assert_nobody_suspended_was_paid([pick(args[0])])
        elif kind == "followup":
            data = {"payment_id": pick(args[0]), "method": "phone", "amount_confirmed": args[1], "visited_on": day.isoformat(), "notes": "回访"}
            self.fact(self.subsidies.record_followup, "township.followup.recorded", data, "-", TOWNSHIPS[0], day)
        elif kind == "close":
            self.payments.close(f"2026-{args[0]}", ASSIST, day)

    def bf(self, who: int) -> str:
        found = self.store.find(beneficiary_uuid(PEOPLE[who]))
        return found.beneficiary_id if found else "BF-000000000000"

    def assert_nobody_suspended_was_paid(self, payment_ids: list[str]) -> None:
        for row in self.index.payments():
            if row["payment_id"] in payment_ids:
                payment = self.store.find(row["id"])
                beneficiary = self.store.find(beneficiary_uuid(payment.person_ref))
                assert beneficiary.suspension_on(payment.disbursed_on) is None, (payment.payment_id, beneficiary.suspensions)

    def assert_every_cycle_reconciles(self) -> None:
        for prog in ("reward", "special"):
            cycle = self.store.find(cycle_uuid(f"2026-{prog}"))
            if cycle is None:
                continue
            rows = self.index.payments(cycle_id=cycle.cycle_id)
            totals = cycle_totals(cycle, rows)
            assert totals["county"]["reconciles"] and all(t["reconciles"] for t in totals["townships"].values()), totals
            assert cycle.entitled == sum((r["amount"] for r in rows), ZERO), "entitled is the sum of the scheduled amounts"
            assert all(isinstance(r["amount"], Decimal) and r["amount"].as_tuple().exponent == -2 for r in rows)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(steps)
def test_any_sequence_reconciles_and_never_pays_the_suspended(sequence):
    run = Run()
    for offset, step in enumerate(sequence):
        try:
            run.apply(step, START + timedelta(days=offset))
        except (RuleViolation, SubsidyNotFoundError, LookupError):
            pass  # a command the rules refuse (or a follow-up of an unknown payment) changes nothing
        run.assert_every_cycle_reconciles()
