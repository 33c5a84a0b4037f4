"""The bearer mode: a login's token as Authorization: Bearer, shared and renewed once on 401."""
import threading

from integrations.client import GenericAPIClient
from tests.integrations import upstreams
from tests.integrations.upstreams import PASSWORD, USER


def test_it_logs_in_once_across_threads_and_instances(fake_server):
    srv = fake_server()
    portainer = upstreams.Portainer(srv)
    errors, results = [], []

    def work():
        try:
            client = GenericAPIClient(srv.url, username=USER, password=PASSWORD)
            for _ in range(3):
                results.append(client.get("/api/endpoints"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 24
    assert portainer.logins == 1

def test_it_logs_in_again_once_on_401(fake_server):
    srv = fake_server()
    portainer = upstreams.Portainer(srv)
    client = GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_endpoint="/api/auth")
    client.get("/api/endpoints")
    portainer.revoke()
    assert client.get("/api/endpoints")[0]["Id"] == 1
    assert portainer.logins == 2
