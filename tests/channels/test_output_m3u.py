"""GET /output/channels.m3u: M3U Plus for players, with tvg-ids from the guide match."""
import pytest

from channels import parsers
from epg.models import EPGChannel, EPGSource
from homelab.models import APIKey
from tests.channels.conftest import refresh_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(admin_user):
    return APIKey.generate(name="player", user=admin_user)[1]


@pytest.fixture
def loaded(panel, make_provider):
    source = EPGSource.objects.create(name="guide", source_type="file", file_path="x.xml", generation=1)
    EPGChannel.objects.create(source=source, generation=1, tvg_id="guide.itv", name="ITV1 HD")
    return refresh_now(make_provider(panel))


def parse(body: bytes):
    header = parsers.Header()
    entries = list(parsers.iter_playlist(body.decode().splitlines(), header))
    return header, entries


def test_the_playlist_has_the_live_channels_and_our_guide(api_client, loaded, key, panel):
    r = api_client.get(f"/output/channels.m3u?key={key}")
    assert r.status_code == 200 and r["Content-Type"].startswith("audio/x-mpegurl")
    header, entries = parse(b"".join(r.streaming_content))
    assert header.tvg_url == "http://testserver/output/epg.xml"
    assert len(entries) == len(panel.live)  # tv only by default
    itv = next(e for e in entries if e.name == "ITV 1")
    assert itv.tvg_id == "guide.itv"  # from the guide match (by name)
    bbc = entries[0]
    assert (bbc.name, bbc.tvg_id, bbc.group, bbc.url) == ("BBC One Ⓖ", "BBCOne.uk", "UK",
                                                          f"{panel.url}/alice/secret-pass/1000")


def test_category_and_group_filters(api_client, loaded, key):
    _, movies = parse(b"".join(api_client.get(f"/output/channels.m3u?key={key}&category=movies").streaming_content))
    assert len(movies) == 30
    _, uk = parse(b"".join(api_client.get(f"/output/channels.m3u?key={key}&group=UK").streaming_content))
    assert len(uk) == 55 and {e.group for e in uk} == {"UK"}
    r = api_client.get(f"/output/channels.m3u?key={key}&category=nope")
    assert r.status_code == 422
    # a readable comment line per error, not the Python repr of the error list
    assert r.content.decode() == "# category: Input should be 'tv', 'movies', 'series' or 'other'\n"


def test_it_is_not_open(api_client, loaded):
    assert api_client.get("/output/channels.m3u").status_code == 401
    assert api_client.get("/output/channels.m3u?key=wrong").status_code == 401


def test_any_credential_works(admin_client_jwt, loaded):
    assert admin_client_jwt.get("/output/channels.m3u").status_code == 200


def test_quotes_and_line_breaks_cannot_break_the_playlist(api_client, panel, make_provider, key):
    panel.live[0]["name"] = 'Evil" tvg-id="x'
    provider = refresh_now(make_provider(panel))
    assert provider.status == "success"
    _, entries = parse(b"".join(api_client.get(f"/output/channels.m3u?key={key}").streaming_content))
    assert len(entries) == len(panel.live)
    # the name after the comma is the rest of the line: its quotes stay; attributes cannot escape one
    assert (entries[0].name, entries[0].tvg_id) == ('Evil" tvg-id="x', "BBCOne.uk")


def test_a_nul_character_in_the_group_is_422(api_client, loaded, key):
    r = api_client.get("/output/channels.m3u", {"key": key, "group": "a\x00b"})
    assert r.status_code == 422
