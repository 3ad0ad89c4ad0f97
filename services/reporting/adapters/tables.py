"""The read models' tables (SQLAlchemy Core: SQLite by default, PostgreSQL in production)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table

from services.reporting.adapters.money import Money

metadata = MetaData()

processed_messages = Table(
    "rm_processed_messages",
    metadata,
    Column("message_id", String(200), primary_key=True),
    Column("stream", String(64), nullable=False),
    Column("stream_sequence", BigInteger, nullable=False),
    # SQLite: stored once, in its key's order (a rowid table keeps a row and an index
    # entry): one row per event ever projected, so half the size and inserts.
    sqlite_with_rowid=False,
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

# Reward and special assistance (奖励扶助 / 特别扶助): one row per payment and per
# enrolment, as of its latest event. `changed_at` and `version` (the event's time and
# its aggregate's version) order the states, so an older event never overwrites a newer one.
payments = Table(
    "rm_payments",
    metadata,
    Column("payment_id", String(32), primary_key=True),
    Column("cycle_id", String(32), nullable=False),
    Column("program", String(16), nullable=False),
    Column("year", Integer, nullable=False, index=True),
    Column("township_code", String(9), nullable=False, index=True),
    Column("beneficiary_id", String(32), nullable=False),
    Column("amount", Money, nullable=False),
    Column("status", String(32), nullable=False),
    Column("bucket", String(16), nullable=False),  # pending | disbursed | withheld | returned
    Column("last_change", String(32), nullable=False),
    Column("changed_on", String(10), nullable=False),
    Column("changed_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

beneficiary_enrolments = Table(
    "rm_beneficiary_enrolments",
    metadata,
    Column("beneficiary_id", String(32), primary_key=True),
    Column("program", String(16), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("township_code", String(9), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("changed_at", String(40), nullable=False),
    Column("version", Integer, nullable=False),
)

subsidy_signals = Table(
    "rm_subsidy_signals",
    metadata,
    # The signal and the case it became arrive on different streams, in either order:
    # so everything but the id may be null until its event has arrived.
    Column("signal_id", String(32), primary_key=True),
    Column("pattern", String(32)),
    Column("offence", String(32)),
    Column("township_code", String(9)),
    Column("subject", String(64)),
    Column("amount", Money),
    Column("detected_on", String(10)),
    Column("summary", String(200)),
    Column("case_number", String(32)),
)

application_steps = Table(
    "rm_application_steps",
    metadata,
    # The steps that move an application's statutory clock (受理时限); reports replay the
    # clock from them with the working calendar (domain/performance_facts.py says why).
    Column("application_id", String(128), primary_key=True),
    Column("step_version", Integer, primary_key=True),  # the application's aggregate version: the steps' order
    Column("step", String(32), nullable=False),  # checked | information_requested | information_supplied | approved | refused | withdrawn
    Column("step_on", String(10), nullable=False, index=True),  # YYYY-MM-DD, the officer's day
    Column("township_code", String(9), nullable=False),
    Column("section", String(32), nullable=False),
    Column("time_limit_working_days", Integer),  # on checked steps only
)

ratings = Table(
    "rm_ratings",
    metadata,
    # Citizens' satisfaction ratings (群众满意度), one per rating submission.
    Column("submission_id", String(36), primary_key=True),
    Column("application_id", String(128), nullable=False),
    Column("township_code", String(9), nullable=False),
    Column("section", String(32), nullable=False),
    Column("score", Integer, nullable=False),  # 1-5
    Column("rated_on", String(10), nullable=False, index=True),
)

case_milestones = Table(
    "rm_case_milestones",
    metadata,
    # The dates of a case (rm_cases has its category and state): China days, YYYY-MM-DD.
    Column("case_id", String(36), primary_key=True),
    Column("opened_on", String(10), nullable=False),
    Column("due_on", String(10)),  # the statutory answer date of petitions and reviews
    Column("nearing_on", String(10)),  # when enforcement announced "deadline nearing"
    Column("breached_on", String(10)),  # when it announced "deadline breached"
    Column("concluded_on", String(10)),  # cleared when the case is reopened
    Column("substantiated", Integer),  # 1/0 with the conclusion, null without one
)

READ_MODELS = (submissions, rejections, applications, cases, births, submission_records, payments, beneficiary_enrolments, subsidy_signals,
               application_steps, ratings, case_milestones)
TABLES = {table.name: table for table in (*READ_MODELS, processed_messages)}
