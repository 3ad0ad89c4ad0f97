"""The TLS files of a platform started here (cli/platform.py): one server certificate for
the broker and every HTTP endpoint, and the CA bundle that every client trusts.

Clients are pointed at the CA the way production points them (deploy/k8s/common.env):
`SSL_CERT_FILE`, which Python's ssl (nats-py over tls://, urllib's discovery and JWKS
fetches) and httpx (reporting's peer calls, the dashboard's code exchange, the `fpb`
tools) read. Only the launcher's own clients are given `client_context()` explicitly.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    cert: Path  # PEM certificate (chain) the broker and every HTTP endpoint serve
    key: Path  # its PEM private key
    ca: Path  # PEM CA bundle every client of the platform trusts

    def client_context(self) -> ssl.SSLContext:
        """Trusts `ca` alone (not the system's store), and checks the host name."""
        return ssl.create_default_context(cafile=str(self.ca))

    def env(self) -> dict[str, str]:
        """A process's environment for HTTPS only (shared/settings.py, HttpTlsSettings) and trust in `ca`."""
        return {"FPB_HTTP_TLS_CERT_FILE": str(self.cert), "FPB_HTTP_TLS_KEY_FILE": str(self.key), "SSL_CERT_FILE": str(self.ca)}
