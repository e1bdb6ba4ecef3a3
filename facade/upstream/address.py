"""Keep HAPI's address out of what clients see: its base URL, origin and host:port become the facade's.

HAPI writes its own base into ``Bundle.link``, ``fullUrl``, ``Location`` headers and the
diagnostics of its OperationOutcomes. The facade is the only public face, so everything relayed
from HAPI to a client passes through ``UpstreamAddress`` (the upstream client scrubs its error
answers itself; the FHIR door scrubs the answers it relays).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import orjson


class UpstreamAddress:
    """Replaces the upstream base URL (then its origin, then its host:port) by the public ones."""

    def __init__(self, upstream_base: str, public_base: str) -> None:
        upstream, public = urlsplit(upstream_base), urlsplit(public_base)
        self.upstream_base = upstream_base.rstrip("/")
        self.public_base = public_base.rstrip("/")
        origin = f"{upstream.scheme}://{upstream.netloc}"
        public_origin = f"{public.scheme}://{public.netloc}"
        self._pairs = [
            (self.upstream_base, self.public_base),
            (origin, public_origin),
            (upstream.netloc, public.netloc),
        ]
        self.marker = upstream.netloc.encode()

    def text(self, value: str) -> str:
        """``value`` with every mention of the upstream replaced."""
        if self._pairs[-1][0] not in value:
            return value
        for old, new in self._pairs:
            value = value.replace(old, new)
        return value

    def scrub(self, body: Any) -> Any:
        """A JSON body with every string that mentions the upstream rewritten (iterative, in place).

        Cheap when there is nothing to do: the body is serialised once and searched for the
        upstream host:port before any walk.
        """
        if body is None or self.marker not in orjson.dumps(body):
            return body
        stack: list[Any] = [body]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    if isinstance(value, str):
                        node[key] = self.text(value)
                    elif isinstance(value, dict | list):
                        stack.append(value)
            elif isinstance(node, list):
                for index, value in enumerate(node):
                    if isinstance(value, str):
                        node[index] = self.text(value)
                    elif isinstance(value, dict | list):
                        stack.append(value)
        return body

    def scrub_bytes(self, content: bytes) -> bytes:
        """A raw JSON answer with the upstream replaced, byte for byte otherwise (decimals keep
        their digits; URLs need no escaping in JSON, so a byte replacement is exact)."""
        if self.marker not in content:
            return content
        for old, new in self._pairs:
            content = content.replace(old.encode(), new.encode())
        return content

    def location(self, value: str) -> str:
        """A Location/Content-Location header from HAPI as a public URL (relative ones resolved)."""
        if "://" not in value:
            return f"{self.public_base}/{value.lstrip('/')}"
        return self.text(value)
