"""Verification's listing indexes' tables (rows kept by shared/eventstore/index_rows.py):
subsidy enrolments, payments and signals; applications."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String

from shared.eventstore.index_rows import index_table

# Lists read rows in key order: each index ends with the key, so the database finds a
# list's rows and their order in one index. With the filter columns indexed alone (until
# session 10) SQLite walked every row of the kind in key order: a cycle's payments cost
# as much as every payment of every year. Services create indexes missing from an
# existing table at start (shared/eventstore/backend.py, create_tables). Every list can
# be asked for one township: its pages then cost that township's rows, not every row of
# the county's (or a province's) history (`python -m cli.bench.listing`, session 11).
SUBSIDY = index_table(
    "subsidy", "fpb_subsidy_index",
    Column("program", String(16)), Column("year", Integer), Column("township_code", String(16)), Column("status", String(24)),
    Column("cycle_id", String(32)), Column("bucket", String(16)), Column("pattern", String(40)),
    Index("ix_fpb_subsidy_index_kind_program", "kind", "program", "key"),
    Index("ix_fpb_subsidy_index_kind_cycle", "kind", "cycle_id", "key"),
    Index("ix_fpb_subsidy_index_kind_township", "kind", "township_code", "key"),
    Index("ix_fpb_subsidy_index_kind_year", "kind", "year", "key"),  # one year's enrolments among every year's
)
APPLICATIONS = index_table(
    # "-2": rows since session 10 keep the clock's start and limit; a new name starts its
    # position at 0, so an upgraded service rewrites every row once from the log.
    "applications-2", "fpb_application_index",
    Column("application_kind", String(40)), Column("township_code", String(16)), Column("section", String(40)), Column("status", String(32)),
    Index("ix_fpb_application_index_kind_status", "kind", "status", "key"),
    Index("ix_fpb_application_index_kind_township", "kind", "township_code", "key"),
)
