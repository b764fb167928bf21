"""The site configuration: devices, servers and tags, as pydantic models.

Addresses are **zero-based protocol addresses**: ``address: 0`` with
``register: holding`` is the first holding register on the wire (what a PLC
manual may call 40001). Nothing is added or subtracted anywhere in Clearwell.

Checks that need more than one field or one tag (overlaps, unknown devices, a
tag longer than a request) live in :mod:`sitefile.checks`, so that they can
name the line of the tag at fault.
"""

from __future__ import annotations

from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sitefile.nodeid import NODE_ID_PATTERN, NodeId

RegisterKind = Literal["coil", "discrete", "input", "holding"]
DataType = Literal[
    "int16", "uint16", "int32", "uint32", "int64", "float32", "float64", "bool", "string"
]
WordOrder = Literal["ABCD", "CDAB", "BADC", "DCBA"]

# A site's code and a tag's name (or id) as the database allows them (migrations 0001, 0002).
SITE_CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
TAG_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$"
# A Modbus device or an OPC UA server, named in events and health as "modbus:<name>".
LINK_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
BIT_REGISTERS: frozenset[str] = frozenset({"coil", "discrete"})
# Modbus limits of one read request (function codes 1-4).
MAX_REGISTERS_PER_READ = 125
MAX_BITS_PER_READ = 2000

WORDS_PER_TYPE: dict[str, int] = {
    "int16": 1,
    "uint16": 1,
    "bool": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "int64": 4,
    "float64": 4,
}


class _Strict(BaseModel):
    # Strict: a number is a number (``port: true`` or ``address: "5"`` is refused, as
    # YAML's .nan and .inf are), and a field the schema does not know is an error.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Site(_Strict):
    code: str = Field(pattern=SITE_CODE_PATTERN)
    name: str = Field(min_length=1)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"not a known time zone (e.g. America/Denver): {v!r}") from None
        return v


class ModbusDevice(_Strict):
    name: str = Field(pattern=LINK_NAME_PATTERN)
    host: str = Field(min_length=1)
    port: int = Field(502, ge=1, le=65535)
    unit_id: int = Field(1, ge=0, le=255)
    timeout_s: float = Field(1.0, gt=0, le=60)
    poll_interval_s: float = Field(1.0, gt=0, le=3600)
    # Resends of a request that timed out before the link is declared lost.
    retries: int = Field(1, ge=0, le=10)
    pause_between_requests_s: float = Field(0.0, ge=0, le=10)
    delay_after_connect_s: float = Field(0.0, ge=0, le=60)
    max_registers_per_request: int = Field(MAX_REGISTERS_PER_READ, ge=1, le=MAX_REGISTERS_PER_READ)
    max_bits_per_request: int = Field(MAX_BITS_PER_READ, ge=1, le=MAX_BITS_PER_READ)
    # Unused registers between two tags that one request may read over rather than
    # split in two; coils and discrete inputs allow 16 bits per register of gap.
    gap_fill: int = Field(10, ge=0, le=MAX_REGISTERS_PER_READ)
    # A tag at an address the device refuses (a Modbus exception 1-3) is read alone this
    # often, and merged with its neighbours again once it answers.
    bad_address_retry_s: float = Field(300.0, gt=0, le=86400)


class ModbusSection(_Strict):
    devices: list[ModbusDevice] = []


SecurityPolicy = Literal["None", "Basic256Sha256"]
SecurityMode = Literal["None", "Sign", "SignAndEncrypt"]


