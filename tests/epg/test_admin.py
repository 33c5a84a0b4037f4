"""The admin: source list with status and counts, the "Refresh now" action, channel and programme lists."""
import pytest

from epg.models import EPGSource

from .conftest import import_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_the_source_list_shows_status_counts_and_message(admin_client, file_source):
    import_now(file_source("iptv-org-base.guide.xml", name="Guide A"))
    r = admin_client.get("/admin/epg/epgsource/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "Guide A" in page and "Success" in page and "Imported 4 channels and 6 programmes" in page
    for url in ("/admin/epg/epgchannel/", "/admin/epg/programme/", "/admin/epg/epgsource/add/"):
        assert admin_client.get(url).status_code == 200


def test_refresh_now_claims_each_source_once(admin_client, django_capture_on_commit_callbacks, monkeypatch):
    from epg import tasks

    queued = []
    monkeypatch.setattr(tasks.import_source, "delay", lambda *a: queued.append(a))
    a = EPGSource.objects.create(name="A", url="http://a.example/epg.xml")
    d = EPGSource.objects.create(name="D", source_type="dummy")
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post("/admin/epg/epgsource/", {"action": "refresh_now", "_selected_action": [a.pk, d.pk]},
                              follow=True)
    page = r.content.decode()
    assert "Queued 1 refresh(es)." in page
    assert "D: Dummy EPG sources do not require refreshing." in page
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post("/admin/epg/epgsource/", {"action": "refresh_now", "_selected_action": [a.pk]},
                              follow=True)
    assert "1 source(s) already refreshing; nothing new started." in r.content.decode()
    assert [q[0] for q in queued] == [a.pk]
