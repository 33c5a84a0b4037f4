import pytest

from channels import services
from channels.models import Provider
from integrations.models import Service
from tests.channels.fake_xtream import FakeXtream


@pytest.fixture
def panel():
    srv = FakeXtream().start()
    yield srv
    srv.stop()


@pytest.fixture
def make_provider(db):
    def make(panel=None, *, name="panel", source_type="xtream", url=None, username="alice", password="secret-pass",
             **kw) -> Provider:
        service = None
        if source_type != "file":
            service = Service.objects.create(name=f"svc-{name}", source="manual", service_type=source_type,
                                             api_url=url or panel.url, api_username=username, api_password=password,
                                             api_auth_type="xtream" if source_type == "xtream" else "none")
        return Provider.objects.create(name=name, source_type=source_type, service=service, **kw)

    return make


def refresh_now(provider: Provider) -> Provider:
    """Claim and run a refresh in this process (what the worker does); returns the refreshed row."""
    token = services.claim_refresh(provider.pk)
    assert token is not None
    services.run_refresh(provider.pk, token)
    provider.refresh_from_db()
    return provider
