"""Payment cycles and payments: computed township by township, approved by someone
else, disbursed in batches, withheld from the suspended, returned and reissued,
followed up; the totals reconcile to the fen."""

from __future__ import annotations

import pytest
from subsidy_support import OTHER_TOWNSHIP, TOWNSHIP, SubsidyWorld, resident

from services.verification.application.subsidies import UnknownPaymentError
from services.verification.bootstrap import make_resolve
from services.verification.domain.subsidy.payment import Payment

PEOPLE = [resident("1958-01-01", n) for n in range(1, 4)]


@pytest.fixture
def world(announced, delivery, protector) -> SubsidyWorld:
    world = SubsidyWorld(announced, delivery, protector)
    for n, person in enumerate(PEOPLE):
        world.report(person, township=TOWNSHIP if n < 2 else OTHER_TOWNSHIP)
    assert len(world.post("/beneficiaries/confirm", "assist", program="reward", year=2026, on="2026-03-20").json()["confirmed"]) == 3
    return world


def pay(world: SubsidyWorld, cycle_id: str, payment_ids: list[str], day: str = "2026-05-10", batch_id: str = "B-1"):
    items = [{"payment_id": p, "bank_reference": f"BOC-{p}", "disbursed_on": day} for p in payment_ids]
    return world.post(f"/payment-cycles/{cycle_id}/batches", "finance", batch_id=batch_id, payments=items, on=day)


def payment_of(world: SubsidyWorld, id_number: str) -> Payment:
    [row] = [r for r in world.index.payments() if r["beneficiary_id"] == world.person(id_number).beneficiary_id]
    return world.find(row["payment_id"])


def test_entitlements_are_computed_per_township_with_sequential_payment_ids(world):
    cycle_id = world.post("/payment-cycles", "assist", program="reward", year=2026, on="2026-04-01").json()["cycle_id"]
    first = world.post(f"/payment-cycles/{cycle_id}/compute", "assist", townships=[TOWNSHIP], on="2026-04-01").json()
    rest = world.post(f"/payment-cycles/{cycle_id}/compute", "assist", on="2026-04-01").json()

    assert cycle_id == "2026-reward"
    assert first["scheduled"] == {TOWNSHIP: 2} and rest["scheduled"] == {OTHER_TOWNSHIP: 1, TOWNSHIP: 0}, "no one is scheduled twice"
    assert [r["payment_id"] for r in world.http.get("/payments").json()["rows"]] == [f"PAY-2026-RW-00000{n}" for n in (1, 2, 3)]
    cycle = world.http.get(f"/payment-cycles/{cycle_id}").json()
    assert cycle["county"]["entitled"] == "2880.00" and cycle["townships"][TOWNSHIP]["pending"] == "1920.00" and cycle["reconciles"]


def test_the_creator_may_not_approve_and_other_sections_may_not_run_cycles(world):
    """Four eyes on real identities: the head who created and computed the cycle may not
    approve it, staff may not approve at all, another head may."""
    cycle_id = world.post("/payment-cycles", "assist_chief", program="reward", year=2026, on="2026-04-01").json()["cycle_id"]
    world.post(f"/payment-cycles/{cycle_id}/compute", "assist_chief", on="2026-04-01")

    own = world.post(f"/payment-cycles/{cycle_id}/approve", "assist_chief", on="2026-04-02")
    staff = world.post(f"/payment-cycles/{cycle_id}/approve", "assist", on="2026-04-02")
    clerk = world.post("/payment-cycles", "clerk", program="special", year=2026)
    again = world.post("/payment-cycles", "assist", program="reward", year=2026)

    assert own.status_code == 409 and own.json()["detail"][0]["field"] == "officer.id"
    assert staff.status_code == 403 and "subsidies.approve" in staff.json()["detail"][0]["message"]
    assert clerk.status_code == 403 and again.status_code == 409
    approved = world.post(f"/payment-cycles/{cycle_id}/approve", "assist_deputy", on="2026-04-02").json()
    assert approved["approved"] == 3 and approved["withheld"] == []


def test_a_batch_withholds_the_payment_of_a_beneficiary_suspended_by_the_disbursement_day(world):
    cycle_id = world.paid_cycle()
    world.death(PEOPLE[0], "2026-05-01")
    ids = [payment_of(world, p).payment_id for p in PEOPLE]

    response = pay(world, cycle_id, ids, day="2026-05-10")

    assert response.status_code == 200, response.text
    assert response.json()["withheld"] == [ids[0]] and response.json()["disbursed"] == ids[1:]
    cycle = world.http.get(f"/payment-cycles/{cycle_id}").json()
    assert (cycle["county"]["disbursed"], cycle["county"]["withheld"], cycle["county"]["pending"]) == ("1920.00", "960.00", "0.00")
    assert cycle["reconciles"] is True


def test_a_batch_is_recorded_whole_or_not_at_all(world):
    cycle_id = world.paid_cycle()
    ids = [payment_of(world, p).payment_id for p in PEOPLE]

    unknown = pay(world, cycle_id, [ids[0], "PAY-2026-RW-999999"])
    twice = pay(world, cycle_id, [ids[0], ids[0]])
    clerk = world.post(f"/payment-cycles/{cycle_id}/batches", "clerk", batch_id="B-9",
                       payments=[{"payment_id": ids[0], "bank_reference": "X", "disbursed_on": "2026-05-10"}])

    assert unknown.status_code == 404 and unknown.json()["detail"][0]["field"] == "payments[1].payment_id"
    assert twice.status_code == 422 and clerk.status_code == 403
    assert world.find(ids[0]).status == "approved", "nothing of a refused batch was recorded"
    assert pay(world, cycle_id, ids).status_code == 200
    assert pay(world, cycle_id, ids).json()["detail"][0]["field"] == "batch_id"


