"""The case listing's table in enforcement's own database (rows kept by
shared/eventstore/index_rows.py, written by application/case_listing.py)."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String

from shared.eventstore.index_rows import index_table

CASES = index_table(
    "cases", "fpb_case_index",
    Column("case_number", String(24)), Column("origin", String(16)), Column("category", String(32)),
    Column("township_code", String(16)), Column("status", String(16)),
    # 1 while a statutory clock runs unanswered: the overdue list reads only these rows
    Column("awaiting_answer", Integer),
    # Each ends with the key, the order lists are read in: the database finds a page's rows
    # and their order in one index instead of walking every case in key order (the plan
    # SQLite chose with the filter columns indexed alone).
    Index("ix_fpb_case_index_number", "kind", "case_number", "key"),
    Index("ix_fpb_case_index_awaiting", "kind", "awaiting_answer", "key"),
    Index("ix_fpb_case_index_status", "kind", "status", "key"),
    Index("ix_fpb_case_index_township", "kind", "township_code", "key"),
)
