"""Issue 20, TLS: the whole platform with TLS on NATS and HTTPS on every endpoint, each
process trusting a private CA made here (as deploy/k8s runs it, SSL_CERT_FILE). Plain
text is refused on both, and so is a client that trusts another CA."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import nats
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from e2e_support import wait_for
from cli.platform import Platform
from cli.publishing import parse_input, publish_records
from cli.tokens import DemoLogin, demo_accounts, pick_account
from shared.tls import TlsFiles
from tests.identity_support import platform_accounts

SAMPLE = Path(__file__).parent.parent / "samples" / "inbound" / "police.birth.registered.v1.json"
PEM = serialization.Encoding.PEM


def certificate_authority(directory: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed CA, written to directory/<name>.crt."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / f"{name}.crt").write_bytes(ca.public_bytes(PEM))
    return key, ca


def make_tls_files(directory: Path) -> TlsFiles:
    """A CA and, signed by it, one server certificate for 127.0.0.1 and localhost."""
    ca_key, ca = certificate_authority(directory, "ca")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    server = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "server.crt").write_bytes(server.public_bytes(PEM))
    (directory / "server.key").write_bytes(key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (directory / "server.key").chmod(0o600)
    return TlsFiles(cert=directory / "server.crt", key=directory / "server.key", ca=directory / "ca.crt")


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory) -> ssl.SSLContext:
    """A client context that trusts a CA of its own, not the platform's."""
    directory = tmp_path_factory.mktemp("other-ca")
    certificate_authority(directory, "other")
    return ssl.create_default_context(cafile=str(directory / "other.crt"))


@pytest.fixture(scope="module")
def platform(tls, tmp_path_factory):
    # Started from an environment that trusts nothing private: each process is told of the CA
    # by the launcher alone (SSL_CERT_FILE in its own environment).
    with pytest.MonkeyPatch.context() as env:
        env.delenv("SSL_CERT_FILE", raising=False)
        running = Platform(tmp_path_factory.mktemp("tls-e2e"), tls=tls)
        running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def auditor(platform) -> DemoLogin:
    """The demo auditor, logged in through the provider over HTTPS. Its client is closed
    before the platform stops: the provider's graceful stop waits for every open TLS
    connection, and an idle one of a client that reads nothing never answers its
    close_notify (asyncio gives up after 30 s)."""
    platform_accounts(platform)
    account = pick_account(demo_accounts(platform.data_dir), None, username="sj-auditor")
    with httpx.Client(timeout=10, verify=platform.tls.client_context()) as http:
        yield DemoLogin(platform.oidc_issuer, account["username"], account["password"], http=http)


def endpoints(running: Platform) -> dict:
    return json.loads((running.data_dir / "endpoints.json").read_text())


def all_urls(running: Platform) -> dict[str, str]:
    return endpoints(running)["services"]


def test_every_endpoint_is_https_and_ready_when_checked_against_the_ca(platform, tls):
    published = endpoints(platform)
    assert published["nats_url"].startswith("tls://127.0.0.1:")
    assert published["oidc_issuer"].startswith("https://127.0.0.1:")
    assert set(published["services"]) == {"identity", "intake", "verification", "enforcement", "reporting"}
    with httpx.Client(verify=tls.client_context(), timeout=5) as client:
        for name, url in published["services"].items():
            assert url.startswith("https://127.0.0.1:"), name
            response = client.get(f"{url}/readyz")
            assert response.status_code == 200 and response.json()["ready"] is True, (name, response.text)
    for process in (platform.identity, *platform.services.values()):
        assert process.env["SSL_CERT_FILE"] == str(tls.ca) and process.env["FPB_HTTP_TLS_CERT_FILE"] == str(tls.cert), process.name


def test_the_broker_refuses_a_plain_text_client_and_admits_a_tls_one_with_its_credentials(platform, tls):
    address = urlsplit(platform.nats_url)
    with socket.create_connection((address.hostname, address.port), timeout=5) as plain:
        plain.settimeout(5)
        info = plain.recv(4096)
        assert info.startswith(b"INFO ") and json.loads(info[5:])["tls_required"] is True
        plain.sendall(b'CONNECT {"verbose":false,"pedantic":false}\r\nPING\r\n')
        answer = b""
        while chunk := plain.recv(4096):  # the broker closes the connection (a TLS alert at most)
            answer += chunk
        assert b"PONG" not in answer and b"+OK" not in answer, answer

    async def connect(**options) -> str:
        connection = await nats.connect(platform.nats_url, connect_timeout=5, allow_reconnect=False, max_reconnect_attempts=0, **options)
        try:
            await connection.flush(timeout=5)
            return connection.connected_url.scheme
        finally:
            await connection.close()

    assert asyncio.run(connect(**platform.connect_options("auditor"))) == "tls"  # the CA's context and the auditor's NKey
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):  # TLS is no credential
        asyncio.run(connect(tls=tls.client_context()))


def test_an_inbound_record_published_over_tls_gets_its_receipt_and_reaches_reporting(platform, auditor, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(platform.tls.ca))  # as a county system's tool is told (fpb publish)
    records = parse_input(SAMPLE.read_text(encoding="utf-8"))
    [result] = asyncio.run(publish_records(platform.nats_url, records, receipt_timeout=20, credentials=platform.credentials))
    assert result.receipt is not None and result.receipt["accepted"] is True, result.receipt

    # Downstream over NATS: reporting's read model counts it (tokens of the provider, over HTTPS,
    # checked by reporting against the provider's JWKS, fetched over HTTPS too).
    with httpx.Client(base_url=all_urls(platform)["reporting"], timeout=10, auth=auditor) as reporting:
        wait_for(lambda: sum(row["accepted"] for row in reporting.get("/reports/submissions").json()["accepted"]) == 1, timeout=20)
        # And reporting's calls to its peers: the audit view reads intake's history over HTTPS.
        history = reporting.get(f"/audit/history/police:{records[0].record_id}")
        assert history.status_code == 200, history.text
        kept_by = {(h["service"], h["aggregate_id"]) for h in history.json()["histories"]}
        assert ("intake", result.receipt["submission_id"]) in kept_by, kept_by


def test_a_plain_http_request_to_any_endpoint_gets_no_answer(platform):
    for url in all_urls(platform).values():
        with pytest.raises(httpx.TransportError):
            httpx.get(url.replace("https://", "http://", 1) + "/healthz", timeout=5)


def test_a_client_that_does_not_trust_the_ca_is_refused_on_http_and_nats(platform, other_ca):
    for url in all_urls(platform).values():
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{url}/healthz", verify=other_ca, timeout=5)

    async def connect() -> None:
        options = {**platform.connect_options("auditor"), "tls": other_ca}
        connection = await nats.connect(platform.nats_url, connect_timeout=5, allow_reconnect=False, max_reconnect_attempts=0, **options)
        await connection.close()

    with pytest.raises(ssl.SSLCertVerificationError):
        asyncio.run(connect())
