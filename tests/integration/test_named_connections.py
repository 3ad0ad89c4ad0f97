"""Each service names its PostgreSQL connections, so an operator can tell who holds what."""

from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import create_engine

from shared.eventstore.backend import sqlalchemy_url
from shared.runtime import name_database_connections


@pytest.fixture
def no_name_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """PGAPPNAME unset for the test, and as it was after (set first so that it is restored)."""
    monkeypatch.setenv("PGAPPNAME", "")
    monkeypatch.delenv("PGAPPNAME")


def test_a_service_names_every_connection_it_opens_after_it_starts(postgres_url: str, no_name_set: None):
    name_database_connections("verification")
    with psycopg.connect(postgres_url) as like_the_event_store:
        assert like_the_event_store.execute("SHOW application_name").fetchone()[0] == "fpb-verification"
    engine = create_engine(sqlalchemy_url(postgres_url))
    try:
        with engine.connect() as like_every_other_adapter:
            assert like_every_other_adapter.exec_driver_sql("SHOW application_name").scalar() == "fpb-verification"
    finally:
        engine.dispose()


def test_an_operators_own_name_is_kept(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PGAPPNAME", "county-dc-7")
    name_database_connections("intake")
    assert os.environ["PGAPPNAME"] == "county-dc-7"
