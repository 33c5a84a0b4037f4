"""The admin of providers (Refresh now, the last message) and channels (folded search, filters)."""
import pytest

from channels.models import Channel, Provider
from tests.channels.conftest import refresh_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(panel, make_provider):
    return refresh_now(make_provider(panel))


def test_the_provider_list_shows_the_last_message_and_refresh_now_queues(client, admin_user, loaded,
                                                                         django_capture_on_commit_callbacks):
    client.force_login(admin_user)
    page = client.get("/admin/channels/provider/")
    assert page.status_code == 200 and "215 channels" in page.content.decode()
    assert "secret-pass" not in page.content.decode()
    with django_capture_on_commit_callbacks() as callbacks:
        r = client.post("/admin/channels/provider/", {"action": "refresh_now", "_selected_action": [loaded.pk]},
                        follow=True)
    assert "Queued 1 refresh" in r.content.decode() and len(callbacks) == 1
    assert Provider.objects.get().status == "fetching"
    assert client.get(f"/admin/channels/provider/{loaded.pk}/change/").status_code == 200


def test_saving_a_provider_keeps_what_a_refresh_wrote(client, admin_user, loaded):
    client.force_login(admin_user)
    form = client.get(f"/admin/channels/provider/{loaded.pk}/change/").context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(name="renamed", include_groups="", exclude_groups="", user_agent="", service=loaded.service_id,
                file="", ttl_seconds=60)
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    Provider.objects.filter(pk=loaded.pk).update(channel_count=999)  # a refresh finishing meanwhile
    r = client.post(f"/admin/channels/provider/{loaded.pk}/change/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    provider = Provider.objects.get()
    assert (provider.name, provider.ttl_seconds, provider.channel_count) == ("renamed", 60, 999)


def test_the_channel_list_searches_folded_and_filters(client, admin_user, loaded):
    client.force_login(admin_user)
    r = client.get("/admin/channels/channel/", {"q": "ΕΡΤ"})
    assert r.status_code == 200
    r = client.get("/admin/channels/channel/", {"q": "bbc one"})
    assert "BBC One" in r.content.decode()
    r = client.get("/admin/channels/channel/", {"category__exact": "movies", "group": "VOD | Films"})
    assert r.status_code == 200 and r.context["cl"].result_count == 30
    assert Channel.objects.count() == 215
    # symbols only, which folding drops: the names that have them, as /iptv/channels answers (not every channel)
    r = client.get("/admin/channels/channel/", {"q": "Ⓖ"})
    assert r.context["cl"].result_count == Channel.objects.filter(name__contains="Ⓖ").count() < 215


@pytest.mark.parametrize("path, params", [
    ("/admin/channels/channel/", {"group": "\x00"}),
    ("/admin/channels/channel/", {"category__exact": "tv\x00"}),
    ("/admin/channels/provider/", {"status__exact": "\x00"}),
])
def test_a_nul_in_a_list_filter_is_a_400_not_a_500(client, admin_user, loaded, path, params):
    # PostgreSQL refuses NUL in text: the filter's query raised DataError, a 500
    client.force_login(admin_user)
    r = client.get(path, params)
    assert r.status_code == 400 and b"NUL" in r.content