class OpcuaServer(_Strict):
    name: str = Field(pattern=LINK_NAME_PATTERN)
    endpoint: str = Field(pattern=r"^opc\.tcp://[^/:]+:\d+(/.*)?$")
    security_policy: SecurityPolicy = "None"
    # Defaults to None without security and SignAndEncrypt with it.
    security_mode: SecurityMode | None = None
    # This client's application certificate (DER or PEM) and key; made on first use
    # when absent (default: $CLEARWELL_DATA_DIR/ingest/opcua/client_cert.der, client_key.pem).
    certificate: str | None = None
    private_key: str | None = None
    # The server certificate this client trusts (DER or PEM); required with security.
    server_certificate: str | None = None
    username: str | None = Field(None, min_length=1)
    # Where the password is: never in this file.
    password_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    password_file: str | None = Field(None, min_length=1)
    password: str | None = None
    timeout_s: float = Field(5.0, gt=0, le=120)
    publishing_interval_s: float = Field(1.0, gt=0, le=3600)
    # Monitored items per subscription, so that one server gets a few subscriptions
    # of many items rather than one huge one.
    max_items_per_subscription: int = Field(2000, ge=1, le=100_000)
    reconnect_max_s: float = Field(30.0, ge=1, le=3600)

    @field_validator("password")
    @classmethod
    def _no_inline_password(cls, v: str | None) -> str | None:
        if v is not None:
            raise ValueError(
                "a password is never written in the site file: give password_env: VARIABLE"
                " or password_file: PATH"
            )
        return v

    @model_validator(mode="after")
    def _security(self) -> OpcuaServer:
        mode = self.mode
        if self.security_policy == "None" and mode != "None":
            raise ValueError(f"security_mode {mode} needs a security_policy (Basic256Sha256)")
        if self.security_policy != "None" and mode == "None":
            raise ValueError(
                f"security_policy {self.security_policy} needs security_mode Sign or SignAndEncrypt"
            )
        if self.security_policy != "None" and self.server_certificate is None:
            raise ValueError(
                f"security_policy {self.security_policy} needs server_certificate: the file of"
                " the server certificate to trust (`clearwell ingest browse"
                " --save-server-certificate FILE` fetches it)"
            )
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError("certificate and private_key go together (or neither, to generate)")
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give password_env or password_file, not both")
        has_password = self.password_env is not None or self.password_file is not None
        if self.username is not None and not has_password:
            raise ValueError(f"username {self.username!r} needs password_env or password_file")
        if self.username is None and has_password:
            raise ValueError("a password without a username")
        return self

    @property
    def mode(self) -> str:
        if self.security_mode is not None:
            return self.security_mode
        return "None" if self.security_policy == "None" else "SignAndEncrypt"


class OpcuaSection(_Strict):
    servers: list[OpcuaServer] = []


class TagModbus(_Strict):
    model_config = ConfigDict(populate_by_name=True)
    device: str
    # ``register`` in the file; renamed here because pydantic models have a ``register``.
    kind: RegisterKind = Field(alias="register")
    address: int = Field(ge=0, le=65535)
    type: DataType = "uint16"
    word_order: WordOrder = "ABCD"
    scale: float = 1.0
    offset: float = 0.0
    # Registers a string occupies (two ASCII characters each).
    length: int | None = Field(None, ge=1, le=MAX_REGISTERS_PER_READ)

    @model_validator(mode="after")
    def _shape(self) -> TagModbus:
        if self.kind in BIT_REGISTERS and self.type != "bool":
            raise ValueError(f"a {self.kind} holds one bit: type must be bool, not {self.type}")
        if self.type == "string" and self.length is None:
            raise ValueError("a string needs length (registers)")
        if self.type != "string" and self.length is not None:
            raise ValueError("length is only for type string")
        return self

    @field_validator("scale")
    @classmethod
    def _nonzero(cls, v: float) -> float:
        if v == 0:
            raise ValueError("scale must not be 0")
        return v

    @property
    def count(self) -> int:
        """Registers (or bits, for coils and discrete inputs) the tag occupies."""
        if self.kind in BIT_REGISTERS:
            return 1
        if self.type == "string":
            assert self.length is not None
            return self.length
        return WORDS_PER_TYPE[self.type]

    @property
    def end(self) -> int:
        """One past the last address the tag occupies."""
        return self.address + self.count


class TagOpcua(_Strict):
    server: str
    node_id: str = Field(pattern=NODE_ID_PATTERN)
    # subscribe: the server reports changes; poll: read every sampling_interval_s.
    mode: Literal["subscribe", "poll"] = "subscribe"
    sampling_interval_s: float = Field(1.0, ge=0, le=3600)
    queue_size: int = Field(10, ge=1, le=10_000)
    # The server's data-change filter: an absolute deadband, or a percent of EURange.
    deadband: float | None = Field(None, ge=0)
    deadband_percent: float | None = Field(None, ge=0, le=100)

    @model_validator(mode="after")
    def _one_deadband(self) -> TagOpcua:
        if self.deadband is not None and self.deadband_percent is not None:
            raise ValueError("give deadband (absolute) or deadband_percent, not both")
        if self.mode == "poll" and self.sampling_interval_s == 0:
            raise ValueError("a polled tag needs sampling_interval_s > 0")
        return self

    @property
    def node(self) -> NodeId:
        return NodeId.parse(self.node_id)


