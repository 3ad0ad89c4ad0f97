"""Published figures (发布数): an append-only table beside the read models.

A publication is a fact, not a projection: it has its own metadata, so dropping and
rebuilding the read models (`fpb rebuild reporting`, ReadModelStore.clear) never
touches it, and the database itself refuses to update or delete a row (triggers
created with the table), so a published number can never change.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DDL, Column, Engine, MetaData, String, Table, Text, event, insert, select

from shared.eventstore.backend import create_tables

metadata = MetaData()

publications = Table(
    "rp_publications",
    metadata,
    Column("publication_id", String(36), primary_key=True),
    Column("report", String(32), nullable=False),  # statistical | league-tables | scorecard
    Column("period_from", String(10), nullable=False),
    Column("period_to", String(10), nullable=False),
    Column("cut_off", String(40), nullable=False),  # the data cut-off the officer states (数据截止时间), ISO with offset
    Column("officer", String(64), nullable=False),
    Column("published_at", String(40), nullable=False),  # when the figures were frozen
    Column("figures", Text, nullable=False),  # canonical JSON (sorted keys, no spaces, UTF-8)
    Column("sha256", String(64), nullable=False),  # of the figures' UTF-8 bytes
)

_REFUSE = "publications are append-only: a published figure is never changed"
event.listen(publications, "after_create", DDL(
    f"CREATE TRIGGER rp_publications_no_update BEFORE UPDATE ON rp_publications BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
).execute_if(dialect="sqlite"))
event.listen(publications, "after_create", DDL(
    f"CREATE TRIGGER rp_publications_no_delete BEFORE DELETE ON rp_publications BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END"
).execute_if(dialect="sqlite"))
event.listen(publications, "after_create", DDL(
    "CREATE OR REPLACE FUNCTION rp_publications_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$"
).execute_if(dialect="postgresql"))
event.listen(publications, "after_create", DDL(
    "CREATE TRIGGER rp_publications_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON rp_publications "
    "FOR EACH STATEMENT EXECUTE FUNCTION rp_publications_append_only()"
).execute_if(dialect="postgresql"))


class PublicationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_tables(metadata, engine)

    def append(self, *, report: str, period_from: str, period_to: str, cut_off: datetime, officer: str,
               published_at: datetime, figures: str, sha256: str) -> dict[str, Any]:
        row = {
            "publication_id": str(uuid.uuid4()), "report": report, "period_from": period_from, "period_to": period_to,
            "cut_off": cut_off.isoformat(), "officer": officer, "published_at": published_at.isoformat(),
            "figures": figures, "sha256": sha256,
        }
        with self.engine.begin() as conn:
            conn.execute(insert(publications).values(**row))
        return row

    def get(self, publication_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(publications).where(publications.c.publication_id == publication_id)).first()
        return dict(row._mapping) if row else None

    def list(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Newest first, without the figures."""
        columns = [column for column in publications.c if column.name != "figures"]
        query = select(*columns).order_by(publications.c.published_at.desc()).offset(offset).limit(limit)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(query)]
