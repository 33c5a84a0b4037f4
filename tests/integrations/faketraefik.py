"""A fake Traefik API over real HTTP, serving the real responses in tests/fixtures/integrations/ with paging."""
from __future__ import annotations

import json
from pathlib import Path

from tests.fakes import FakeServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "integrations"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def _listed(mapping: dict) -> list[dict]:
    items = []
    for name, value in mapping.items():
        item = {"name": name, **value}
        if "@" in name:
            item["provider"] = name.rsplit("@", 1)[1]
        items.append(item)
    return items


def fixture_data() -> dict:
    """Routers, services and entry points from every fixture file, as /api/http/* lists them."""
    raw = load("rawdata-crd.json")
    return {
        "routers": load("routers.json") + [load("router-baz-custom-tls-options.json")] + _listed(raw["routers"]),
        "services": load("services.json") + _listed(raw["services"]),
        "entrypoints": load("entrypoints.json"),
        "middlewares": _listed(raw["middlewares"]),
    }


class FakeTraefik:
    """``/api/http/routers``, ``/api/http/services``, ``/api/http/middlewares``, ``/api/entrypoints`` with ``page``/``per_page`` and
    ``X-Next-Page`` (1 on the last page, as Traefik does). Optional Basic auth."""

    def __init__(self, srv: FakeServer, data: dict | None = None, auth: str | None = None):
        self.srv, self.data, self.auth = srv, data or fixture_data(), auth
        for path, key in (("/api/http/routers", "routers"), ("/api/http/services", "services"),
                          ("/api/http/middlewares", "middlewares"), ("/api/entrypoints", "entrypoints")):
            srv.route("GET", path)(self._pager(key))

    @property
    def url(self):
        return self.srv.url

    def _pager(self, key):
        def handler(call):
            if self.auth and call.headers.get("authorization") != self.auth:
                return 401, "401 Unauthorized\n"
            items = self.data.get(key, [])
            page = int(call.query.get("page") or 1)
            per_page = int(call.query.get("per_page") or 100)
            start = (page - 1) * per_page
            chunk = items[start:start + per_page]
            nxt = page + 1 if start + per_page < len(items) else 1
            return 200, chunk, {"X-Next-Page": str(nxt)}

        return handler
