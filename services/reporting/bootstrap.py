"""The one place that assembles the reporting service. Nothing connects at import."""

from __future__ import annotations

from datetime import datetime, timezone

from services.reporting.adapters.performance_queries import PerformanceQueries
from services.reporting.adapters.publications import PublicationStore
from services.reporting.adapters.read_models import ReadModelStore
from services.reporting.adapters.subsidy_queries import SubsidyQueries
from services.reporting.application.projector import Projector
from services.reporting.application.publications import Publications, ReportFigures
from services.reporting.application.scorecard import load_scorecard_config
from services.reporting.domain.sex_ratio import SexRatioBand
from services.reporting.entrypoints.asyncapi import document
from services.reporting.entrypoints.audit import add_audit_routes
from services.reporting.entrypoints.dashboard.routes import add_dashboard
from services.reporting.entrypoints.http import add_report_routes
from services.reporting.entrypoints.performance import add_performance_routes
from services.reporting.entrypoints.routes import CONSUMERS
from services.reporting.entrypoints.subsidies import add_subsidy_routes
from services.reporting.settings import ReportingSettings
from shared.calendar import DEFAULT_OVERRIDE, CalendarOverride, WorkingCalendar
from shared.messaging.consumer import DurableConsumer
from shared.messaging.publisher import Publisher
from shared.identity.browser import add_browser_login
from shared.identity.setup import access_policy, token_verifier
from shared.observability.http import service_http
from shared.observability.logging import configure_logging
from shared.observability.metrics import ServiceMetrics
from shared.messaging.credentials import credentials_from_settings
from shared.runtime import Service, make_broker, name_database_connections, readiness_of, run_until_signalled

NAME = "reporting"


def bootstrap(settings: ReportingSettings) -> Service:
    metrics = ServiceMetrics(NAME)
    broker = make_broker(settings.nats_url, NAME, credentials_from_settings(NAME, settings.nats_nkey_seed_file, settings.nats_creds_file))
    publisher = Publisher(broker, metrics)
    read_models = ReadModelStore(settings.store_url)
    projector = Projector(read_models, settings.rebuild_projectors)
    consumers = [DurableConsumer(spec, projector.handle, publisher, metrics, batch_handler=projector.handle_many) for spec in CONSUMERS]
    http = service_http(NAME, metrics, readiness_of(broker, read_models.ping, consumers), document,
                        policy=access_policy(settings), verifier=token_verifier(settings))
    band = SexRatioBand(settings.sex_ratio_low, settings.sex_ratio_high, settings.sex_ratio_min_births)
    add_report_routes(http, read_models, projector, lambda: broker.connection.jetstream(), band)
    add_subsidy_routes(http, SubsidyQueries(read_models))
    calendar = WorkingCalendar(CalendarOverride.from_file(settings.calendar_override_path or DEFAULT_OVERRIDE))
    figures = ReportFigures(read_models, PerformanceQueries(read_models.engine), calendar, band, load_scorecard_config(settings.scorecard_path))
    publications = Publications(PublicationStore(read_models.engine), figures, lambda: datetime.now(timezone.utc))
    add_performance_routes(http, figures, publications, lambda: datetime.now(timezone.utc))
    add_audit_routes(http, settings.peer_urls)
    add_dashboard(http)
    add_browser_login(http, settings.oidc_issuer, settings.oidc_browser_client_id)
    return Service(name=NAME, broker=broker, metrics=metrics, http=http, consumers=consumers, closers=[read_models.close])


def main() -> None:
    name_database_connections(NAME)
    settings = ReportingSettings()
    configure_logging(NAME, settings.log_level)
    run_until_signalled(bootstrap(settings), settings.http_host, settings.http_port)