class Limits(_Strict):
    lo_lo: float | None = None
    lo: float | None = None
    hi: float | None = None
    hi_hi: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Limits:
        given = [(k, v) for k, v in self.model_dump().items() if v is not None]
        for (k1, v1), (k2, v2) in zip(given, given[1:], strict=False):
            if not v1 < v2:
                raise ValueError(
                    f"limits must increase lo_lo < lo < hi < hi_hi: {k1}={v1} {k2}={v2}"
                )
        return self


# [low, high] of a value range; either bound may be null: open on that side.
Span = tuple[float | None, float | None]


def _span_text(span: Span) -> str:
    return "[" + ", ".join("null" if v is None else f"{v:g}" for v in span) + "]"


class ValueRange(_Strict):
    """What a number recorded by hand may be: outside ``instrument`` it is refused (no
    instrument reads it); outside ``plausible`` it is taken only when the person confirms
    it with a reason. Both in the unit of what they belong to."""

    # Not strict: YAML gives each pair as a list.
    instrument: Span | None = Field(None, strict=False)
    plausible: Span | None = Field(None, strict=False)

    @field_validator("instrument", "plausible")
    @classmethod
    def _ordered(cls, v: Span | None) -> Span | None:
        if v is None:
            return v
        low, high = v
        if low is None and high is None:
            raise ValueError("[null, null] limits nothing: give a bound, or leave the range out")
        if low is not None and high is not None and not low < high:
            raise ValueError(f"must be [low, high] with low < high, got {_span_text(v)}")
        return v

    @model_validator(mode="after")
    def _plausible_inside_instrument(self) -> ValueRange:
        if self.instrument is None and self.plausible is None:
            raise ValueError("give instrument: [low, high], plausible: [low, high] or both")
        if self.instrument is None or self.plausible is None:
            return self
        (ilo, ihi), (plo, phi) = self.instrument, self.plausible
        below = ilo is not None and (plo is None or plo < ilo)
        above = ihi is not None and (phi is None or phi > ihi)
        if below or above:
            raise ValueError(
                f"plausible {_span_text(self.plausible)} must lie inside instrument"
                f" {_span_text(self.instrument)}"
            )
        return self


class FieldRange(ValueRange):
    """The range of an entry's number field (``entry_ranges:``), in ``unit`` if given."""

    unit: str = ""


class AnalyteRange(ValueRange):
    """The range of a lab analyte's results (``analytes:``), in its ``unit``; ``name``
    is how people write it (default: the key)."""

    unit: str = Field(min_length=1)
    name: str = ""


