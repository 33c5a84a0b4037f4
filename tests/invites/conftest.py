"""Fixtures of the invites tests: fake Jellyfin / Emby / Plex / plex.tv over real HTTP, servers linked to them,
and an API client with an X-API-Key."""
from __future__ import annotations

import pytest

from .fake_jellyfin import FakeJellyfin
from .fake_plex import FakePlexTV, FakePMS


@pytest.fixture
def jellyfin():
    fake = FakeJellyfin().start()
    yield fake
    fake.stop()


@pytest.fixture
def emby():
    fake = FakeJellyfin(api_key="emby-key-0123456789", flavour="emby", name="Fake Emby").start()
    yield fake
    fake.stop()


@pytest.fixture
def plextv(settings):
    fake = FakePlexTV().start()
    settings.PLEX_TV_URL = fake.url
    settings.INVITES_PLEX_AUTH_URL = fake.url + "/auth"
    yield fake
    fake.stop()


@pytest.fixture
def pms(plextv):
    fake = FakePMS(token=plextv.owner_token).start()
    plextv.add_server(fake)
    yield fake
    fake.stop()


@pytest.fixture
def make_server(db):
    """make_server(fake, type, name=...) -> a verified MediaServer with its libraries scanned."""
    from invites import services

    def make(fake, server_type="jellyfin", name=None, **flags):
        key = getattr(fake, "api_key", None) or getattr(fake, "token", None)
        return services.create_server(name=name or fake.name, server_type=server_type, server_url=fake.url,
                                      api_key=key, **flags)

    return make


@pytest.fixture
def api_key(admin_user):
    from homelab.models import APIKey

    key, raw = APIKey.generate(name="Test key", user=admin_user)
    key.raw = raw
    return key


@pytest.fixture
def api(api_client, api_key):
    api_client.credentials(HTTP_X_API_KEY=api_key.raw)
    return api_client
