"""SQL behind the league tables, the cases summary and the scorecard.

Counting is done by the database (GROUP BY). Processing times are the exception: the
working calendar is not in SQL and medians are not portable SQL, so only the steps of
the applications that matter (decided in the period, or still open at its end) are
read, ordered, and replayed in Python: linear in those applications.
"""

from __future__ import annotations

from datetime import date, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import Engine, and_, case, exists, func, literal, or_, select

from services.reporting.adapters.tables import application_steps, case_milestones, cases, ratings
from services.reporting.domain.processing_time import DECISIONS, STOPS, Step
from services.reporting.domain.statuses import FINAL_CASE_STATUSES

GROUP_COLUMNS = {"township": "township_code", "section": "section"}
CLOSED_CASE_STATES = tuple(sorted(FINAL_CASE_STATUSES))


class PerformanceQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _steps_of(self, application_ids: Any, until: date | None = None) -> list[tuple[dict[str, Any], list[Step]]]:
        """(application, township and section; its steps in order) of each application in the subquery."""
        s = application_steps.c
        query = select(s.application_id, s.step, s.step_on, s.time_limit_working_days, s.township_code, s.section).where(
            s.application_id.in_(application_ids)
        )
        if until is not None:
            query = query.where(s.step_on <= until.isoformat())
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(s.application_id, s.step_version)).all()
        found = []
        for application_id, group in groupby(rows, key=lambda row: row.application_id):
            steps = list(group)
            where = {"application_id": application_id, "township_code": steps[-1].township_code, "section": steps[-1].section}
            found.append((where, [Step(row.step, date.fromisoformat(row.step_on), row.time_limit_working_days) for row in steps]))
        return found

    def decided_between(self, first: date, last: date) -> list[tuple[dict[str, Any], list[Step]]]:
        s = application_steps.c
        decided = select(s.application_id).where(s.step.in_(DECISIONS), s.step_on.between(first.isoformat(), last.isoformat()))
        return self._steps_of(decided)

    def open_at_end_of(self, day: date) -> list[tuple[dict[str, Any], list[Step]]]:
        """Applications checked by `day` and neither decided nor withdrawn by then."""
        s, stop = application_steps.c, application_steps.alias("stop").c
        stopped = exists().where(stop.application_id == s.application_id, stop.step.in_(STOPS), stop.step_on <= day.isoformat())
        running = select(s.application_id).where(s.step == "checked", s.step_on <= day.isoformat(), ~stopped)
        return self._steps_of(running, until=day)

    def ratings_by(self, group: str, first: date, last: date) -> list[dict[str, Any]]:
        column = ratings.c[GROUP_COLUMNS[group]]
        query = (
            select(column.label("group"), func.count().label("ratings"), func.sum(ratings.c.score).label("score_sum"))
            .where(ratings.c.rated_on.between(first.isoformat(), last.isoformat()))
            .group_by(column)
        )
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def cases_summary(self, as_of: date, township_code: str | None = None) -> list[dict[str, Any]]:
        """Case counts by category, state, age band and deadline status (one row per combination).

        Age counts the days an open case has been open on `as_of`; a concluded or closed
        case is in band "concluded". States are the current ones.
        """
        c, m = cases.c, case_milestones.c
        is_open = c.status.notin_(CLOSED_CASE_STATES)
        age_band = case(
            (~is_open, literal("concluded")),
            (m.opened_on.is_(None), literal("unknown")),  # a case projected before milestones existed: rebuild
            (m.opened_on > (as_of - timedelta(days=30)).isoformat(), literal("<30")),
            (m.opened_on >= (as_of - timedelta(days=90)).isoformat(), literal("30-90")),
            else_=literal(">90"),
        )
        deadline_status = case(
            (m.due_on.is_(None), literal("no_deadline")),
            (m.breached_on.is_not(None), literal("breached")),
            (and_(is_open, m.nearing_on.is_not(None)), literal("nearing")),
            else_=literal("on_time"),
        )
        # Grouped in an outer query: PostgreSQL does not match a CASE with bound values in GROUP BY.
        inner = (
            select(c.category, c.status, age_band.label("age_band"), deadline_status.label("deadline_status"))
            .select_from(cases.outerjoin(case_milestones, m.case_id == c.case_id))
            .where(or_(m.opened_on.is_(None), m.opened_on <= as_of.isoformat()))
        )
        if township_code is not None:
            inner = inner.where(c.township_code == township_code)
        inner = inner.subquery()
        columns = (inner.c.category, inner.c.status, inner.c.age_band, inner.c.deadline_status)
        query = select(*columns, func.count().label("cases")).group_by(*columns).order_by(*columns)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def case_measures_by_township(self, first: date, last: date) -> list[dict[str, Any]]:
        """Per township, in [first, last]: substantiated two-illegals (两非) cases concluded,
        petition deadlines breached, and every case deadline breached."""
        c, m = cases.c, case_milestones.c
        period = (first.isoformat(), last.isoformat())

        def count_where(*conditions: Any) -> Any:
            return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

        query = (
            select(
                c.township_code,
                count_where(c.category == "two_illegals", m.substantiated == 1, m.concluded_on.between(*period)).label("two_illegals_substantiated"),
                count_where(c.category == "petition", m.breached_on.between(*period)).label("petition_deadlines_breached"),
                count_where(m.breached_on.between(*period)).label("case_deadlines_breached"),
            )
            .select_from(cases.join(case_milestones, m.case_id == c.case_id))
            .group_by(c.township_code)
        )
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
