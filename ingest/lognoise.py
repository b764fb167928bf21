"""Third-party log lines about events the collectors report themselves, lowered to DEBUG.

asyncua and pymodbus log what happens to a connection at WARNING or ERROR, some with a
traceback and some at every retry: asyncua's "Publish iteration crashed" when a server
restarts, "close_secure_channel was called but connection is closed" at each failed
reconnection, its parse error when a server refuses this client's certificate;
pymodbus's "Failed to connect", "No response received after 1 retries" with a frame
dump, and "Repeating....". Each of those events is one line of the collector's own,
at WARNING, saying what happened and what is done about it (a device or server down,
answering again, a certificate to trust), so these are kept for DEBUG only.
"""

from __future__ import annotations

import logging
from typing import Final

# Logger -> how the messages it logs for such events start.
EXPECTED: Final[dict[str, tuple[str, ...]]] = {
    "asyncua.client.ua_session.UaSession": (
        "Publish iteration crashed",
        "close_session was called but connection is closed",
    ),
    "asyncua.client.ua_client.UaClient": (
        "close_secure_channel was called but connection is closed",
    ),
    "asyncua.client.ua_client.UASocketProtocol": (
        "Exception raised while parsing message from server",
        "Got error status from server",
        "Received an error",
        "disconnect_socket was called but transport is None",
    ),
    "pymodbus.logging": (
        "Failed to connect",
        "Repeating....",
        "No response received after",
        "ERROR: No response received of the last requests",
        "Not connected, trying to connect",
        "Cancel send, because not connected",
        "ERROR: received pdu without a corresponding request",
    ),
}


class _Lowered(logging.Filter):
    """Logs the records whose message starts with one of ``starts`` at DEBUG."""

    def __init__(self, starts: tuple[str, ...]) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.msg
        if record.levelno <= logging.DEBUG or not isinstance(msg, str):
            return True
        if not msg.startswith(self.starts):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        # The level was checked as logged; checked again for the level it has now.
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def lower_expected_noise() -> None:
    """Lower those lines to DEBUG (once per process; the collectors call it)."""
    for name, starts in EXPECTED.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Lowered) for f in logger.filters):
            logger.addFilter(_Lowered(starts))
