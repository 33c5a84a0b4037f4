"""Reading Traefik's API: routers, services and entry points (with paging), and router rules to URLs.

``parse_rule`` and ``routes`` are pure; ``fetch`` talks to Traefik through GenericAPIClient.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .client import APIError, GenericAPIClient

MAX_PAGES = 1000

# a matcher, negated or not, with its quoted arguments (which may hold parentheses: v3 regexps have groups)
_MATCHER = re.compile(r"(!\s*)?\b(Host|HostRegexp|PathPrefix|Path|HostHeader)\s*"
                      r"\(((?:\s|,|`[^`]*`|\"(?:[^\"\\]|\\.)*\")*)\)")
_ARG = re.compile(r"`([^`]*)`|\"((?:[^\"\\]|\\.)*)\"")


class TraefikError(Exception):
    """Traefik is unreachable or answered something that is not its API."""


@dataclass
class Rule:
    hosts: list[str] = field(default_factory=list)          # plain host names, in rule order
    wildcards: list[str] = field(default_factory=list)      # *.example.com (no URL invented)
    regexps: list[str] = field(default_factory=list)        # HostRegexp arguments (no URL invented)
    path_prefix: str = ""


def parse_rule(rule: str) -> Rule:
    """Hosts and path prefix of a router rule, v2 or v3 syntax:
    ``Host(`a`) || Host(`b`)``, ``Host(`a`,`b`)``, ``Host(`a`) && PathPrefix(`/x`)``, ``HostRegexp(...)``."""
    result = Rule()
    for negated, matcher, args in _MATCHER.findall(rule or ""):
        if negated:  # !Host(...), !PathPrefix(...): where the router does NOT answer
            continue
        values = [a or b for a, b in _ARG.findall(args)]
        if matcher in ("Host", "HostHeader"):
            for host in values:
                host = host.strip().lower()
                if not host:
                    continue
                bucket = result.wildcards if "*" in host else result.hosts
                if host not in bucket:
                    bucket.append(host)
        elif matcher == "HostRegexp":
            result.regexps.extend(v for v in values if v not in result.regexps)
        elif matcher in ("PathPrefix", "Path") and values and not result.path_prefix:
            prefix = values[0]
            if prefix.startswith("/") and not re.search(r"[{}*]", prefix):
                result.path_prefix = prefix.rstrip("/") if prefix != "/" else ""
    return result


def _as_list(data, kind: str) -> list[dict]:
    """Traefik answers lists (``/api/http/routers``) or, from ``/api/rawdata``, maps keyed by name. Anything else
    (an error object from a proxy in front of Traefik) is garbage, not an empty list: that would mark every
    service gone."""
    if isinstance(data, dict):
        if not data or not all(isinstance(v, dict) for v in data.values()):
            raise TraefikError(f"Traefik answered something that is not a list of {kind}")
        items = []
        for name, value in data.items():
            if isinstance(value, dict):
                item = {"name": name, **value}
                if "@" in name:
                    item.setdefault("provider", name.rsplit("@", 1)[1])
                items.append(item)
        return items
    if isinstance(data, list) and all(isinstance(i, dict) for i in data):
        return data
    raise TraefikError(f"Traefik answered something that is not a list of {kind}")


@dataclass
class Route:
    """One router as the registry sees it."""

    router: str
    name: str
    provider: str
    service: str
    rule: str
    entry_points: list[str]
    url: str
    api_url: str
    hosts: list[str]
    wildcards: list[str]
    regexps: list[str]
    path_prefix: str
    tls: bool


def _scheme_and_port(router: dict, entrypoints: dict[str, dict]) -> tuple[str, str]:
    names = router.get("entryPoints") or router.get("using") or []
    tls = router.get("tls") is not None  # Traefik lists TLS without options as "tls": {}
    port = ""
    for name in names:
        ep = entrypoints.get(name) or {}
        address = (ep.get("address") or "").split("/", 1)[0]  # [host]:port[/tcp|/udp]
        ep_port = address.rsplit(":", 1)[-1] if ":" in address else ""
        ep_tls = (ep.get("http") or {}).get("tls") is not None or ep_port == "443" or name in ("websecure", "https")
        tls = tls or ep_tls
        if ep_port and ep_port not in ("80", "443"):
            port = ep_port
        break  # the first entry point decides
    return ("https" if tls else "http"), port


def first_server_url(service: dict | None, by_name: dict[str, dict] | None = None, depth: int = 0) -> str:
    """The first load-balancer server's URL; weighted, mirroring, failover and highestRandomWeight services are
    followed to their first child that has one."""
    service = service or {}
    servers = (service.get("loadBalancer") or {}).get("servers") or []
    for server in servers:
        if isinstance(server, dict) and server.get("url"):
            return server["url"].rstrip("/")
    if not by_name or depth >= 10:
        return ""
    provider = service.get("provider") or (service.get("name", "").rsplit("@", 1)[1]
                                           if "@" in service.get("name", "") else "")
    children = []
    for kind in ("weighted", "highestRandomWeight"):
        children += [c.get("name") for c in (service.get(kind) or {}).get("services") or [] if isinstance(c, dict)]
    for kind in ("mirroring", "failover"):
        children.append((service.get(kind) or {}).get("service"))
    children.append((service.get("failover") or {}).get("fallback"))
    for child in children:
        if isinstance(child, str) and child:
            url = first_server_url(by_name.get(_qualified(child, provider)), by_name, depth + 1)
            if url:
                return url
    return ""


def _qualified(name: str, provider: str) -> str:
    return name if "@" in name or not provider else f"{name}@{provider}"


def _stripped_prefixes(names: list[str], provider: str, mws: dict[str, dict], depth: int = 0) -> list[str] | None:
    """Prefixes the router's middlewares (chains followed) strip before the backend sees the path; None when a
    stripPrefixRegex may strip anything."""
    prefixes: list[str] = []
    for name in names or []:
        full = _qualified(name, provider)
        mw = mws.get(full) or {}
        mw_provider = full.rsplit("@", 1)[1] if "@" in full else provider
        if mw.get("stripPrefixRegex"):
            return None
        prefixes.extend(p for p in ((mw.get("stripPrefix") or {}).get("prefixes") or []) if isinstance(p, str))
        chained = (mw.get("chain") or {}).get("middlewares")
        if chained and depth < 10:
            more = _stripped_prefixes(chained, mw_provider, mws, depth + 1)
            if more is None:
                return None
            prefixes.extend(more)
    return prefixes


def _backend_path(path_prefix: str, stripped: list[str] | None) -> str:
    """The part of the router's path prefix that reaches the backend."""
    if not path_prefix or stripped is None:
        return ""
    for prefix in sorted((p.rstrip("/") for p in stripped), key=len, reverse=True):
        if prefix and (path_prefix == prefix or path_prefix.startswith(prefix + "/")):
            return path_prefix[len(prefix):]
    return path_prefix


