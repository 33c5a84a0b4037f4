"""homelab.api.* labels from the Docker Engine API over a unix socket (the usual DOCKER_HOST)."""
import json
import socketserver
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from integrations import docker

CONTAINERS = [
    {"Names": ["/sonarr"], "Labels": {"homelab.api.enabled": "true", "homelab.api.type": "sonarr",
                                      "traefik.http.routers.tv.rule": "Host(`tv.lan`)",
                                      "com.docker.compose.service": "sonarr-svc"}},
    {"Names": ["/whoami"], "Labels": {"traefik.enable": "true"}},
]


class _UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@pytest.fixture
def docker_socket():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def address_string(self):
            return "unix"

        def do_GET(self):
            body = json.dumps(CONTAINERS if self.path.startswith("/containers/json") else {"message": "no"}).encode()
            self.send_response(200 if self.path.startswith("/containers/json") else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    path = Path(tempfile.mkdtemp()) / "docker.sock"
    server = _UnixHTTPServer(str(path), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"unix://{path}"
    server.shutdown()
    server.server_close()


def test_labels_by_container_router_and_compose_name(docker_socket):
    labels = docker.labels_by_name(docker_socket)
    expected = {"enabled": "true", "type": "sonarr"}
    assert labels["sonarr"] == labels["tv"] == labels["sonarr-svc"] == expected
    assert "whoami" not in labels


def test_an_absent_socket_is_a_docker_error(tmp_path):
    with pytest.raises(docker.DockerError, match="unreachable"):
        docker.labels_by_name(f"unix://{tmp_path}/none.sock")


def test_unknown_schemes_are_refused():
    with pytest.raises(docker.DockerError, match="not supported"):
        docker.labels_by_name("ssh://host")


def test_labels_under_traefiks_default_names(docker_socket):
    # with only traefik.enable=true, Traefik names the router and service after the container: for compose
    # "<service>_<project>" normalised ("sonarr-media"), else the container name normalised ("my-app")
    ours = {"homelab.api.enabled": "true", "homelab.api.type": "sonarr"}
    CONTAINERS.append({"Names": ["/media-sonarr-1"], "Labels": {
        **ours, "traefik.enable": "true", "com.docker.compose.service": "sonarr", "com.docker.compose.project": "media",
        "traefik.http.services.tvsvc.loadbalancer.server.port": "8989"}})
    CONTAINERS.append({"Names": ["/my_app"], "Labels": {**ours, "traefik.enable": "true"}})
    try:
        labels = docker.labels_by_name(docker_socket)
    finally:
        del CONTAINERS[2:]
    expected = {"enabled": "true", "type": "sonarr"}
    assert labels["sonarr-media"] == labels["tvsvc"] == labels["my-app"] == expected
