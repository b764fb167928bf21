"""The OPC UA server's self-signed application certificate, made on first start and kept."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import socket
from pathlib import Path

from asyncua.crypto import cert_gen
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

log = logging.getLogger("clearwell.simulators.certs")

APPLICATION_URI = "urn:clearwell:simulator"
CERT_NAME = "server_cert.der"
KEY_NAME = "server_key.pem"
VALID_DAYS = 3650
RENEW_BEFORE = dt.timedelta(days=30)


def ensure_server_certificate(directory: Path) -> tuple[Path, Path]:
    """Paths of the certificate (DER) and private key (PEM), creating them if missing or stale.

    The certificate names this host, localhost and 127.0.0.1 so clients that
    check the endpoint's host against it accept it.
    """
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
        "Clearwell plant simulator",
        {"organizationName": "Clearwell", "localityName": hostname},
        names,
        extended=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        days=VALID_DAYS,
    )
    # The key is written first and private: a crash in between leaves no cert
    # without its key.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(cert_gen.dump_private_key_as_pem(key))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    log.info("created a self-signed OPC UA server certificate in %s", directory)
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
    expires = cert.not_valid_after_utc
    return expires - dt.datetime.now(dt.UTC) > RENEW_BEFORE
