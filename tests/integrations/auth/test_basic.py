"""The basic mode: HTTP Basic on every request."""
import pytest

from integrations.client import APIError, GenericAPIClient
from tests.integrations import upstreams
from tests.integrations.upstreams import PASSWORD, USER


def test_basic_auth(fake_server):
    srv = upstreams.basic(fake_server())
    assert GenericAPIClient(srv.url, username=USER, password=PASSWORD, auth_type="basic").get("/api/health") == {
        "status": "ok"}
    with pytest.raises(APIError) as err:
        GenericAPIClient(srv.url, username=USER, password="bad-password-1", auth_type="basic").get("/api/health")
    assert err.value.status == 401