def test_a_cycle_closes_only_when_nothing_is_pending(world):
    cycle_id = world.paid_cycle()
    ids = [payment_of(world, p).payment_id for p in PEOPLE]
    pay(world, cycle_id, ids[:2])

    early = world.post(f"/payment-cycles/{cycle_id}/close", "assist", on="2026-05-20")
    pay(world, cycle_id, ids[2:], batch_id="B-2")
    closed = world.post(f"/payment-cycles/{cycle_id}/close", "assist", on="2026-05-20")

    assert early.status_code == 409 and "1 payment(s)" in early.json()["detail"][0]["message"]
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["county"]["disbursed"] == "2880.00"


def test_a_returned_payment_moves_to_the_returned_bucket_and_back_when_reissued(world):
    cycle_id = world.paid_cycle()
    payment_id = payment_of(world, PEOPLE[0]).payment_id
    pay(world, cycle_id, [payment_id])

    returned = world.post(f"/payments/{payment_id}/return", "finance", reason="账户已销户", outcome="returned", on="2026-05-12")
    assert returned.json()["bucket"] == "returned"
    assert world.http.get(f"/payment-cycles/{cycle_id}").json()["townships"][TOWNSHIP]["returned"] == "960.00"
    same = world.post(f"/payments/{payment_id}/reissue", "finance", bank_reference=f"BOC-{payment_id}", on="2026-05-15")
    reissued = world.post(f"/payments/{payment_id}/reissue", "finance", bank_reference="BOC-NEW-1", on="2026-05-15")

    assert same.status_code == 422
    assert reissued.json()["status"] == "reissued" and reissued.json()["bucket"] == "disbursed"
    changes = [a["payload"]["change"] for a in world.announcements("verification.payment.changed") if a["payload"]["payment_id"] == payment_id]
    assert changes == ["scheduled", "approved", "disbursed", "returned", "reissued"]


def test_a_follow_up_confirming_less_than_was_paid_is_a_skimming_signal(world):
    cycle_id = world.paid_cycle()
    payment_id = payment_of(world, PEOPLE[0]).payment_id
    pay(world, cycle_id, [payment_id])

    world.followup(payment_id, "800.00")

    payment = world.http.get(f"/payments/{payment_id}").json()
    assert payment["status"] == "followed_up" and payment["followups"][0]["shortfall"] == "160.00"
    [signal] = world.http.get("/subsidy-signals", params={"pattern": "followup_shortfall"}).json()["rows"]
    assert (signal["subject"], signal["offence"], signal["amount"]) == (f"payment:{payment_id}", "skimming", "160.00")
    [changed] = [a for a in world.announcements("verification.payment.changed") if a["payload"]["change"] == "followed_up"]
    assert changed["payload"]["bucket"] == "disbursed" and changed["payload"]["amount_confirmed"] == "800.00"


def test_a_follow_up_of_an_unknown_payment_is_retried_then_dead_lettered(world):
    with pytest.raises(UnknownPaymentError, match="PAY-2026-RW-004512"):
        world.followup("PAY-2026-RW-004512", "960.00")


def test_a_death_reported_after_a_payment_on_or_after_the_death_is_a_fraudulent_collection_signal(world):
    cycle_id = world.paid_cycle()
    payment_id = payment_of(world, PEOPLE[1]).payment_id
    pay(world, cycle_id, [payment_id], day="2026-05-10")

    world.death(PEOPLE[1], "2026-05-02")

    [signal] = world.http.get("/subsidy-signals", params={"pattern": "paid_after_death"}).json()["rows"]
    assert (signal["subject"], signal["offence"], signal["amount"]) == (f"payment:{payment_id}", "fraudulent_collection", "960.00")
    assert world.person(PEOPLE[1]).suspension_on("2026-05-02")["cause"] == "death"


def test_an_auditor_resolves_payment_beneficiary_cycle_and_signal_ids_to_their_histories(world):
    cycle_id = world.paid_cycle()
    payment = payment_of(world, PEOPLE[0])
    pay(world, cycle_id, [payment.payment_id])
    world.followup(payment.payment_id, "0.00")
    resolve = make_resolve(world.store)

    events, state = world.store.history(resolve(payment.payment_id))
    signal_id = world.http.get("/subsidy-signals").json()["rows"][0]["signal_id"]

    assert [type(e).__name__ for e in events] == ["Scheduled", "Approved", "Disbursed", "FollowedUp"]
    assert state.bank_reference == f"BOC-{payment.payment_id}"
    assert world.store.find(resolve(payment.beneficiary_id)).beneficiary_id == payment.beneficiary_id
    assert world.store.find(resolve(cycle_id)).cycle_id == cycle_id
    assert world.store.find(resolve(signal_id)).signal_id == signal_id
    assert resolve("PAY-2026-RW-999999") is None


def test_malformed_commands_are_refused_naming_the_field_and_change_nothing(world):
    head = world.store.log_head()
    cases = [
        ("/payment-cycles", {"program": "lottery", "year": 2026}, "program"),
        ("/payment-cycles", {"program": "reward", "year": "next"}, "year"),
        ("/beneficiaries/confirm", {"program": "reward"}, "year"),
        ("/payment-cycles", {"program": "reward", "year": 2026, "on": "2026-02-30"}, "on"),
    ]
    for path, body, field in cases:
        response = world.post(path, "assist", **body)
        assert response.status_code == 422 and field in response.json()["detail"][0]["field"], (path, body, response.text)
    assert world.store.log_head() == head
