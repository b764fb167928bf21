"""Opening an OPC UA session as a server's configuration says, with errors a person can act on.

Every failure comes out as :class:`OpcuaConnectError` (or
:class:`~ingest.opcua.security.OpcuaTrustError`) whose message names the server,
the endpoint and what went wrong: not reachable, no endpoint with the wanted
security, an untrusted server certificate, a server that does not trust this
client's certificate (and which file to trust there), a refused login.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any
from urllib.parse import urlparse

from asyncua import Client, ua
from asyncua.crypto import security_policies

from clearwell.errors import ClearwellError
from ingest.opcua.plan import OperationLimits
from ingest.opcua.security import (
    APPLICATION_URI,
    Credentials,
    check_trusted,
    load_certificate_der,
    thumbprint,
)
from ingest.opcua.status import name
from sitefile.models import OpcuaServer

log = logging.getLogger(__name__)

# The server closes a session this client stopped talking to (crashed) after this long.
SESSION_TIMEOUT_MS = 60_000
_LOGIN_REFUSED = {
    ua.StatusCodes.BadUserAccessDenied,
    ua.StatusCodes.BadIdentityTokenInvalid,
    ua.StatusCodes.BadIdentityTokenRejected,
}
_POLICY_URI = {"Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256.URI}
# What a server answers when it does not accept this client's certificate. Some say
# nothing and close the secure channel as it opens (node-opcua answers with a fault
# asyncua cannot read): a failure while opening a secured channel counts the same.
_CLIENT_REFUSED = {
    ua.StatusCodes.BadSecurityChecksFailed,
    ua.StatusCodes.BadCertificateUntrusted,
    ua.StatusCodes.BadCertificateInvalid,
    ua.StatusCodes.BadCertificateChainIncomplete,
    ua.StatusCodes.BadCertificateUriInvalid,
    ua.StatusCodes.BadCertificateUseNotAllowed,
    ua.StatusCodes.BadCertificateTimeInvalid,
    ua.StatusCodes.BadCertificateHostNameInvalid,
    ua.StatusCodes.BadCertificateRevoked,
    ua.StatusCodes.BadCertificateRevocationUnknown,
    ua.StatusCodes.BadCertificatePolicyCheckFailed,
}


class OpcuaConnectError(ClearwellError):
    """A session could not be opened; ``login`` is set when the server refused the user."""

    def __init__(self, message: str, *, login: bool = False) -> None:
        super().__init__(message)
        self.login = login


def _where(server: OpcuaServer) -> str:
    return f"OPC UA server {server.name} ({server.endpoint})"


def _security_mode(mode: str) -> ua.MessageSecurityMode:
    found: ua.MessageSecurityMode = getattr(ua.MessageSecurityMode, mode)
    return found


async def open_session(server: OpcuaServer, creds: Credentials) -> Client:
    """A connected, activated client; the caller disconnects it."""
    # The keep-alive probe waits as long as any request: a server busy for a second
    # (5,000 writes a second keep asyncua's busy) is not taken for a dead one. A restart
    # is noticed at once anyway, by the socket closing.
    client = Client(server.endpoint, timeout=server.timeout_s, watchdog_intervall=server.timeout_s)
    client.application_uri = APPLICATION_URI
    client.name = client.description = "Clearwell ingest"
    client.product_uri = "urn:clearwell"
    client.session_timeout = SESSION_TIMEOUT_MS
    try:
        if server.security_policy != "None":
            await _secure(client, server, creds)
        if server.username is not None:
            client.set_user(server.username)
            client.set_password(creds.password or "")
        await client.connect()
    except ClearwellError:
        await _quiet_disconnect(client)
        raise
    except ua.UaStatusCodeError as exc:
        await _quiet_disconnect(client)
        code = exc.code
        if server.security_policy != "None" and code in _CLIENT_REFUSED:
            raise _client_refused(server, creds, name(code)) from None
        if code in _LOGIN_REFUSED:
            who = f"user {server.username!r}" if server.username else "an anonymous login"
            raise OpcuaConnectError(
                f"{_where(server)} refused {who}: {name(code)} (wrong username or password?)",
                login=True,
            ) from None
        raise OpcuaConnectError(f"{_where(server)}: {name(code)}") from None
    except (OSError, TimeoutError) as exc:
        await _quiet_disconnect(client)
        raise OpcuaConnectError(
            f"{_where(server)}: cannot connect: {_reason(exc, server)}"
        ) from None
    except Exception as exc:  # asyncua raises plain exceptions for protocol trouble
        await _quiet_disconnect(client)
        if server.security_policy != "None" and _while_opening_the_channel(exc):
            raise _client_refused(
                server, creds, "it closed the secure channel as it opened"
            ) from None
        raise OpcuaConnectError(f"{_where(server)}: {exc!r}") from None
    return client


def _while_opening_the_channel(exc: BaseException) -> bool:
    return any(f.name == "open_secure_channel" for f in traceback.extract_tb(exc.__traceback__))


def _client_refused(server: OpcuaServer, creds: Credentials, why: str) -> OpcuaConnectError:
    """The server does not trust this client's certificate: say which file to trust."""
    cert = creds.certificate
    try:
        print_ = f" (thumbprint {thumbprint(load_certificate_der(cert))})" if cert else ""
    except ClearwellError:
        print_ = ""
    return OpcuaConnectError(
        f"{_where(server)} does not trust this client's certificate ({why}): trust {cert}"
        f"{print_} on the server (give it to the server's administrator; many servers keep"
        " a refused certificate among their rejected ones until it is moved to the trusted"
        " ones); the collector tries again until then"
    )