class Tag(_Strict):
    name: str = Field(pattern=TAG_NAME_PATTERN)
    # Stable identity across renames; without it the tag is known by where it is read.
    id: str | None = Field(None, pattern=TAG_NAME_PATTERN)
    description: str = ""
    unit: str = ""
    # Not strict: YAML gives the pair as a list.
    eng_range: tuple[float, float] | None = Field(None, strict=False)
    limits: Limits = Limits()
    # The range of a value recorded by hand for this tag (a reading on a round).
    range: ValueRange | None = None
    deadband: float | None = Field(None, ge=0)
    # With a deadband: the longest a value goes unstored while it stays within it.
    max_interval_s: float | None = Field(None, gt=0)
    source: Literal["modbus", "opcua"] = "modbus"
    modbus: TagModbus | None = None
    opcua: TagOpcua | None = None

    @field_validator("eng_range")
    @classmethod
    def _increasing(cls, v: tuple[float, float] | None) -> tuple[float, float] | None:
        if v is not None and not v[0] < v[1]:
            raise ValueError(f"must be [low, high] with low < high, got {list(v)}")
        return v

    @model_validator(mode="after")
    def _faces(self) -> Tag:
        if self.source == "modbus" and self.modbus is None:
            raise ValueError("source is modbus but the tag has no modbus: section")
        if self.source == "opcua" and self.opcua is None:
            raise ValueError("source is opcua but the tag has no opcua: section")
        if self.source == "opcua" and self.opcua is not None:
            o = self.opcua
            if self.deadband is not None and (
                o.deadband is not None or o.deadband_percent is not None
            ):
                raise ValueError("give the deadband once: here or under opcua:, not both")
            if o.mode == "subscribe" and self.max_interval_s is not None:
                raise ValueError(
                    "max_interval_s is for polled tags: a subscription reports changes"
                )
            if o.mode == "poll" and o.deadband_percent is not None and self.eng_range is None:
                raise ValueError("deadband_percent on a polled tag needs eng_range")
        if self.max_interval_s is not None and self.applied_deadband is None:
            raise ValueError("max_interval_s only applies with a deadband")
        return self

    @property
    def applied_deadband(self) -> float | None:
        """The absolute deadband Clearwell applies when it decides what to store: the
        tag's own ``deadband``, or for a polled OPC UA tag the one under ``opcua:``
        (no server filters a Read)."""
        o = self.opcua
        if self.source != "opcua" or o is None or o.mode != "poll":
            return self.deadband
        db = self.opcua_deadband
        if db is None:
            return self.deadband
        kind, value = db
        if kind == "percent":
            assert self.eng_range is not None  # checked above
            return value / 100 * (self.eng_range[1] - self.eng_range[0])
        return value

    @property
    def opcua_deadband(self) -> tuple[str, float] | None:
        """The data-change filter an OPC UA server is asked to apply to this tag:
        ("absolute" | "percent", value). The tag's own ``deadband`` is Clearwell's."""
        o = self.opcua
        if o is None:
            return None
        if o.deadband_percent is not None:
            return ("percent", o.deadband_percent)
        return ("absolute", o.deadband) if o.deadband is not None else None

    @property
    def key(self) -> str:
        """The identity that survives a rename: ``id`` if given, else where it is read."""
        if self.id:
            return f"id:{self.id}"
        if self.source == "modbus":
            assert self.modbus is not None
            m = self.modbus
            return f"modbus:{m.device}/{m.kind}/{m.address}"
        assert self.opcua is not None
        return f"opcua:{self.opcua.server}/{self.opcua.node_id}"

    @property
    def address_text(self) -> str:
        """The ``tags.address`` column: the protocol address as written in the configuration."""
        if self.source == "modbus":
            assert self.modbus is not None
            m = self.modbus
            return f"{m.device};{m.kind};{m.address}"
        assert self.opcua is not None
        return f"{self.opcua.server};{self.opcua.node_id}"


class IngestOptions(_Strict):
    """How the writer batches and spools; every field has a default."""

    batch_rows: int = Field(50_000, ge=100, le=1_000_000)
    flush_interval_s: float = Field(1.0, gt=0, le=60)
    # Above this many queued rows the queue goes to the spool even while the database is up.
    max_queue_rows: int = Field(500_000, ge=1_000)
    spool_max_mb: float = Field(1024, gt=0)
    spool_full: Literal["drop_oldest", "drop_newest"] = "drop_oldest"
    health_interval_s: float = Field(5.0, gt=0, le=300)
    # Default for tags with a deadband and no max_interval_s.
    default_max_interval_s: float = Field(60.0, gt=0)
    # A limit condition that clears and returns within this time counts as a repeat
    # of the same event instead of opening a new one.
    event_hold_s: float = Field(60.0, ge=0)


class SiteConfig(_Strict):
    site: Site
    modbus: ModbusSection = ModbusSection()
    opcua: OpcuaSection = OpcuaSection()
    tags: list[Tag] = []
    ingest: IngestOptions = IngestOptions()
    # The discharge permit, kept raw here and validated by dashboards.exports.permit.
    permit: dict[str, Any] | None = None
    # Ranges of entries' number fields by "<kind>.<field>" (e.g. chemical_addition.amount),
    # and of lab results by analyte (e.g. bod5); the keys are checked in sitefile.checks.
    entry_ranges: dict[str, FieldRange] = {}
    analytes: dict[str, AnalyteRange] = {}

    def device(self, name: str) -> ModbusDevice:
        for d in self.modbus.devices:
            if d.name == name:
                return d
        raise KeyError(name)

    def server(self, name: str) -> OpcuaServer:
        for s in self.opcua.servers:
            if s.name == name:
                return s
        raise KeyError(name)

    def opcua_tags(self, server: str) -> list[Tag]:
        return [
            t
            for t in self.tags
            if t.source == "opcua" and t.opcua is not None and t.opcua.server == server
        ]

    def modbus_tags(self, device: str) -> list[Tag]:
        return [
            t
            for t in self.tags
            if t.source == "modbus" and t.modbus is not None and t.modbus.device == device
        ]
