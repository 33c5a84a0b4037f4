"""``homelab.api.*`` container labels from the Docker Engine API (``DOCKER_HOST``: unix socket or tcp)."""
from __future__ import annotations

import http.client
import json
import logging
import re
import socket
from urllib.parse import urlsplit

logger = logging.getLogger("integrations.docker")

LABEL_PREFIX = "homelab.api."
_ROUTER_LABEL = re.compile(r"^traefik\.http\.(?:routers|services)\.([^.]+)\.")
MAX_BYTES = 32 * 1024 * 1024


class DockerError(Exception):
    pass


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def _get(docker_host: str, path: str, timeout: float = 5.0):
    parts = urlsplit(docker_host)
    if parts.scheme == "unix":
        conn = _UnixConnection(parts.path, timeout)
    elif parts.scheme in ("tcp", "http"):
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 2375, timeout=timeout)
    elif parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname, parts.port or 2376, timeout=timeout)
    else:
        raise DockerError(f"DOCKER_HOST scheme {parts.scheme!r} is not supported (unix, tcp, http, https)")
    try:
        conn.request("GET", path, headers={"Host": "docker"})
        response = conn.getresponse()
        body = response.read(MAX_BYTES + 1)
        if response.status >= 400:
            raise DockerError(f"Docker answered HTTP {response.status} for {path}")
        if len(body) > MAX_BYTES:
            raise DockerError("Docker's answer is too large")
        return json.loads(body)
    except (OSError, ValueError) as exc:
        raise DockerError(f"Docker is unreachable at {parts.scheme}://{parts.hostname or parts.path}: "
                          f"{type(exc).__name__}") from None
    finally:
        conn.close()


def _normalize(name: str) -> str:
    """As Traefik normalises a container or compose name into a router/service name: runs of anything but
    letters and digits become one '-'."""
    return "-".join(re.findall(r"[^\W_]+", name))


def labels_by_name(docker_host: str) -> dict[str, dict[str, str]]:
    """``{name: {"enabled": "true", "type": "sonarr", "endpoint": "/api"}}`` for every running container with
    homelab.api.* labels, under its container name and each Traefik router name its labels declare."""
    containers = _get(docker_host, "/containers/json")
    if not isinstance(containers, list):
        raise DockerError("Docker answered something that is not a container list")
    result: dict[str, dict[str, str]] = {}
    for container in containers:
        labels = container.get("Labels") or {}
        ours = {k[len(LABEL_PREFIX):]: str(v) for k, v in labels.items() if k.startswith(LABEL_PREFIX)}
        if not ours:
            continue
        names = {n.lstrip("/") for n in container.get("Names") or []}
        compose = labels.get("com.docker.compose.service")
        if compose:
            names.add(compose)
            project = labels.get("com.docker.compose.project")
            # Traefik's default router and service name: "<service>_<project>", normalised
            names.add(_normalize(f"{compose}_{project}" if project else compose))
        names.update(_normalize(n) for n in list(names))
        names.update(m.group(1) for k in labels for m in [_ROUTER_LABEL.match(k)] if m)
        for name in names:
            result[name.lower()] = ours
    return result
