"""Tamper-evident bundles: a zip of export files with a signed manifest.

Layout of a bundle::

    manifest.json      what the bundle holds: each file's SHA-256 and size, the
                       head of the audit hash chain at export time, who exported
                       and when, and the plant days it covers (``period``, with
                       ``month_to_date`` true while the month is in progress)
    manifest.sig       Ed25519 signature of manifest.json's exact bytes (base64)
    public_key.pem     the site's public key, to check the signature with
    files/<name>       the exported files

A signature proves the manifest was made with the site's key; the regulator
compares the key's fingerprint with the one the site registered (or passes the
site's key to ``verify`` directly), since a key shipped inside the bundle alone
proves integrity, not origin.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clearwell.errors import ClearwellError
from dashboards.exports.signing_key import fingerprint, load_public_pem, public_pem

FORMAT = "clearwell-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
FILES_DIR = "files/"


@dataclass(frozen=True)
class BundleInfo:
    site: str
    exported_by: str
    exported_at: datetime
    audit_chain_head: dict[str, Any] | None
    description: str = ""
    period: dict[str, Any] | None = None  # month, first_day, last_day, month_to_date


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(files: dict[str, bytes], info: BundleInfo, key: Ed25519PublicKey) -> bytes:
    if info.exported_at.tzinfo is None:
        raise ValueError("exported_at must carry its time zone")
    manifest = {
        "format": FORMAT,
        "site": info.site,
        "description": info.description,
        "exported_by": info.exported_by,
        "exported_at": info.exported_at.isoformat(),
        "audit_chain_head": info.audit_chain_head,
        "public_key_fingerprint": fingerprint(key),
        "files": [
            {"name": name, "sha256": sha256_hex(data), "bytes": len(data)}
            for name, data in sorted(files.items())
        ],
    }
    if info.period is not None:
        manifest["period"] = info.period
    return json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"


def build(files: dict[str, bytes], info: BundleInfo, key: Ed25519PrivateKey) -> bytes:
    """The bundle as zip bytes."""
    for name in files:
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError(f"bad file name in bundle: {name!r}")
    manifest = manifest_bytes(files, info, key.public_key())
    signature = base64.b64encode(key.sign(manifest)) + b"\n"
    out = io.BytesIO()
    # Stored, not deflated: every byte of a member is then its content, so any
    # flipped byte shows (deflate streams carry bits, such as padding, whose
    # change decodes to the same content).
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(MANIFEST, manifest)
        zf.writestr(SIGNATURE, signature)
        zf.writestr(PUBLIC_KEY, public_pem(key.public_key()))
        for name, data in sorted(files.items()):
            zf.writestr(FILES_DIR + name, data)
    return out.getvalue()


@dataclass
class Verification:
    """What ``verify`` found; ``ok`` only when there is no problem at all."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(zf: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes; a damaged member raises ValueError naming it."""
    try:
        return zf.read(name)
    except KeyError:
        raise ValueError(f"{name}: missing from the bundle") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        # A flipped byte in a member shows as a bad CRC or undecodable data.
        raise ValueError(f"{name}: altered or damaged (cannot be read: {exc})") from None


def verify(data: bytes, trusted_key: Ed25519PublicKey | None = None) -> Verification:
    result = Verification()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        result.problems.append(f"not a readable zip file: {exc}")
        return result
    with zf:
        try:
            manifest_raw = _read(zf, MANIFEST)
            signature = base64.b64decode(_read(zf, SIGNATURE).strip(), validate=True)
            key = trusted_key or load_public_pem(_read(zf, PUBLIC_KEY), PUBLIC_KEY)
        except (ValueError, ClearwellError) as exc:
            result.problems.append(str(exc))
            return result
        result.fingerprint = fingerprint(key)
        try:
            key.verify(signature, manifest_raw)
        except InvalidSignature:
            who = "the trusted site key" if trusted_key else "the bundle's public key"
            result.problems.append(
                f"{MANIFEST}: signature does not match ({who}); the manifest was altered "
                "or signed with another key"
            )
        try:
            manifest = json.loads(manifest_raw)
            entries = {f["name"]: f for f in manifest["files"]}
        except (ValueError, KeyError, TypeError) as exc:
            result.problems.append(f"{MANIFEST}: not a Clearwell manifest ({exc})")
            return result
        result.manifest = manifest
        present = {n[len(FILES_DIR) :] for n in zf.namelist() if n.startswith(FILES_DIR)}
        for name in sorted(entries):
            member = FILES_DIR + name
            try:
                content = _read(zf, member)
            except ValueError as exc:
                result.problems.append(str(exc))
                continue
            if sha256_hex(content) != entries[name]["sha256"]:
                result.problems.append(
                    f"{member}: altered (SHA-256 {sha256_hex(content)[:16]}… differs from the "
                    f"manifest's {entries[name]['sha256'][:16]}…)"
                )
            else:
                result.checked.append(member)
        for name in sorted(present - set(entries)):
            result.problems.append(f"{FILES_DIR}{name}: not listed in the manifest (added)")
        other = set(zf.namelist()) - {MANIFEST, SIGNATURE, PUBLIC_KEY}
        for name in sorted(n for n in other if not n.startswith(FILES_DIR)):
            result.problems.append(f"{name}: not part of a Clearwell bundle (added)")
    return result


def describe(result: Verification) -> str:
    lines = []
    if result.manifest:
        m = result.manifest
        who, when = m.get("exported_by"), m.get("exported_at")
        lines.append(f"bundle of {m.get('site')} exported by {who} at {when}")
        period = m.get("period")
        if isinstance(period, dict) and period.get("month_to_date"):
            lines.append(
                f"month to date: plant days {period.get('first_day')} to"
                f" {period.get('last_day')}, the month still in progress"
            )
        head = m.get("audit_chain_head")
        if head:
            lines.append(f"audit chain head at export: {json.dumps(head, sort_keys=True)}")
    if result.fingerprint:
        lines.append(f"signing key fingerprint: {result.fingerprint}")
    for name in result.checked:
        lines.append(f"ok       {name}")
    for problem in result.problems:
        lines.append(f"PROBLEM  {problem}")
    lines.append(
        "VERIFIED: every file matches the signed manifest"
        if result.ok
        else f"NOT VERIFIED: {len(result.problems)} problem(s)"
    )
    return "\n".join(lines)
