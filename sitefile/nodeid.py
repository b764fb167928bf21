"""OPC UA node ids as a site file writes them, and their parts.

``ns=<index>;`` or ``nsu=<namespace URI>;`` (or neither, for namespace 0), then
``i=`` (numeric), ``s=`` (string), ``g=`` (guid) or ``b=`` (opaque). A server is
asked by namespace index, so a URI is looked up in its namespace array first. A URI
stays right when the server's namespace array changes (a new version of its
software, a namespace added), an index may not: ``clearwell ingest browse`` writes
URIs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

NODE_ID_PATTERN: Final = r"^(ns=\d+;|nsu=[^;]+;)?(i=\d+|s=.+|g=[0-9A-Fa-f-]{36}|b=.+)$"
_NODE_ID: Final = re.compile(r"(?:ns=(\d+);|nsu=([^;]+);)?([isgb])=(.+)")


@dataclass(frozen=True)
class NodeId:
    namespace: int | str  # the index, or the URI an ``nsu=`` names
    kind: str  # i, s, g or b
    identifier: str

    @classmethod
    def parse(cls, text: str) -> NodeId:
        m = _NODE_ID.fullmatch(text)
        if m is None:
            raise ValueError(f"not a node id: {text!r}")
        index, uri, kind, identifier = m.groups()
        return cls(uri if uri is not None else int(index or 0), kind, identifier)

    def at_index(self, index: int) -> str:
        """The node id in ``ns=`` form, its namespace being ``index`` on the server."""
        return f"ns={index};{self.kind}={self.identifier}"

    def by_uri(self, namespaces: Sequence[str]) -> str:
        """The node id in ``nsu=`` form, given the server's namespace array; namespace 0
        (OPC UA's own, the same on every server) is written without either."""
        if isinstance(self.namespace, str):
            return f"nsu={self.namespace};{self.kind}={self.identifier}"
        if self.namespace == 0:
            return f"{self.kind}={self.identifier}"
        if self.namespace >= len(namespaces):
            raise ValueError(f"namespace {self.namespace} is not in the server's namespace array")
        return f"nsu={namespaces[self.namespace]};{self.kind}={self.identifier}"
