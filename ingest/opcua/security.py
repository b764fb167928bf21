"""This client's certificate, the server certificate it trusts, and the password.

The client's application certificate and key are made on first use, when the
configuration names none, in ``$CLEARWELL_DATA_DIR/ingest/opcua/``
(``client_cert.der``, ``client_key.pem`` mode 600, application URI
``urn:clearwell:ingest``) and reused after that: give the server's
administrator ``client_cert.der`` to trust. The server's certificate is
pinned: a secured connection is opened only to a server that presents exactly
the certificate in ``server_certificate``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from clearwell.errors import ClearwellError, ConfigError
from sitefile.models import OpcuaServer

log = logging.getLogger(__name__)

APPLICATION_URI = "urn:clearwell:ingest"
CERT_NAME = "client_cert.der"
KEY_NAME = "client_key.pem"
VALID_DAYS = 3650
RENEW_BEFORE = dt.timedelta(days=30)


class OpcuaTrustError(ClearwellError):
    """The server presented a certificate other than the one this client trusts."""


@dataclass(frozen=True)
class Credentials:
    """What one server connection needs besides its configuration."""

    certificate: Path | None = None
    private_key: Path | None = None
    trusted_server_der: bytes | None = None
    password: str | None = None


def default_cert_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "ingest" / "opcua"


def thumbprint(der: bytes) -> str:
    """SHA-1 thumbprint, the form OPC UA tools show (AB:CD:…)."""
    digest = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def first_certificate(der: bytes) -> bytes:
    """The leading certificate of a DER chain (servers may send theirs with its issuers)."""
    if len(der) < 4 or der[0] != 0x30:
        return der
    if der[1] & 0x80:
        n = der[1] & 0x7F
        length = int.from_bytes(der[2 : 2 + n], "big")
        return der[: 2 + n + length]
    return der[: 2 + der[1]]


def load_certificate_der(path: Path) -> bytes:
    """A certificate file, DER or PEM, as DER bytes; a clear error if it is neither."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the certificate: {exc.strerror}") from None
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(data)
        else:
            cert = x509.load_der_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"{path}: not a certificate (DER or PEM)") from None
    return cert.public_bytes(serialization.Encoding.DER)


def check_trusted(server: OpcuaServer, presented: bytes, trusted: bytes) -> None:
    """Raise :class:`OpcuaTrustError` unless the server presented the trusted certificate."""
    presented = first_certificate(presented)
    if presented == trusted:
        return
    try:
        subject = x509.load_der_x509_certificate(presented).subject.rfc4514_string()
    except ValueError:
        subject = "(unreadable)"
    raise OpcuaTrustError(
        f"OPC UA server {server.name} ({server.endpoint}): certificate not trusted: it presents"
        f" {subject} thumbprint {thumbprint(presented)}, but server_certificate"
        f" {server.server_certificate} is thumbprint {thumbprint(trusted)}"
    )


def read_password(server: OpcuaServer, environ: Mapping[str, str]) -> str | None:
    if server.password_env is not None:
        value = environ.get(server.password_env)
        if value is None:
            raise ConfigError(
                f"OPC UA server {server.name}: password_env {server.password_env} is not set"
            )
        return value
    if server.password_file is not None:
        try:
            text = Path(server.password_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"OPC UA server {server.name}: password_file {server.password_file}: {exc.strerror}"
            ) from None
        return text.rstrip("\r\n")
    return None


def credentials(server: OpcuaServer, data_dir: Path, environ: Mapping[str, str]) -> Credentials:
    """Everything a connection to ``server`` needs, read (and made, the first time) now, so
    that a missing file or variable stops the start with a clear error."""
    password = read_password(server, environ)
    if server.security_policy == "None":
        return Credentials(password=password)
    assert server.server_certificate is not None  # the model requires it with security
    trusted = load_certificate_der(Path(server.server_certificate))
    if server.certificate is not None and server.private_key is not None:
        cert, key = Path(server.certificate), Path(server.private_key)
        for what, p in (("certificate", cert), ("private_key", key)):
            if not p.is_file():
                raise ConfigError(f"OPC UA server {server.name}: {what} {p}: no such file")
    else:
        cert, key = ensure_client_certificate(default_cert_dir(data_dir))
    return Credentials(cert, key, trusted, password)


def ensure_client_certificate(directory: Path) -> tuple[Path, Path]:
    """The client certificate (DER) and key (PEM) in ``directory``, made if missing or stale."""
    from asyncua.crypto import cert_gen

    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / CERT_NAME, directory / KEY_NAME
    if _usable(cert_path, key_path):
        return cert_path, key_path
    key = cert_gen.generate_private_key()
    hostname = socket.gethostname()
    names: list[x509.GeneralName] = [
        x509.UniformResourceIdentifier(APPLICATION_URI),
        x509.DNSName(hostname),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    cert = cert_gen.generate_self_signed_app_certificate(
        key,
        "Clearwell ingest",
        {"organizationName": "Clearwell", "localityName": hostname},
        names,
        extended=[ExtendedKeyUsageOID.CLIENT_AUTH],
        days=VALID_DAYS,
    )
    # Key first, private: a crash in between never leaves a certificate without its key.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(cert_gen.dump_private_key_as_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    log.info(
        "created the OPC UA client certificate %s (thumbprint %s)",
        cert_path,
        thumbprint(cert_path.read_bytes()),
    )
    return cert_path, key_path


def _usable(cert_path: Path, key_path: Path) -> bool:
    if not (cert_path.is_file() and key_path.is_file()):
        return False
    try:
        cert = x509.load_der_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (ValueError, OSError):
        return False
    if cert.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
        return False
    return cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
