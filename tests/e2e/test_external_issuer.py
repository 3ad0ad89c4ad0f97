"""`fpb up --oidc-issuer URL`: the platform on an external OpenID issuer (the bureau's own,
Keycloak say) with the built-in provider turned off. The services find the issuer's keys
through its discovery document, accept its tokens and refuse any other issuer's."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from collections.abc import Iterator

import httpx
import pytest

from cli.platform import Platform
from shared.messaging.nats_server import free_port
from tests.identity_support import AUDIENCE, jwks_of, token_issuer


@pytest.fixture
def external_issuer() -> Iterator[str]:
    """An issuer that publishes a discovery document and the test issuer's keys, as any
    OpenID provider does."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    documents = {"/.well-known/openid-configuration": {"issuer": url, "jwks_uri": f"{url}/jwks"}, "/jwks": jwks_of(token_issuer().kid)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            body = json.dumps(documents.get(self.path, {})).encode()
            self.send_response(200 if self.path in documents else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url
    server.shutdown()


def test_the_platform_runs_on_an_external_issuer_without_its_own_provider(tmp_path, external_issuer):
    platform = Platform(tmp_path / "platform", external_issuer=external_issuer, oidc_audience=AUDIENCE)
    platform.start()
    try:
        endpoints = platform.endpoints()
        assert platform.identity is None and "identity" not in endpoints["services"] and "identity_store" not in endpoints
        assert endpoints["oidc_issuer"] == external_issuer
        reporting = endpoints["services"]["reporting"]
        theirs = token_issuer().token("tj-01", ["statistician"], ["统计科"], iss=external_issuer)
        stranger = token_issuer().token("tj-01", ["statistician"], ["统计科"])  # another issuer's `iss`

        accepted = httpx.get(f"{reporting}/reports/totals", headers={"Authorization": f"Bearer {theirs}"}, timeout=10)
        refused = httpx.get(f"{reporting}/reports/totals", headers={"Authorization": f"Bearer {stranger}"}, timeout=10)

        assert accepted.status_code == 200, accepted.text
        assert refused.status_code == 401
    finally:
        platform.stop()
