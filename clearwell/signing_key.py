"""The site's Ed25519 signing key, made on first use and kept in the data directory, and
the public keys a holder of signed files trusts.

One key signs both what leaves the site (export bundles) and the audit chain's
checkpoints (logbook.checkpoints), which go into every bundle: a regulator pins one key
per site, and the web app, which makes both, would hold a second key as exposed as the
first.

Trusted keys, for checking: the site's own (its private key's, or
``keys/site-ed25519.pub.pem`` where only the public half is kept) and any in
``keys/trusted/*.pem`` (a regulator's copies of the sites' registered keys).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clearwell.errors import ClearwellError

KEY_FILE = "keys/site-ed25519.pem"
PUBLIC_KEY_FILE = "keys/site-ed25519.pub.pem"
TRUSTED_DIR = "keys/trusted"


def key_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE


def load(data_dir: Path) -> Ed25519PrivateKey | None:
    """The site key, if the data directory has one."""
    path = key_path(data_dir)
    if not path.exists():
        return None
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise ClearwellError(f"{path}: not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ClearwellError(f"{path}: the site key must be Ed25519")
    return key


def trusted_keys(data_dir: Path) -> list[tuple[str, Ed25519PublicKey]]:
    """The public keys this data directory pins, each with where it came from."""
    out: list[tuple[str, Ed25519PublicKey]] = []
    own = load(data_dir)
    public = data_dir / PUBLIC_KEY_FILE
    if own is not None:
        out.append((str(key_path(data_dir)), own.public_key()))
    elif public.exists():
        out.append((str(public), load_public_pem(public.read_bytes(), str(public))))
    folder = data_dir / TRUSTED_DIR
    for path in sorted(folder.glob("*.pem")) if folder.is_dir() else []:
        out.append((str(path), load_public_pem(path.read_bytes(), str(path))))
    return out


def load_or_create(data_dir: Path) -> Ed25519PrivateKey:
    """The site key; created (readable by its owner only) when there is none yet."""
    found = load(data_dir)
    if found is not None:
        return found
    path = key_path(data_dir)
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Create with 0600 from the start rather than chmod afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    # The public half beside it, to publish (register with the regulator).
    (data_dir / PUBLIC_KEY_FILE).write_bytes(public_pem(key.public_key()))
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, as a regulator would compare it by phone."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return ":".join(digest[i : i + 4] for i in range(0, 32, 4))


def load_public_pem(data: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise ClearwellError(f"{where}: not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ClearwellError(f"{where}: not an Ed25519 public key")
    return key
