"""`fpb up --demo`: a year of reward and special assistance, worked over HTTP the way the
Assistance Center (扶助中心) and Finance (财务科) do it, then checked by follow-ups.

For each program: the county confirms the eligible beneficiaries, one officer creates
the year's payment cycle and computes the entitlements, another approves it, Finance
disburses in bank batches at the end of June. One payment comes back from the bank
(account closed) and is reissued. Then the death held back by the demo records is
reported (after the money went out: a fraudulent-collection signal), and the townships'
follow-ups confirm what arrived, two of them less than was paid (skimming signals).
Finally both cycles are closed; their totals reconcile.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from cli.demo.applications_driver import rows_once_settled
from cli.demo.texts import FOLLOWUP_NOTES
from cli.publishing import Outgoing, publish_records

CREATOR = {"id": "FZ-01", "section": "扶助中心"}
APPROVER = {"id": "FZ-02", "section": "扶助中心"}
FINANCE = {"id": "CW-01", "section": "财务科"}
BATCH_SIZE = 200


class DemoStepError(RuntimeError):
    """A step of the demo was refused by the platform: the demo stops and says why."""


@dataclass
class AssistanceYear:
    client: httpx.Client
    year: int

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(path, json=body)
        if response.status_code != 200:
            raise DemoStepError(f"POST {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def day(self, month: int, day: int) -> str:
        return date(self.year, month, day).isoformat()

    def wait_for_beneficiaries(self, timeout: float) -> list[dict[str, Any]]:
        """The beneficiaries verification holds for the year, once their number stops growing."""
        return rows_once_settled(self.client, "/beneficiaries", {"year": self.year}, timeout)

    def pay(self, program: str) -> tuple[str, list[dict[str, Any]]]:
        """Confirm, create, compute, approve and disburse one program's cycle."""
        self.post("/beneficiaries/confirm", {"officer": CREATOR, "on": self.day(5, 20), "program": program, "year": self.year})
        cycle_id = self.post("/payment-cycles", {"officer": CREATOR, "on": self.day(6, 1), "program": program, "year": self.year})["cycle_id"]
        self.post(f"/payment-cycles/{cycle_id}/compute", {"officer": CREATOR, "on": self.day(6, 2)})
        self.post(f"/payment-cycles/{cycle_id}/approve", {"officer": APPROVER, "on": self.day(6, 5)})
        payments = self.client.get("/payments", params={"cycle_id": cycle_id, "status": "approved"}).json()["rows"]  # not those withheld at approval
        for first in range(0, len(payments), BATCH_SIZE):
            batch = payments[first:first + BATCH_SIZE]
            self.post(f"/payment-cycles/{cycle_id}/batches", {
                "officer": FINANCE, "on": self.day(6, 28), "batch_id": f"{cycle_id}-B{first // BATCH_SIZE + 1:02d}",
                "payments": [{"payment_id": p["payment_id"], "bank_reference": f"NXS-{p['payment_id'][4:]}", "disbursed_on": self.day(6, 28)}
                             for p in batch],
            })
        return cycle_id, self.client.get("/payments", params={"cycle_id": cycle_id}).json()["rows"]

    def return_and_reissue(self, payment: dict[str, Any]) -> None:
        payment_id = payment["payment_id"]
        self.post(f"/payments/{payment_id}/return", {"officer": FINANCE, "on": self.day(7, 8), "reason": "账户已销户，银行退回", "outcome": "returned"})
        self.post(f"/payments/{payment_id}/reissue", {"officer": FINANCE, "on": self.day(7, 20), "bank_reference": f"NXS-{payment_id[4:]}-R1"})

    def wait_for_followups(self, count: int, timeout: float) -> None:
        """Until verification has attached the follow-ups (they arrive through intake)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.client.get("/payments", params={"status": "followed_up"}).json()["rows"]
            if len(rows) >= count:
                return
            time.sleep(0.5)

    def close(self, cycle_id: str) -> dict[str, Any]:
        self.post(f"/payment-cycles/{cycle_id}/close", {"officer": APPROVER, "on": self.day(12, 20)})
        return self.client.get(f"/payment-cycles/{cycle_id}").json()


def followups(payments: Sequence[dict[str, Any]], year: int, rng: random.Random) -> list[Outgoing]:
    """Townships' follow-ups of about half the disbursed payments; the first two find a shortfall."""
    out: list[Outgoing] = []
    disbursed = [p for p in payments if p["status"] in ("disbursed", "reissued")]
    for n, payment in enumerate(p for p in disbursed if rng.random() < 0.5):
        amount = Decimal(payment["amount"])
        short = n < 2
        confirmed = (amount * Decimal("0.75")).quantize(Decimal("0.01")) if short else amount
        method = "visit" if short or rng.random() < 0.3 else "phone"
        note = FOLLOWUP_NOTES["short" if short else f"ok_{method}"].format(amount=f"{confirmed:.2f}")
        visited = date(year, rng.randint(8, 11), rng.randint(1, 28))
        record_id = f"TS-{payment['township_code']}-{year}-F{n + 1:05d}"
        body = {"record_id": record_id, "schema": "township.followup.recorded/v1", "source": "township",
                "occurred_at": f"{visited.isoformat()}T16:00:00+08:00",
                "data": {"payment_id": payment["payment_id"], "method": method, "amount_confirmed": f"{confirmed:.2f}",
                         "visited_on": visited.isoformat(), "notes": note}}
        out.append(Outgoing(subject=f"township.{payment['township_code']}.followup.recorded", record_id=record_id,
                            body=json.dumps(body, ensure_ascii=False).encode()))
    return out


def as_outgoing(records: Sequence[tuple[str, dict]]) -> list[Outgoing]:
    return [Outgoing(subject=s, record_id=e["record_id"], body=json.dumps(e, ensure_ascii=False).encode()) for s, e in records]


def drive_assistance(verification_url: str, nats_url: str, year: int, held_back: Sequence[tuple[str, dict]],
                     say: Callable[[str], Any] = print, timeout: float = 120.0, credentials: Any = None,
                     auth: httpx.Auth | None = None) -> dict[str, dict[str, Any]]:
    """Run the year; returns each cycle as verification reports it after closing."""
    rng = random.Random(year)
    with httpx.Client(base_url=verification_url, timeout=60, auth=auth) as client:
        work = AssistanceYear(client, year)
        work.wait_for_beneficiaries(timeout)
        paid = {program: work.pay(program) for program in ("reward", "special")}
        reward_payments = paid["reward"][1]
        disbursed = [p for p in reward_payments if p["status"] == "disbursed"]
        if disbursed:
            work.return_and_reissue(disbursed[-1])
        late = as_outgoing(held_back)
        inbound = late + followups([p for _, rows in paid.values() for p in rows], year, rng)
        results = asyncio.run(publish_records(nats_url, inbound, receipt_timeout=60, credentials=credentials))
        accepted = sum(1 for r in results if r.receipt and r.receipt.get("accepted"))
        work.wait_for_followups(len(inbound) - len(late), timeout)
        cycles = {program: work.close(cycle_id) for program, (cycle_id, _) in paid.items()}
    for program, cycle in cycles.items():
        county = cycle["county"]
        by_status = ", ".join(f"{status} {count}" for status, count in sorted(county["payments"].items()))
        say(f"demo assistance · {program} {cycle['cycle_id']}: payments {by_status}; entitled {county['entitled']}, "
            f"disbursed {county['disbursed']}, withheld {county['withheld']}, returned {county['returned']}; reconciles: {cycle['reconciles']}")
    say(f"demo assistance · {accepted} late facts and follow-ups accepted")
    return cycles
