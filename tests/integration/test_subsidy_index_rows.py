"""Verification's subsidy listing rows on both store backends: filtered by their columns,
saved with the log position they reach, never overwritten by an older batch."""

from __future__ import annotations

from services.verification.adapters.index_rows import APPLICATIONS, SUBSIDY
from shared.eventstore.index_rows import SELECT_PAGE, IndexRows


def test_rows_are_saved_with_their_position_filtered_by_column_and_an_older_batch_is_refused(store_url: str):
    rows = IndexRows(store_url, SUBSIDY)
    rows.clear()
    payment = {"payment_id": "PAY-2026-RW-000001", "cycle_id": "2026-reward", "township_code": "130132100", "status": "approved",
               "bucket": "pending", "amount": "960.00"}
    other = {**payment, "payment_id": "PAY-2026-RW-000002", "township_code": "130132201"}

    assert rows.save({("payment", "a"): payment, ("payment", "b"): other}, 10) is True
    assert rows.position() == 10
    assert list(rows.select("payment", {"cycle_id": "2026-reward", "township_code": "130132201"})) == [("b", other)]
    assert rows.save({("payment", "a"): {**payment, "status": "scheduled"}}, 7) is False
    assert rows.load_many([("payment", "a")])[("payment", "a")]["status"] == "approved"
    assert rows.save({("payment", "a"): {**payment, "status": "disbursed", "bucket": "disbursed"}}, 12) is True
    assert [key for key, _ in rows.select("payment", {"bucket": "disbursed"})] == ["a"]
    rows.clear()
    assert rows.position() == 0 and list(rows.select("payment", {})) == []
    rows.close()


def test_rows_are_loaded_together_by_kind_and_key_only_those_stored(store_url: str):
    rows = IndexRows(store_url, SUBSIDY)
    rows.clear()
    stored = {("payment", f"p{n}"): {"payment_id": f"PAY-{n}", "status": "approved"} for n in range(1200)}
    stored[("signal", "p1")] = {"signal_id": "SG-1", "cases": []}
    rows.save(stored, 5)

    wanted = [("payment", f"p{n}") for n in range(0, 1300, 2)] + [("signal", "p1"), ("signal", "p2"), ("enrolment", "p1")]
    loaded = rows.load_many(wanted)

    assert set(loaded) == {("payment", f"p{n}") for n in range(0, 1200, 2)} | {("signal", "p1")}  # more keys than one IN list
    assert loaded[("payment", "p1198")] == {"payment_id": "PAY-1198", "status": "approved"}
    assert loaded[("signal", "p1")]["signal_id"] == "SG-1"
    rows.clear()
    rows.close()


def test_the_applications_index_keeps_its_own_rows_and_position_beside_the_subsidy_index(store_url: str):
    subsidy, applications = IndexRows(store_url, SUBSIDY), IndexRows(store_url, APPLICATIONS)
    subsidy.clear()
    applications.clear()
    row = {"application_id": "APP-1", "application_kind": "rebirth_approval", "township_code": "130132100", "section": "县直科",
           "status": "submitted", "scores": []}
    subsidy.save({("payment", "a"): {"payment_id": "PAY-1", "status": "approved"}}, 7)
    applications.save({("application", "a"): row}, 3)

    assert (subsidy.position(), applications.position()) == (7, 3)
    assert list(applications.select("application", {"application_kind": "rebirth_approval", "section": "县直科"})) == [("a", row)]
    assert list(applications.select("application", {"status": "approved"})) == []
    applications.clear()
    assert (subsidy.position(), applications.position()) == (7, 0), "clearing one index leaves the other's position"
    assert list(subsidy.select("payment", {})) != []
    subsidy.clear()
    subsidy.close()
    applications.close()


def test_rows_are_listed_page_by_page_in_key_order_and_a_tuple_filter_matches_any_of_its_values(store_url: str):
    rows = IndexRows(store_url, APPLICATIONS)
    rows.clear()
    statuses = ("submitted", "checked", "approved")
    stored = {("application", f"k{n:05d}"): {"status": statuses[n % 3], "n": n} for n in range(2 * SELECT_PAGE + 500)}
    rows.save(stored, 3)

    open_keys = [key for key, _ in rows.select("application", {"status": ("submitted", "checked")})]
    approved = [row["n"] for _, row in rows.select("application", {"status": ("approved",), "township_code": None})]

    assert open_keys == sorted(key for (_, key), row in stored.items() if row["status"] != "approved"), "each row once, across pages"
    assert approved == [n for n in range(2 * SELECT_PAGE + 500) if n % 3 == 2]
    rows.clear()
    rows.close()


def test_an_index_missing_from_an_existing_table_is_created_when_the_service_starts(store_url: str):
    from sqlalchemy import create_engine, inspect, text

    from shared.eventstore.backend import sqlalchemy_url

    IndexRows(store_url, SUBSIDY).close()
    engine = create_engine(sqlalchemy_url(store_url))
    with engine.begin() as conn:  # as a table created before the index was defined
        conn.execute(text("DROP INDEX ix_fpb_subsidy_index_kind_cycle"))
    assert "ix_fpb_subsidy_index_kind_cycle" not in {i["name"] for i in inspect(engine).get_indexes("fpb_subsidy_index")}

    IndexRows(store_url, SUBSIDY).close()

    created = {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("fpb_subsidy_index")}
    assert created["ix_fpb_subsidy_index_kind_cycle"] == ["kind", "cycle_id", "key"]
    engine.dispose()
