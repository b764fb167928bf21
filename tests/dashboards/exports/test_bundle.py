import base64
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearwell.signing_key import fingerprint, load_or_create, public_pem
from dashboards.exports import bundle

FILES = {
    "mor-2026-03.csv": b"date,flow_total_m3\n2026-03-01,4210.5\n" * 50,
    "logbook-2026-03.json": json.dumps({"entries": list(range(300))}).encode(),
}
INFO = bundle.BundleInfo(
    site="demo-wwtp",
    exported_by="chief (Casey Chief)",
    exported_at=datetime(2026, 4, 2, 15, 0, tzinfo=UTC),
    audit_chain_head={"id": 812, "hash": "ab" * 32},
)


@pytest.fixture
def key(tmp_path):
    return load_or_create(tmp_path)


def _member_data_offset(data: bytes, name: str) -> tuple[int, int]:
    """Where a member's stored bytes start in the zip, and how many there are."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    header = data[info.header_offset : info.header_offset + 30]
    name_len = int.from_bytes(header[26:28], "little")
    extra_len = int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def test_an_untouched_bundle_verifies_against_the_pinned_key(key):
    data = bundle.build(FILES, INFO, key)
    result = bundle.verify(data, [key.public_key()])
    assert result.ok, result.problems
    assert result.pinned
    assert sorted(result.checked) == ["files/logbook-2026-03.json", "files/mor-2026-03.csv"]
    assert result.manifest["audit_chain_head"] == {"id": 812, "hash": "ab" * 32}
    assert result.manifest["exported_by"] == "chief (Casey Chief)"
    assert result.fingerprint == fingerprint(key.public_key())


@pytest.mark.parametrize("position", [0, 7, -1])
def test_one_flipped_byte_in_a_file_is_named(key, position):
    data = bytearray(bundle.build(FILES, INFO, key))
    start, size = _member_data_offset(bytes(data), "files/mor-2026-03.csv")
    data[start + (position % size)] ^= 0x01
    result = bundle.verify(bytes(data))
    assert not result.ok
    assert len(result.problems) == 1
    assert result.problems[0].startswith("files/mor-2026-03.csv: altered")
    assert "files/logbook-2026-03.json" in result.checked


def test_a_file_replaced_and_rezipped_cleanly_is_caught_by_its_hash(key):
    original = bundle.build(FILES, INFO, key)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "files/mor-2026-03.csv":
                content = content.replace(b"4210.5", b"4201.5", 1)
            dst.writestr(item.filename, content)
    result = bundle.verify(out.getvalue())
    assert [p.split(":")[0] for p in result.problems] == ["files/mor-2026-03.csv"]
    assert "SHA-256" in result.problems[0]


def test_an_edited_manifest_breaks_the_signature(key):
    original = bundle.build(FILES, INFO, key)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            content = src.read(item.filename)
            if item.filename == "manifest.json":
                content = content.replace(b"chief (Casey Chief)", b"operator (Olly Op)")
            dst.writestr(item.filename, content)
    result = bundle.verify(out.getvalue())
    assert any(p.startswith("manifest.json: signature does not match") for p in result.problems)


def test_a_bundle_resigned_with_another_key_fails_against_the_sites_key(key):
    other = Ed25519PrivateKey.generate()
    forged = bundle.build(FILES, INFO, other)
    alone = bundle.verify(forged)
    # Consistent in itself, but only its own key vouches for it: not VERIFIED.
    assert alone.problems == [] and not alone.pinned and not alone.ok
    assert "NOT VERIFIED AGAINST THE SITE'S KEY" in bundle.describe(alone)
    assert "\nVERIFIED" not in bundle.describe(alone)
    result = bundle.verify(forged, [key.public_key()])
    assert not result.ok  # …and not made with the site's key
    site, theirs = fingerprint(key.public_key()), fingerprint(other.public_key())
    assert result.problems[0].startswith(
        f"manifest.json: signature does not match the pinned site key ({site})"
        f"; it was signed with the key inside the bundle, {theirs}"
    )


def test_a_manifest_naming_another_key_than_the_signers_is_flagged(key):
    """Re-signed with the attacker's key and carrying it, but the manifest still names the
    site's fingerprint (the issue's case): the mismatch is named."""
    other = Ed25519PrivateKey.generate()
    manifest = bundle.manifest_bytes(FILES, INFO, key.public_key())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(bundle.MANIFEST, manifest)
        zf.writestr(bundle.SIGNATURE, base64.b64encode(other.sign(manifest)) + b"\n")
        zf.writestr(bundle.PUBLIC_KEY, public_pem(other.public_key()))
        for name, data in sorted(FILES.items()):
            zf.writestr(bundle.FILES_DIR + name, data)
    result = bundle.verify(out.getvalue())
    assert not result.ok
    site, theirs = fingerprint(key.public_key()), fingerprint(other.public_key())
    assert f"manifest.json names the signing key {site}, but it was checked with {theirs}" in (
        result.problems
    )
    assert "NOT VERIFIED: 2 problem(s)" in bundle.describe(result)


def test_a_bundle_made_over_a_broken_chain_says_so(key):
    info = bundle.BundleInfo(
        site="demo-wwtp",
        exported_by="chief (Casey Chief)",
        exported_at=INFO.exported_at,
        audit_chain_head=None,
        audit_chain={"verified": False, "rows": 9, "problem": "the audit chain breaks at seq 4"},
    )
    result = bundle.verify(bundle.build(FILES, info, key), [key.public_key()])
    assert result.problems == [] and result.pinned and not result.ok
    text = bundle.describe(result)
    assert "WARNING  the site's audit chain did not verify when this bundle was made:" in text
    assert text.splitlines()[-1].startswith("SIGNED BY THE SITE, every file as signed, BUT")


def test_an_added_file_is_reported(key):
    original = bundle.build(FILES, INFO, key)
    out = io.BytesIO(original)
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr("files/extra.csv", b"x")
    result = bundle.verify(out.getvalue())
    assert result.problems == ["files/extra.csv: not listed in the manifest (added)"]


def test_garbage_is_not_a_bundle():
    result = bundle.verify(b"not a zip at all")
    assert not result.ok and result.problems[0].startswith("not a readable zip file")


def test_site_key_is_created_once_and_private(tmp_path):
    first = load_or_create(tmp_path)
    second = load_or_create(tmp_path)
    assert fingerprint(first.public_key()) == fingerprint(second.public_key())
    mode = (tmp_path / "keys" / "site-ed25519.pem").stat().st_mode & 0o777
    assert mode == 0o600


def test_file_names_that_escape_the_bundle_are_refused(key):
    with pytest.raises(ValueError, match="bad file name"):
        bundle.build({"../etc/passwd": b"x"}, INFO, key)
