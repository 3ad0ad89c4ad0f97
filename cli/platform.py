"""Start the whole platform as a user does: a broker, provisioning, four processes.

Used by `fpb up` and by the end-to-end and crash tests, so what is tested is what
runs. Each service is its own OS process (`python -m services.<name>`), configured
only through its environment.

With `tls` (TlsFiles) the broker requires TLS of every client, the provider and the
services answer HTTPS only, and every process trusts the given CA through
SSL_CERT_FILE, as in production (deploy/k8s, README.md there, TLS). Without it
everything is plain, on the loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import nats

from services.enforcement.adapters.tip_key import ANONYMOUS_TIP_KEY_FILE
from services.enforcement.entrypoints.routes import CONSUMERS as ENFORCEMENT_CONSUMERS
from services.intake.entrypoints.inbox import CONSUMERS as INTAKE_CONSUMERS
from services.reporting.entrypoints.routes import CONSUMERS as REPORTING_CONSUMERS
from services.verification.entrypoints.routes import CONSUMERS as VERIFICATION_CONSUMERS
from shared.messaging.credentials import PROVISIONER, NatsCredentials, ensure_credentials, load_credentials, public_keys
from shared.messaging.nats_server import EmbeddedNatsServer, free_port
from shared.messaging.provisioning import provision
from shared.messaging.topology import ConsumerSpec
from shared.privacy.keys import AUDIT_KEY_FILE, ensure_key_files
from shared.processes import ManagedProcess, die_with_parent
from shared.tls import TlsFiles

SERVICE_NAMES = ("intake", "verification", "enforcement", "reporting")
OIDC_AUDIENCE = "fpb-platform"  # the access tokens' `aud` (services/identity/settings.py)
EVENT_SOURCED = ("intake", "verification", "enforcement")  # reporting keeps read models only
ALL_CONSUMERS: tuple[ConsumerSpec, ...] = (*INTAKE_CONSUMERS, *VERIFICATION_CONSUMERS, *ENFORCEMENT_CONSUMERS, *REPORTING_CONSUMERS)


async def provision_platform(nats_url: str, replicas: int = 1, credentials: NatsCredentials | None = None,
                             tls: ssl.SSLContext | None = None) -> None:
    """As the `provisioner` NATS user: the only one that may create or change streams.
    `tls`: the context a TLS broker's certificate is checked with (else Python's default)."""
    options = credentials.connect_options() if credentials is not None else {}
    if tls is not None:
        options["tls"] = tls
    connection = await nats.connect(nats_url.split(","), connect_timeout=5, max_reconnect_attempts=3, **options)
    try:
        await provision(connection.jetstream(), ALL_CONSUMERS, replicas)
    finally:
        await connection.close()


@dataclass
class ServiceProcess(ManagedProcess):
    name: str
    env: dict[str, str]
    log_path: Path
    port: int
    process: subprocess.Popen | None = None
    tls: TlsFiles | None = None  # it answers HTTPS only (its env says so); readiness is checked against tls.ca

    @property
    def url(self) -> str:
        return f"{'https' if self.tls is not None else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.name}"],
                # The launcher decides whose tokens its services accept: an FPB_OIDC_* of the
                # caller's environment (another issuer's JWKS file, say) would silently override it.
                env={**{k: v for k, v in os.environ.items() if not k.startswith("FPB_OIDC_")}, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # stopped in order by `fpb up`, not by the terminal's Ctrl-C
                preexec_fn=die_with_parent,
            )

    def is_ready(self) -> bool:
        try:
            verify = self.tls.client_context() if self.tls is not None else True
            return httpx.get(f"{self.url}/readyz", timeout=1.0, verify=verify).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        self.wait_until(self.is_ready, timeout, self.name, str(self.log_path))


@dataclass
class Platform:
    data_dir: Path
    nats_url: str | None = None
    database_url: str | None = None
    nats_server: EmbeddedNatsServer | None = None
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    # The built-in OpenID provider: started first, stopped last; not in `services`, which
    # are the four broker services (each with consumers and /metrics).
    identity: ServiceProcess | None = None
    # With an external broker (nats_url): the operator's directory of <user>.nk / <user>.creds
    # (`--nats-credentials-dir`, FPB_NATS_CREDENTIALS_DIR). The embedded broker's are generated.
    credentials_dir: Path | None = None
    credentials: dict[str, NatsCredentials] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)  # each service's HTTP port, chosen at start
    # TLS on NATS (the embedded broker) and HTTPS on every endpoint, trusted through tls.ca.
    tls: TlsFiles | None = None
    # The benchmark's baseline only (cli/bench/load.py, access overhead): an embedded broker
    # that lets anyone in, so the cost of authentication and permissions can be measured
    # in the same run. Never for a platform people use.
    open_broker: bool = False
    # An external OpenID issuer (the bureau's Keycloak, say): the built-in provider is not
    # started, and the services check that issuer's tokens for this audience.
    external_issuer: str | None = None
    oidc_audience: str = OIDC_AUDIENCE

    @property
    def checkpoint_dir(self) -> Path:
        return self.data_dir / "checkpoints"

    def store_url(self, name: str) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'stores' / f'{name}.db'}"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()  # never leave half a platform running
            raise

    def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        (self.data_dir / "stores").mkdir(exist_ok=True)
        ensure_key_files(self.data_dir / "keys")
        if self.nats_url is None:
            # Every client of the embedded broker authenticates with its own NKey; the seeds
            # stay in DATA_DIR/credentials (kept across restarts), the broker gets public keys.
            self.credentials = {} if self.open_broker else ensure_credentials(self.data_dir / "credentials")
            keys = {"allow_anonymous": True} if self.open_broker else {"public_keys": public_keys(self.credentials)}
            self.nats_server = EmbeddedNatsServer(self.data_dir / "nats", tls=self.tls, **keys).start()
            self.nats_url = self.nats_server.url
        else:
            directory = self.credentials_dir or (Path(os.environ["FPB_NATS_CREDENTIALS_DIR"]) if os.environ.get("FPB_NATS_CREDENTIALS_DIR") else None)
            self.credentials = load_credentials(directory) if directory is not None else {}
        asyncio.run(provision_platform(self.nats_url, credentials=self.credentials.get(PROVISIONER), tls=self._client_tls()))
        # Ports first: the provider registers the dashboard's login callback on reporting's port.
        self.ports = {name: self.ports.get(name) or free_port() for name in SERVICE_NAMES}
        if self.external_issuer is None:
            self.identity = self._identity()
            self.identity.start()
            self.identity.wait_ready()  # first: every service is given its issuer
        for name in SERVICE_NAMES:
            self.services[name] = self._service(name)
            self.services[name].start()
        for service in self.services.values():
            service.wait_ready()
        self.write_endpoints()

    def _service(self, name: str) -> ServiceProcess:
        port = self.ports[name]
        env = {
            "FPB_NATS_URL": self.nats_url or "",
            "FPB_STORE_URL": self.store_url(name),
            "FPB_KEYSTORE_URL": self.store_url("keystore"),
            "FPB_KEY_DIR": str(self.data_dir / "keys"),
            "FPB_AUDIT_KEY_FILE": str(self.data_dir / "keys" / AUDIT_KEY_FILE),
            "FPB_CHECKPOINT_DIR": str(self.checkpoint_dir),
            "FPB_HTTP_PORT": str(port),
            # glibc gives each thread that allocates a malloc arena of its own, and what is
            # freed in them stays with the process: two arenas kept the services 5-17 MiB
            # smaller after 100,000 records (README, Performance). The GIL runs one thread at
            # a time, so they contend little. docker-compose.yml and deploy/k8s set it too.
            "MALLOC_ARENA_MAX": "2",
            # The resource servers check bearer tokens of this issuer and audience.
            "FPB_OIDC_ISSUER": self.oidc_issuer or "",
            "FPB_OIDC_AUDIENCE": self.oidc_audience,
            **(self.tls.env() if self.tls is not None else {}),
        }
        own = self.credentials.get(name)
        if own is not None and own.creds is not None:
            env["FPB_NATS_CREDS_FILE"] = str(own.creds)
        elif own is not None:
            env["FPB_NATS_NKEY_SEED_FILE"] = str(own.nkey_seed)
        if name == "enforcement":  # its own directory: intake shares keys/ and knows submission ids
            env["FPB_ANONYMOUS_TIP_KEY_FILE"] = str(self.data_dir / "keys-enforcement" / ANONYMOUS_TIP_KEY_FILE)
        if name == "reporting":  # the audit view reads histories from the services that keep them
            env["FPB_PEER_URLS"] = json.dumps({peer: self.services[peer].url for peer in EVENT_SOURCED if peer in self.services})
        return ServiceProcess(name, env, self.data_dir / "logs" / f"{name}.log", port, tls=self.tls)

    @property
    def oidc_issuer(self) -> str | None:
        if self.external_issuer is not None:
            return self.external_issuer
        return self.identity.url if self.identity is not None else None

    def _identity(self) -> ServiceProcess:
        port = free_port()
        scheme = "https" if self.tls is not None else "http"
        env = {
            "FPB_IDENTITY_STORE_URL": self.store_url("identity"),
            "FPB_IDENTITY_KEY_DIR": str(self.data_dir / "keys-identity"),
            "FPB_IDENTITY_SECRETS_DIR": str(self.data_dir),  # prometheus.secret
            "FPB_OIDC_ISSUER": f"{scheme}://127.0.0.1:{port}",
            "FPB_OIDC_AUDIENCE": OIDC_AUDIENCE,
            # The browser login of the pages the services serve (reporting's dashboard).
            "FPB_CONSOLE_REDIRECT_URIS": json.dumps([f"{scheme}://127.0.0.1:{self.ports['reporting']}/login/callback"]),
            "FPB_HTTP_PORT": str(port),
            "MALLOC_ARENA_MAX": "2",
            **(self.tls.env() if self.tls is not None else {}),
        }
        return ServiceProcess("identity", env, self.data_dir / "logs" / "identity.log", port, tls=self.tls)

    def endpoints(self) -> dict:
        return {
            "nats_url": self.nats_url,
            "services": {**({"identity": self.identity.url} if self.identity else {}), **{name: s.url for name, s in self.services.items()}},
            "oidc_issuer": self.oidc_issuer,
            **({} if self.external_issuer else {"identity_store": self.store_url("identity")}),
            # For auditors' tools (`fpb audit verify`): where each event store lives.
            "stores": {name: self.store_url(name) for name in EVENT_SOURCED},
            "checkpoints": str(self.checkpoint_dir),
            # CONTRACT.md (Authentication): each client's NATS credentials, by user
            # (publishers by envelope source, township-<code>, then services and tools).
            "credentials": {user: c.endpoint_entry() for user, c in self.credentials.items()},
        }

    def _client_tls(self) -> ssl.SSLContext | None:
        return self.tls.client_context() if self.tls is not None else None

    def connect_options(self, user: str) -> dict:
        """nats.connect keyword arguments of one NATS user of this platform ({} on an open
        broker), with the context that trusts the platform's CA when it runs TLS."""
        own = self.credentials.get(user)
        options = own.connect_options() if own is not None else {}
        return {**options, "tls": self._client_tls()} if self.tls is not None else options

    def write_endpoints(self) -> Path:
        path = self.data_dir / "endpoints.json"
        path.write_text(json.dumps(self.endpoints(), indent=2))
        return path

    def restart(self, name: str) -> None:
        self.services[name].start()
        self.services[name].wait_ready()

    def stop(self) -> None:
        for service in reversed(list(self.services.values())):
            service.stop()
        if self.identity is not None:
            self.identity.stop()
        if self.nats_server is not None:
            self.nats_server.stop()