def routes(routers: list[dict], services: list[dict], entrypoints: list[dict],
           middlewares: list[dict] = ()) -> list[Route]:
    """Routers joined with their service and entry points; @internal and disabled routers are skipped."""
    svc_by_name = {s.get("name"): s for s in services}
    eps = {e.get("name"): e for e in entrypoints}
    mws = {m.get("name"): m for m in middlewares}
    out = []
    for router in routers:
        full = router.get("name") or ""
        provider = router.get("provider") or (full.rsplit("@", 1)[1] if "@" in full else "")
        service = router.get("service") or ""
        if service and "@" not in service and provider:
            service = f"{service}@{provider}"
        if provider == "internal" or service.endswith("@internal") or full.endswith("@internal"):
            continue
        if (router.get("status") or "enabled") == "disabled":
            continue
        rule = router.get("rule") or ""
        parsed = parse_rule(rule)
        scheme, port = _scheme_and_port(router, eps)
        url = ""
        if parsed.hosts:
            url = f"{scheme}://{parsed.hosts[0]}{':' + port if port else ''}{parsed.path_prefix}"
        backend = first_server_url(svc_by_name.get(service), svc_by_name)
        # the backend sees the router's path prefix unless a stripPrefix middleware takes it off
        stripped = _stripped_prefixes(router.get("middlewares") or [], provider, mws)
        api_url = backend + _backend_path(parsed.path_prefix, stripped) if backend else url
        out.append(Route(
            router=full, name=full.rsplit("@", 1)[0] if "@" in full else full, provider=provider,
            service=service, rule=rule, entry_points=list(router.get("entryPoints") or []), url=url,
            api_url=api_url, hosts=parsed.hosts, wildcards=parsed.wildcards, regexps=parsed.regexps,
            path_prefix=parsed.path_prefix, tls=scheme == "https",
        ))
    return _merge_scheme_twins(out)


