"""The read models' tables (SQLAlchemy Core: SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table

metadata = MetaData()

processed_messages = Table(
    "rm_processed_messages",
    metadata,
    Column("message_id", String(200), primary_key=True),
    Column("stream", String(64), nullable=False),
    Column("stream_sequence", BigInteger, nullable=False),
)

submissions = Table(
    "rm_submissions",
    metadata,
    Column("township_code", String(9), primary_key=True),  # "" when the record names no township
    Column("source", String(32), primary_key=True),
    Column("kind", String(64), primary_key=True),
    Column("section", String(32), primary_key=True),  # the owning section's queue (责任科室)
    Column("accepted", Integer, nullable=False, default=0),
)

rejections = Table(
    "rm_rejections",
    metadata,
    Column("source", String(32), primary_key=True),
    Column("rejected", Integer, nullable=False, default=0),
)

applications = Table(
    "rm_applications",
    metadata,
    Column("application_id", String(128), primary_key=True),
    Column("application_kind", String(64), nullable=False),
    Column("township_code", String(9), nullable=False),
    Column("section", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("received_on", String(10), nullable=False),
    Column("opened_at", String(40), nullable=False),
)

cases = Table(
    "rm_cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("case_number", String(32), nullable=False),
    Column("origin", String(32), nullable=False),
    Column("category", String(32), nullable=False),
    Column("township_code", String(9), nullable=False),
    Column("section", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("opened_at", String(40), nullable=False),
)

births = Table(
    "rm_births",
    metadata,
    Column("township_code", String(9), primary_key=True),
    Column("month", String(7), primary_key=True),  # YYYY-MM of the birth date
    Column("birth_order", String(2), primary_key=True),  # 1, 2 or 3+
    Column("boys", Integer, nullable=False, default=0),
    Column("girls", Integer, nullable=False, default=0),
)

submission_records = Table(
    "rm_submission_records",
    metadata,
    # One row per accepted record: what a figure is made of (drill-down). No personal data.
    Column("submission_id", String(36), primary_key=True),
    Column("record_id", String(128), nullable=False),
    Column("source", String(32), nullable=False),
    Column("kind", String(64), nullable=False, index=True),
    Column("township_code", String(9), nullable=False, index=True),
    Column("section", String(32), nullable=False),
    Column("occurred_at", String(40), nullable=False),
)

READ_MODELS = (submissions, rejections, applications, cases, births, submission_records)
TABLES = {table.name: table for table in (*READ_MODELS, processed_messages)}
