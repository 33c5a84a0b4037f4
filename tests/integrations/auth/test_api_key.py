"""The api_key mode: the key in a header or a query parameter."""
import pytest

from homelab.http import HTTPError
from integrations.client import APIError, GenericAPIClient
from tests.integrations import upstreams
from tests.integrations.upstreams import ARR_KEY


def test_it_sends_the_api_key_header(fake_server):
    srv = upstreams.arr(fake_server())
    client = GenericAPIClient(srv.url, api_key=ARR_KEY)
    assert client.auth_type == "api_key"
    assert client.get("/api/v3/system/status") == {"appName": "Sonarr", "version": "4.0.0"}
    assert srv.calls[-1].headers["x-api-key"] == ARR_KEY

def test_it_sends_the_api_key_as_a_query_parameter(fake_server):
    srv = upstreams.arr(fake_server())
    client = GenericAPIClient(srv.url, api_key=ARR_KEY, api_key_query="apikey")
    assert client.get("/api/v3/system/status")["appName"] == "Sonarr"
    assert "x-api-key" not in srv.calls[-1].headers

def test_a_wrong_key_raises_api_error_without_the_key(fake_server):
    srv = upstreams.arr(fake_server())
    client = GenericAPIClient(srv.url, api_key="wrong-key-123456")
    with pytest.raises(APIError) as err:
        client.get("/api/v3/system/status")
    assert err.value.status == 401
    assert err.value.permanent
    assert isinstance(err.value, HTTPError)
    assert "wrong-key-123456" not in str(err.value) + err.value.body