def _merge_scheme_twins(routes: list[Route]) -> list[Route]:
    """One route per app where Traefik has an http and an https router for the same service, hosts and path
    (the usual ``web`` router redirecting to ``websecure``): the TLS router is kept (its URL is the one people
    browse to), named after the shorter router name, with both routers' entry points. Without this, credentials
    set on one Service would be missing on its twin."""
    groups: dict[tuple, list[Route]] = {}
    for route in routes:
        if not route.hosts:
            continue
        groups.setdefault((route.service, tuple(route.hosts), route.path_prefix), []).append(route)
    dropped = set()
    for twins in groups.values():
        if len(twins) < 2 or len({t.tls for t in twins}) < 2:
            continue  # nothing to merge, or several routers of one scheme (kept apart: they differ elsewhere)
        keep = next(t for t in twins if t.tls)
        keep.name = min((t.name for t in twins), key=lambda n: (len(n), n))
        for twin in twins:
            keep.entry_points += [ep for ep in twin.entry_points if ep not in keep.entry_points]
            if twin is not keep:
                dropped.add(id(twin))
    return [r for r in routes if id(r) not in dropped]


def client(url: str, username: str = "", password: str = "", verify: bool = True) -> GenericAPIClient:
    return GenericAPIClient(url, username=username or None, password=password or None,
                            auth_type="basic" if username else "none", verify=verify)


def fetch_all(api: GenericAPIClient, endpoint: str, per_page: int = 100) -> list:
    """Every item of a paged Traefik list: follows ``X-Next-Page`` until it wraps back (to 1)."""
    items, page, seen = [], 1, set()
    for _ in range(MAX_PAGES):
        try:
            response = api.get(endpoint, params={"page": page, "per_page": per_page}, raw=True)
        except APIError as exc:
            raise TraefikError(f"Traefik is unreachable: {exc}") from None
        if response.status_code >= 400:
            raise TraefikError(f"Traefik answered HTTP {response.status_code} for {endpoint}")
        try:
            data = response.json()
        except ValueError:
            raise TraefikError(f"Traefik answered something that is not JSON for {endpoint}") from None
        if isinstance(data, dict):  # not paged (a map, e.g. rawdata)
            return _as_list(data, endpoint)
        items.extend(_as_list(data, endpoint))
        seen.add(page)
        try:
            nxt = int(response.headers.get("X-Next-Page") or 0)
        except ValueError:
            nxt = 0
        if nxt <= page or nxt in seen:
            break
        page = nxt
    return items


def fetch(api: GenericAPIClient, per_page: int = 100) -> list[Route]:
    """The routes Traefik knows now. Raises TraefikError."""
    routers = fetch_all(api, "/api/http/routers", per_page)
    services = fetch_all(api, "/api/http/services", per_page)
    try:
        entrypoints = fetch_all(api, "/api/entrypoints", per_page)
    except TraefikError:
        entrypoints = []  # older Traefik or a restricted API: scheme then comes from TLS alone
    try:
        middlewares = fetch_all(api, "/api/http/middlewares", per_page)
    except TraefikError:
        middlewares = []  # then path prefixes are taken to reach the backend as they are
    return routes(routers, services, entrypoints, middlewares)
