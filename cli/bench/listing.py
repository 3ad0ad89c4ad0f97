"""What a case list costs as cases accumulate (`python -m cli.bench.listing 20000`).

N officer-registered cases in a SQLite store (a quarter of them with a statutory clock
past due; one case in a thousand in a quiet township, the rest spread evenly over the
other 14), then, through enforcement's real HTTP routes: the listing's first catch-up, a
page of `GET /cases`, every page, every page of a busy township and of the quiet one,
`GET /cases/overdue` and a case by its number. The
comparison in the same run: loading every case from the store once, which is what each
list cost until session 10 (it loaded every case ever opened at every request).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.enforcement.adapters.case_index import CaseIndex
from services.enforcement.adapters.case_rows import CASES
from services.enforcement.adapters.duty_register import load_duty_items
from services.enforcement.application.case_listing import CaseListing
from services.enforcement.application.commands import CaseCommands
from services.enforcement.bootstrap import EnforcementStore
from services.enforcement.domain.deadlines import DeadlineRules
from services.enforcement.entrypoints.http import add_case_routes
from shared.contracts.townships import TOWNSHIPS
from shared.eventstore.index_rows import IndexRows

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone(timedelta(hours=8)))
RULES = DeadlineRules()
QUIET, *BUSY = sorted(TOWNSHIPS)


def timed(action, repeat: int = 1) -> float:
    """Median milliseconds of `repeat` runs of `action`."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def measure(workdir: Path, cases: int) -> dict[str, float]:
    url = f"sqlite:///{workdir / 'enforcement.db'}"
    store, rows = EnforcementStore(url), IndexRows(url, CASES)
    commands = CaseCommands(store, RULES, lambda: None)
    for n in range(cases):
        category, received = ("administrative_review", date(2026, 1, 5)) if n % 4 == 0 else ("two_illegals", date(2026, 6, 1))
        township = QUIET if n % 1000 == 999 else BUSY[n % len(BUSY)]
        commands.open_by_hand(f"BENCH-{n:07d}", category, township, "群众来信反映情况", "执法大队", received, "ZF-001")
    listing = CaseListing(store, rows)
    http = FastAPI()
    add_case_routes(http, store, CaseIndex(store), listing, commands, RULES, ("执法大队",), lambda: NOW, load_duty_items())
    api = TestClient(http)
    figures = {"cases": cases, "first_list_catch_up_ms": timed(lambda: api.get("/cases", params={"limit": 1}))}
    figures["page_of_500_ms"] = timed(lambda: api.get("/cases", params={"limit": 500}), repeat=20)

    def every_page(**filters: str) -> None:
        after = None
        while True:
            body = api.get("/cases", params={"limit": 500, **filters, **({"after": after} if after else {})}).json()
            if (after := body["next"]) is None:
                return

    figures["every_page_ms"] = timed(every_page, repeat=3)
    # A township's list should cost its own cases, not the county's (or the province's).
    figures["every_page_of_a_busy_township_ms"] = timed(lambda: every_page(township_code=BUSY[-1]), repeat=3)
    figures["every_page_of_the_quiet_township_ms"] = timed(lambda: every_page(township_code=QUIET), repeat=20)
    overdue = api.get("/cases/overdue").json()
    figures["overdue_listed"] = len(overdue["overdue"]) + len(overdue["nearing"])
    figures["overdue_ms"] = timed(lambda: api.get("/cases/overdue"), repeat=5)
    number = api.get("/cases", params={"limit": 1}).json()["cases"][0]["case_number"]
    figures["by_number_ms"] = timed(lambda: api.get(f"/cases/{number}"), repeat=20)
    case_ids = [event.originator_id for event in map(store.decode, store.iter_log()) if type(event).__qualname__ == "Case.Opened"]
    figures["load_every_case_ms"] = timed(lambda: [store.find_in_passing(case_id) for case_id in case_ids], repeat=3)
    rows.close()
    store.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=int, nargs="?", default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fpb-listing-") as workdir:
        figures = measure(Path(workdir), args.cases)
    for name, value in figures.items():
        print(f"{name}: {value:,.1f}")
    print(f"a page of 500 against loading every case (each list's cost until session 10): "
          f"{figures['page_of_500_ms']:,.1f} ms against {figures['load_every_case_ms']:,.1f} ms")


if __name__ == "__main__":
    main()
