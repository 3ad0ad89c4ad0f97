"""Verification's listing indexes' tables (rows kept by shared/eventstore/index_rows.py):
subsidy enrolments, payments and signals; applications."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String

from shared.eventstore.index_rows import index_table

SUBSIDY = index_table(
    "subsidy", "fpb_subsidy_index",
    Column("program", String(16), index=True), Column("year", Integer), Column("township_code", String(16)), Column("status", String(24)),
    Column("cycle_id", String(32), index=True), Column("bucket", String(16)), Column("pattern", String(40)),
)
APPLICATIONS = index_table(
    # "-2": rows since session 10 keep the clock's start and limit; a new name starts its
    # position at 0, so an upgraded service rewrites every row once from the log.
    "applications-2", "fpb_application_index",
    Column("application_kind", String(40)), Column("township_code", String(16)), Column("section", String(40)), Column("status", String(32)),
)
