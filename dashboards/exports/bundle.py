"""Tamper-evident bundles: a zip of export files with a signed manifest.

Layout of a bundle::

    manifest.json      what the bundle holds: each file's SHA-256 and size, the
                       head of the audit hash chain at export time, who exported
                       and when, and the plant days it covers (``period``, with
                       ``month_to_date`` true while the month is in progress)
    manifest.sig       Ed25519 signature of manifest.json's exact bytes (base64)
    public_key.pem     the site's public key, to check the signature with
    files/<name>       the exported files

A signature proves the manifest was made with the site's key; ``verify`` checks it
against the keys the checker pinned (the site's public key they registered, by
fingerprint), and says plainly when only the key shipped inside the bundle was there to
check with, which proves integrity, not origin. The manifest also says whether the site's
audit chain verified when the bundle was made, and carries a checkpoint of the chain
signed then (``logbook.checkpoints``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clearwell.errors import ClearwellError
from clearwell.signing_key import fingerprint, load_public_pem, public_pem

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
    # Whether the site's audit chain verified when the bundle was made, and why not.
    audit_chain: dict[str, Any] | None = None
    # A checkpoint of the chain signed then (logbook.checkpoints), to check the site's
    # database against later (`clearwell verify --checkpoint BUNDLE.zip`).
    audit_checkpoint: dict[str, Any] | None = None
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
        "audit_chain": info.audit_chain,
        "audit_checkpoint": info.audit_checkpoint,
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
    """What ``verify`` found. ``ok`` only when there is no problem, the signature holds
    under a pinned site key (not merely the key the bundle carries) and the site's audit
    chain verified when the bundle was made."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    # The key the signature held under (else the bundle's own), and whether it is pinned.
    fingerprint: str | None = None
    pinned: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.pinned and not self.warnings


def _read(zf: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes; a damaged member raises ValueError naming it."""
    try:
        return zf.read(name)
    except KeyError:
        raise ValueError(f"{name}: missing from the bundle") from None
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        # A flipped byte in a member shows as a bad CRC or undecodable data.
        raise ValueError(f"{name}: altered or damaged (cannot be read: {exc})") from None


def _signer(
    keys: Sequence[Ed25519PublicKey], signature: bytes, data: bytes
) -> Ed25519PublicKey | None:
    for key in keys:
        try:
            key.verify(signature, data)
            return key
        except InvalidSignature:
            continue
    return None


def verify(data: bytes, trusted_keys: Sequence[Ed25519PublicKey] = ()) -> Verification:
    """Checks a bundle: its signature under one of the ``trusted_keys`` (the pinned site
    keys; none: only the bundle's own key, which proves integrity, not origin), the
    manifest's fingerprint against the signing key, every file against the manifest."""
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
        except (ValueError, ClearwellError) as exc:
            result.problems.append(str(exc))
            return result
        try:
            own: Ed25519PublicKey | None = load_public_pem(_read(zf, PUBLIC_KEY), PUBLIC_KEY)
        except (ValueError, ClearwellError) as exc:
            if not trusted_keys:
                result.problems.append(str(exc))
                return result
            own = None
        signer = _signer(trusted_keys or ([own] if own else []), signature, manifest_raw)
        result.pinned = bool(trusted_keys) and signer is not None
        used = signer or own
        result.fingerprint = fingerprint(used) if used else None
        if signer is None:
            if trusted_keys:
                pinned = ", ".join(fingerprint(k) for k in trusted_keys)
                by_own = own is not None and _signer([own], signature, manifest_raw)
                result.problems.append(
                    f"{MANIFEST}: signature does not match the pinned site key ({pinned})"
                    + (
                        f"; it was signed with the key inside the bundle, {fingerprint(own)},"
                        " which is not the site's"
                        if by_own and own is not None
                        else "; the manifest was altered or signed with another key"
                    )
                )
            else:
                result.problems.append(
                    f"{MANIFEST}: signature does not match (the bundle's public key); the"
                    " manifest was altered or signed with another key"
                )
        try:
            manifest = json.loads(manifest_raw)
            entries = {f["name"]: f for f in manifest["files"]}
        except (ValueError, KeyError, TypeError) as exc:
            result.problems.append(f"{MANIFEST}: not a Clearwell manifest ({exc})")
            return result
        result.manifest = manifest
        named = manifest.get("public_key_fingerprint")
        if used is not None and named != fingerprint(used):
            result.problems.append(
                f"{MANIFEST} names the signing key {named}, but it was checked with"
                f" {fingerprint(used)}"
            )
        if own is not None and named != fingerprint(own):
            result.problems.append(
                f"{PUBLIC_KEY} is the key {fingerprint(own)}, not {named} that the manifest names"
            )
        chain = manifest.get("audit_chain")
        if isinstance(chain, dict) and not chain.get("verified", False):
            result.warnings.append(
                "the site's audit chain did not verify when this bundle was made: "
                f"{chain.get('problem')}"
            )
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


def manifest_of(data: bytes) -> dict[str, Any]:
    """A bundle's manifest as it says, unchecked ({} when it has none readable)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            found = json.loads(_read(zf, MANIFEST))
    except (zipfile.BadZipFile, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def checkpoint_of(data: bytes) -> dict[str, Any] | None:
    """The signed audit checkpoint a bundle carries (its signature is for the caller to
    check, with ``logbook.checkpoints.check``), if any."""
    found = manifest_of(data).get("audit_checkpoint")
    return found if isinstance(found, dict) else None


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
        whose = "pinned site key" if result.pinned else "key inside the bundle"
        lines.append(f"signing key fingerprint: {result.fingerprint} ({whose})")
    for name in result.checked:
        lines.append(f"ok       {name}")
    for problem in result.problems:
        lines.append(f"PROBLEM  {problem}")
    for warning in result.warnings:
        lines.append(f"WARNING  {warning}")
    if result.problems:
        lines.append(f"NOT VERIFIED: {len(result.problems)} problem(s)")
    elif not result.pinned:
        lines.append(
            "NOT VERIFIED AGAINST THE SITE'S KEY: the files match a manifest signed by the key"
            f" inside the bundle ({result.fingerprint}), which shows they were not changed"
            " since it was signed, not who signed it. Compare that fingerprint with the one"
            " the site registered, or check with --public-key SITE.pem (or the site's key in"
            " DATA_DIR/keys/trusted/)"
        )
    elif result.warnings:
        lines.append(
            "SIGNED BY THE SITE, every file as signed, BUT the site's audit chain did not"
            " verify when it was exported (see the warning)"
        )
    else:
        lines.append("VERIFIED: every file matches the manifest signed with the site's key")
    return "\n".join(lines)