async def _secure(client: Client, server: OpcuaServer, creds: Credentials) -> None:
    assert creds.trusted_server_der is not None and creds.certificate and creds.private_key
    policy_uri = _POLICY_URI[server.security_policy]
    mode = _security_mode(server.mode)
    # The endpoints are asked for over an unsecured channel (discovery), so that an
    # untrusted certificate is named as such rather than failing the handshake obscurely.
    endpoints = await client.connect_and_get_server_endpoints()
    offered = [e for e in endpoints if e.SecurityPolicyUri == policy_uri and e.SecurityMode == mode]
    if not offered:
        have = sorted(
            {f"{e.SecurityPolicyUri.rsplit('#', 1)[-1]} {e.SecurityMode.name}" for e in endpoints}
        )
        raise OpcuaConnectError(
            f"{_where(server)} offers no {server.security_policy} {server.mode} endpoint"
            f" (it offers: {', '.join(have)})"
        )
    check_trusted(server, offered[0].ServerCertificate, creds.trusted_server_der)
    await client.set_security(
        security_policies.SecurityPolicyBasic256Sha256,
        str(creds.certificate),
        str(creds.private_key),
        server_certificate=creds.trusted_server_der,
        mode=mode,
    )


def _reason(exc: BaseException, server: OpcuaServer) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {server.timeout_s:g} s"
    if isinstance(exc, ConnectionRefusedError):
        u = urlparse(server.endpoint)
        return f"connection refused by {u.hostname}:{u.port}"
    return str(exc) or type(exc).__name__


async def _quiet_disconnect(client: Client) -> None:
    try:
        await asyncio.wait_for(client.disconnect(), 2.0)
    except Exception:  # the link is already gone; nothing to close cleanly
        log.debug("disconnect raised", exc_info=True)
        client.disconnect_socket()


async def close_session(client: Client) -> None:
    await _quiet_disconnect(client)


_LIMIT_NODES = {
    "max_monitored_items_per_call": (
        ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall
    ),
    "max_nodes_per_read": ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerRead,
    "max_nodes_per_browse": (
        ua.ObjectIds.Server_ServerCapabilities_OperationLimits_MaxNodesPerBrowse
    ),
}


async def read_operation_limits(client: Client) -> OperationLimits:
    """The server's OperationLimits; a limit it does not publish counts as none."""
    ids: list[Any] = [ua.NodeId(i, 0) for i in _LIMIT_NODES.values()]  # type: ignore[arg-type]
    values = await client.uaclient.read_attributes(ids, ua.AttributeIds.Value)
    found: dict[str, int] = {}
    for field, dv in zip(_LIMIT_NODES, values, strict=True):
        good = dv.StatusCode is None or dv.StatusCode.is_good()
        v = dv.Value.Value if good and dv.Value is not None else None
        found[field] = int(v) if isinstance(v, int) and v > 0 else 0
    return OperationLimits(**found)
