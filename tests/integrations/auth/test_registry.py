"""The registry of auth modes: every mode a Service can name is registered, and the other way round."""
from pathlib import Path

import pytest

from integrations import auth
from integrations.auth.base import AuthMode
from integrations.client import AUTH_TYPES, GenericAPIClient
from integrations.models import AUTH_TYPE_CHOICES

HERE = Path(__file__).parent


def test_every_choice_of_a_service_is_a_registered_mode():
    assert {value for value, _ in AUTH_TYPE_CHOICES if value} == set(AUTH_TYPES)
    assert set(AUTH_TYPES) >= {"api_key", "bearer", "jwt", "cookie", "basic", "jellyfin", "emby", "plex",
                               "transmission", "deluge", "xtream", "none"}


def test_every_mode_has_its_own_test_file():
    families = {"emby": "jellyfin"}  # registered under a second name of the same class
    missing = [n for n in [*AUTH_TYPES, "auto"] if not (HERE / f"test_{families.get(n, n)}.py").exists()]
    assert missing == []


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="auth_type must be one of"):
        GenericAPIClient("http://127.0.0.1:9", auth_type="kerberos")


def test_a_new_mode_is_one_class():
    @auth.register("test-header")
    class HeaderMode(AuthMode):
        def apply(self, out, entry):
            out.headers["X-Test"] = self.client.api_key

    try:
        client = GenericAPIClient("http://127.0.0.1:9", api_key="k", auth_type="test-header")
        assert client.auth_type == "test-header" and isinstance(client.mode, HeaderMode)
    finally:
        del auth.MODES["test-header"]
