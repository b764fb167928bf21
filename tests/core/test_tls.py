"""HTTPS: ``clearwell serve`` with a certificate and key named in settings, and the
scheme a reverse proxy on the same machine names in X-Forwarded-Proto believed from it
alone."""

from __future__ import annotations

import ipaddress
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from clearwell.errors import ConfigError
from clearwell.settings import load_settings
from tests.support.pg_cluster import free_port
from tests.support.serve import serve


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "clearwell.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "clearwell.crt", folder / "clearwell.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _trusting(cert: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert))


@contextmanager
def _serve_https(db_url: str, cert: Path, key: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEARWELL_")}
    env.update(
        CLEARWELL_DATABASE_URL=db_url,
        CLEARWELL_LOG_LEVEL="WARNING",
        CLEARWELL_TLS_CERTFILE=str(cert),
        CLEARWELL_TLS_KEYFILE=str(key),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "clearwell.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                httpx.get(f"{base}/healthz", verify=_trusting(cert), timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "no HTTPS answer within 30 s"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def test_serve_answers_https_with_the_certificate_in_settings(db_url, tmp_path):
    cert, key = _self_signed(tmp_path)
    with _serve_https(db_url, cert, key) as base:
        answer = httpx.get(f"{base}/healthz", verify=_trusting(cert))
        assert answer.status_code == 200 and answer.json()["database"] == "ok"
        with pytest.raises(httpx.TransportError):
            httpx.get(base.replace("https:", "http:") + "/healthz", timeout=2)


def test_the_scheme_a_local_proxy_names_is_believed(db_url):
    # A redirect the app builds from the request's URL shows the scheme it believes.
    with serve(db_url, CLEARWELL_TRUSTED_PROXIES="127.0.0.1") as base:
        proxied = httpx.get(f"{base}/healthz/", headers={"X-Forwarded-Proto": "https"})
        assert proxied.status_code == 307
        assert proxied.headers["location"].startswith("https://")
        direct = httpx.get(f"{base}/healthz/")
        assert direct.headers["location"].startswith("http://")


def test_the_scheme_is_not_believed_from_a_proxy_not_named(db_url):
    with serve(db_url, CLEARWELL_TRUSTED_PROXIES="192.0.2.1") as base:
        spoofed = httpx.get(f"{base}/healthz/", headers={"X-Forwarded-Proto": "https"})
        assert spoofed.headers["location"].startswith("http://")


def test_certificate_and_key_go_together(tmp_path, monkeypatch):
    monkeypatch.delenv("CLEARWELL_CONFIG", raising=False)
    cert, _ = _self_signed(tmp_path)
    with pytest.raises(ConfigError, match="^CLEARWELL_TLS_CERTFILE and CLEARWELL_TLS_KEYFILE"):
        load_settings(database_url="postgresql://u@/db", tls_certfile=cert)
    with pytest.raises(ConfigError, match="CLEARWELL_TLS_KEYFILE is malformed"):
        load_settings(
            database_url="postgresql://u@/db", tls_certfile=cert, tls_keyfile=tmp_path / "none"
        )
