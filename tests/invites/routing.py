"""Path-pattern routes for the fakes (tests.fakes.FakeServer matches exact paths only)."""
from __future__ import annotations

import re

from tests.fakes import FakeServer


class PatternRoutes(dict):
    """A route table whose keys may hold ``{name}`` parts: ``("GET", "/Users/{id}")``. A handler of a pattern
    gets the values as ``call.params``."""

    def get(self, key, default=None):
        found = super().get(key)
        if found is not None:
            return found
        method, path = key
        for (m, pattern), handler in self.items():
            if m not in (method, "*") or "{" not in pattern:
                continue
            regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
            match = re.match(regex, path)
            if match:
                def bound(call, handler=handler, params=match.groupdict()):
                    call.params = params
                    return handler(call)
                return bound
        return default


class PatternServer(FakeServer):
    def __init__(self, host: str = "127.0.0.1"):
        super().__init__(host)
        self.routes = PatternRoutes()
