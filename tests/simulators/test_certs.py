"""The OPC UA server certificate: made on first start, kept after, remade when unusable."""

from __future__ import annotations

import stat
from pathlib import Path

from cryptography import x509

from simulators.certs import APPLICATION_URI, ensure_server_certificate


def test_certificate_is_made_once_and_kept(tmp_path: Path):
    cert, key = ensure_server_certificate(tmp_path / "sim")
    first = cert.read_bytes()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    parsed = x509.load_der_x509_certificate(first)
    names = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert APPLICATION_URI in names.get_values_for_type(x509.UniformResourceIdentifier)
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert ensure_server_certificate(tmp_path / "sim") == (cert, key)
    assert cert.read_bytes() == first


def test_a_certificate_without_its_key_is_remade(tmp_path: Path):
    cert, key = ensure_server_certificate(tmp_path)
    first = cert.read_bytes()
    other_cert, _ = ensure_server_certificate(tmp_path / "other")
    cert.write_bytes(other_cert.read_bytes())  # no longer matches key
    ensure_server_certificate(tmp_path)
    assert cert.read_bytes() not in (first, other_cert.read_bytes())
    key.write_bytes(b"garbage")
    ensure_server_certificate(tmp_path)
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
