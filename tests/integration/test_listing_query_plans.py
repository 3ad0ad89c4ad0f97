"""Each list filter with its own index finds a page's rows and their order in that index,
on SQLite (the embedded default; PostgreSQL's planner chooses by the table's size).

Without such an index the database walks every row of the kind in key order and keeps
the matching ones: a quiet township's cases cost 11 ms among 20,000 cases and 24 ms
among 60,000, against 5 and 4 ms with it (`python -m cli.bench.listing`, session 11)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine

from services.enforcement.adapters.case_rows import CASES
from services.verification.adapters.index_rows import APPLICATIONS, SUBSIDY
from shared.eventstore.index_rows import IndexRows, IndexTable

INDEXED_FILTERS = [
    (CASES, "case", "township_code"), (CASES, "case", "status"), (CASES, "case", "case_number"), (CASES, "case", "awaiting_answer"),
    (APPLICATIONS, "application", "township_code"), (APPLICATIONS, "application", "status"),
    (SUBSIDY, "payment", "township_code"), (SUBSIDY, "payment", "cycle_id"), (SUBSIDY, "enrolment", "program"),
    (SUBSIDY, "enrolment", "year"),
]


@pytest.mark.parametrize(("index", "kind", "column"), INDEXED_FILTERS, ids=lambda value: getattr(value, "name", value))
def test_a_page_of_rows_filtered_by_an_indexed_column_is_read_from_that_index(tmp_path: Path, index: IndexTable, kind: str, column: str):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    rows = IndexRows(url, index)
    engine = create_engine(url)
    try:
        query = rows.page_query(kind, {column: "1"}, after="0")
        with engine.connect() as conn:
            plan = " ".join(str(step[-1]) for step in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query.compile(compile_kwargs={'literal_binds': True})}"))
        assert f"(kind=? AND {column}=? AND key>?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the key order
    finally:
        engine.dispose()
        rows.close()
