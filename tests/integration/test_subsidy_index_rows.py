"""Verification's subsidy listing rows on both store backends: filtered by their columns,
saved with the log position they reach, never overwritten by an older batch."""

from __future__ import annotations

from services.verification.adapters.index_rows import IndexRows


def test_rows_are_saved_with_their_position_filtered_by_column_and_an_older_batch_is_refused(store_url: str):
    rows = IndexRows(store_url)
    rows.clear()
    payment = {"payment_id": "PAY-2026-RW-000001", "cycle_id": "2026-reward", "township_code": "130132100", "status": "approved",
               "bucket": "pending", "amount": "960.00"}
    other = {**payment, "payment_id": "PAY-2026-RW-000002", "township_code": "130132201"}

    assert rows.save({("payment", "a"): payment, ("payment", "b"): other}, 10) is True
    assert rows.position() == 10
    assert rows.select("payment", {"cycle_id": "2026-reward", "township_code": "130132201"}) == [("b", other)]
    assert rows.save({("payment", "a"): {**payment, "status": "scheduled"}}, 7) is False
    assert rows.load("payment", "a")["status"] == "approved"
    assert rows.save({("payment", "a"): {**payment, "status": "disbursed", "bucket": "disbursed"}}, 12) is True
    assert [key for key, _ in rows.select("payment", {"bucket": "disbursed"})] == ["a"]
    rows.clear()
    assert rows.position() == 0 and rows.select("payment", {}) == []
    rows.close()
