"""Memory with a large store: every service started on the platform while verification's
store already holds `events` events (payments with four events each, the bulk of a
province's subsidy history), then each service's resident memory once verification has
read its whole log into its listing indexes.

    .venv/bin/python -m cli.bench.stored [EVENTS]     (default 1,000,000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import httpx

from cli.bench import access
from cli.bench.load import rss_kib
from cli.platform import Platform
from services.verification.bootstrap import VerificationStore
from services.verification.domain.subsidy.payment import Payment
from shared.contracts.townships import TOWNSHIPS

OFFICER = {"id": "CW-01", "section": "财务科"}


def fill(store_url: str, events: int, batch: int = 500) -> int:
    """Payments of one cycle, scheduled, approved, disbursed and followed up (4 events each)."""
    store = VerificationStore(store_url)
    codes = list(TOWNSHIPS)
    payments = events // 4
    for first in range(0, payments, batch):
        made = []
        for n in range(first, min(first + batch, payments)):
            payment = Payment(cycle_id="2025-reward", person_ref=f"bench-{n:08d}", payment_id=f"PAY-2025-RW-{n + 1:06d}", program="reward",
                              year=2025, township_code=codes[n % len(codes)], beneficiary_id=f"BF-{n:012X}", amount=Decimal("960.00"),
                              scheduled_on="2025-06-02", officer=OFFICER)
            payment.approve("2025-06-05", OFFICER)
            payment.disburse(f"NXS-{n:08d}", "2025-06-28", "B01", OFFICER)
            payment.follow_up(Decimal("960.00"), "2025-09-10", "phone", f"sub-{n}", f"intake-{n}")
            made.append(payment)
        store.save(*made)
    stored = store.log_head()
    store.close()
    return stored


def main(events: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="fpb-stored-"))
    platform = Platform(workdir / "platform")
    started = time.perf_counter()
    stored = fill(platform.store_url("verification"), events)
    filled = time.perf_counter() - started
    platform.start()
    access.register(platform)  # its clients authenticate (cli/bench/access.py)
    try:
        verification = platform.services["verification"].url
        started = time.perf_counter()
        listed = len(httpx.get(f"{verification}/payments", params={"cycle_id": "2025-reward", "status": "approved"}, timeout=600).json()["rows"])
        indexed = time.perf_counter() - started
        memory = {name: rss_kib(service.process.pid) / 1024 for name, service in platform.services.items() if service.process}
    finally:
        platform.stop()
    result = {"events": stored, "fill_s": filled, "index_s": indexed, "listed": listed, **{f"rss_mib_{k}": v for k, v in memory.items()}}
    for key, value in result.items():
        print(f"{key}: {value:,.1f}" if isinstance(value, float) else f"{key}: {value:,}")
    return result


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
