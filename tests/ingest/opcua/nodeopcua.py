"""A node-opcua server (tests/tools/opcua-server), run as its own process: an OPC UA stack
that is not asyncua, the collector's own library."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import shutil
import signal
import socket
from pathlib import Path

import pytest
from asyncua.crypto import cert_gen
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.support.pg_cluster import free_port

ROOT = Path(__file__).resolve().parents[3]
SERVER_DIR = ROOT / "tests" / "tools" / "opcua-server"
SETUP_HINT = "run scripts/setup-test-tools.sh (make test does) to install it"
PLANT_URI = "urn:clearwell:test-plant"
APPLICATION_URI = "urn:clearwell:test-plant-server"  # as server.js says


def need_node_opcua() -> str:
    node = shutil.which("node")
    if node is None or not (SERVER_DIR / "node_modules" / "node-opcua").is_dir():
        pytest.fail(f"node-opcua (tests/tools/opcua-server) is not installed: {SETUP_HINT}")
    return node


class NodeOpcuaServer:
    """The plant of server.js: ``ns=<plant>;s=Plant.Aeration.DO`` and its neighbours.

    ``secure``: Basic256Sha256 SignAndEncrypt only; ``trust_clients``: whether a client
    certificate the server has not seen is accepted (else it is put in the PKI's
    ``rejected`` folder, as real servers do, until someone trusts it).
    """

    def __init__(
        self,
        directory: Path,
        *,
        secure: bool = False,
        trust_clients: bool = True,
        users: dict[str, str] | None = None,
        extra_namespaces: tuple[str, ...] = (),
    ) -> None:
        self.pki = directory / "server-pki"
        self.port = free_port()
        self.args = {
            "port": self.port,
            "pki": str(self.pki),
            "secure": secure,
            "trustClients": trust_clients,
            "users": users or {},
        }
        # Registered before the plant's at the next start (a new namespace table).
        self.extra_namespaces = extra_namespaces
        self.log = directory / "opcua-server.log"
        self.endpoint = ""
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> str:
        """Start (again, on the same port and with the same certificate); the endpoint."""
        self._own_certificate()
        with self.log.open("ab") as err:
            proc = await asyncio.create_subprocess_exec(
                need_node_opcua(),
                str(SERVER_DIR / "server.js"),
                json.dumps({**self.args, "extraNamespaces": list(self.extra_namespaces)}),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                cwd=SERVER_DIR,
            )
        self._proc = proc
        try:
            # node-opcua prints its own warnings on stdout too: up to "ready <endpoint>".
            line = await asyncio.wait_for(self._line(b"ready "), 60)
        except (TimeoutError, EOFError):
            await self.stop()
            raise RuntimeError(
                f"the node-opcua server did not start: {self.log.read_text()}"
            ) from None
        self.endpoint = line.split()[1].decode()
        return self.endpoint

    async def _line(self, start: bytes | tuple[bytes, ...]) -> bytes:
        """The server's next line on stdout that starts so."""
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            line = await self._proc.stdout.readline()
            if not line:
                raise EOFError
            if line.startswith(start):
                return line

    async def set(self, node_id: str, value: object, status: str = "Good") -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        proc.stdin.write(f"set {node_id} {text} {status}\n".encode())
        await proc.stdin.drain()
        answer = await asyncio.wait_for(self._line((b"ok", b"error")), 10)
        assert answer == b"ok\n", answer

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()

    def _own_certificate(self) -> None:
        """The server's key and certificate where node-opcua looks for them, made here
        in a moment rather than by node-opcua in JavaScript (10-30 s on a busy machine)."""
        own = self.pki / "server" / "own"
        key_path = own / "private" / "private_key.pem"
        if key_path.exists():
            return
        key = cert_gen.generate_private_key()
        cert = cert_gen.generate_self_signed_app_certificate(
            key,
            "clearwell test plant (node-opcua)",
            {"organizationName": "Clearwell tests"},
            [
                x509.UniformResourceIdentifier(APPLICATION_URI),
                x509.DNSName("localhost"),
                x509.DNSName(socket.gethostname()),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            ],
            extended=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
            days=30,
        )
        key_path.parent.mkdir(parents=True, exist_ok=True)
        self.certificate.parent.mkdir(parents=True, exist_ok=True)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.certificate.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    @property
    def certificate(self) -> Path:
        """The server's own certificate (PEM), what a client is told to trust."""
        return self.pki / "server" / "own" / "certs" / "certificate.pem"

    def trust(self, certificate: Path) -> None:
        """What the server's administrator does: trust a client certificate."""
        trusted = self.pki / "server" / "trusted" / "certs"
        trusted.mkdir(parents=True, exist_ok=True)
        shutil.copy(certificate, trusted / certificate.name)

    def rejected(self) -> list[Path]:
        return sorted((self.pki / "server" / "rejected").glob("*"))
