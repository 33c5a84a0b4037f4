"""manage.py iptv_cache export / import: the original's cache schema, validated strictly."""
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from channels.models import Channel, Provider
from tests.channels.conftest import refresh_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(panel, make_provider):
    return refresh_now(make_provider(panel, is_default=True))


def export(tmp_path, **kw):
    path = tmp_path / "channels.json"
    call_command("iptv_cache", "export", str(path), stderr=StringIO(), **kw)
    return path, json.loads(path.read_text())


def test_export_writes_the_cache_schema(tmp_path, loaded, panel):
    _, data = export(tmp_path)
    assert set(data) == {"timestamp", "host", "channel_count", "channels"}
    assert data["host"] == panel.url and data["channel_count"] == loaded.channel_count == len(data["channels"])
    assert data["channels"][0]["name"] == "BBC One Ⓖ"
    assert "secret-pass" not in json.dumps({k: v for k, v in data.items() if k != "channels"})


def test_an_exported_cache_imports_back_keeping_ids(tmp_path, loaded):
    path, data = export(tmp_path)
    before = dict(Channel.objects.values_list("key", "id"))
    data["channels"] = data["channels"][:100]
    data["channel_count"] = 100
    data["channels"][0]["name"] = "Renamed"
    path.write_text(json.dumps(data))
    out = StringIO()
    call_command("iptv_cache", "import", str(path), stdout=out)
    assert "Imported 100 channels" in out.getvalue() and "1 changed" in out.getvalue()
    after = dict(Channel.objects.values_list("key", "id"))
    assert len(after) == 100 and all(before[k] == v for k, v in after.items())
    assert Channel.objects.get(id=data["channels"][0]["id"]).name == "Renamed"
    provider = Provider.objects.get()
    assert provider.channel_count == 100 and provider.status == "success"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("host"), "host: missing"),
    (lambda d: d.update(extra=1), "extra: unknown field"),
    (lambda d: d.update(timestamp="yesterday"), "timestamp: not an ISO 8601 date-time"),
    (lambda d: d.update(channel_count=3), "channel_count: 3, but channels has"),
    (lambda d: d.update(channel_count="7"), "channel_count: not a non-negative integer"),
    (lambda d: d.update(channels={}), "channels: not a list"),
    (lambda d: d["channels"][5].pop("stream_url"), "channels[5].stream_url: missing"),
    (lambda d: d["channels"][7].update(name=3), "channels[7].name: wrong type (int)"),
    (lambda d: d["channels"][2].update(category="films"), "channels[2].category: not one of"),
    (lambda d: d["channels"][9].update(stream_url="not a url"), "channels[9].stream_url: not a URL"),
    (lambda d: d["channels"][1].update(catchup_days=True), "channels[1].catchup_days: wrong type (bool)"),
])
def test_a_malformed_cache_is_refused_naming_the_first_bad_field_and_changes_nothing(tmp_path, loaded, change,
                                                                                        message):
    path, data = export(tmp_path)
    before = list(Channel.objects.order_by("id").values_list("id", "name", "stream_url"))
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(CommandError) as exc:
        call_command("iptv_cache", "import", str(path))
    assert message in str(exc.value) and "nothing changed" in str(exc.value)
    assert list(Channel.objects.order_by("id").values_list("id", "name", "stream_url")) == before
    assert Provider.objects.get().status == "success"


def test_a_file_that_is_not_json_is_refused(tmp_path, loaded):
    path = tmp_path / "bad.json"
    path.write_text("{nope")
    with pytest.raises(CommandError, match="not JSON"):
        call_command("iptv_cache", "import", str(path))


def test_without_a_provider_it_says_so(tmp_path):
    with pytest.raises(CommandError, match="no default IPTV provider"):
        call_command("iptv_cache", "export", str(tmp_path / "x.json"))
