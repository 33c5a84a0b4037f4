"""find_by_url: a `url` source whose URL's last path segment is the output file name, whatever the host."""
from epg.remote.manager import EPGManager, match_by_filename, url_filename

from .stubs import StubClient


def src(id, url, source_type="url", is_active=True):
    return {"id": id, "name": f"s{id}", "source_type": source_type, "url": url, "is_active": is_active}


def test_url_filename_takes_the_last_path_segment():
    assert url_filename("http://teamarr:9195/teamarr.xml") == "teamarr.xml"
    assert url_filename("http://10.0.0.5:8000/output/epg.xml?token=abc") == "epg.xml"
    assert url_filename("http://host/output/epg.xml/") == "epg.xml"
    assert url_filename("http://host/output/my%20guide.xml") == "my guide.xml"
    assert url_filename("") == ""


def test_it_matches_whatever_the_host_or_ip():
    sources = [src(1, "http://other/xmltv.xml"), src(21, "http://192.168.1.20:8000/output/epg.xml")]
    assert match_by_filename(sources, "epg.xml")["id"] == 21
    sources = [src(2, "http://homelab.lan/output/epg.xml")]
    assert match_by_filename(sources, "epg.xml")["id"] == 2


def test_it_requires_the_whole_segment_not_a_substring():
    sources = [src(1, "http://host/output/myepg.xml"), src(2, "http://host/epg.xml.gz")]
    assert match_by_filename(sources, "epg.xml") is None


def test_it_skips_dummy_and_file_sources():
    sources = [src(1, "http://host/epg.xml", source_type="dummy"), src(2, "/data/epg.xml", source_type="file")]
    assert match_by_filename(sources, "epg.xml") is None


def test_it_ignores_the_query_string_and_a_missing_url():
    sources = [src(1, None), src(2, "http://host/output/epg.xml?key=1")]
    assert match_by_filename(sources, "epg.xml")["id"] == 2


def test_a_full_url_prefers_the_source_with_the_same_path_on_another_host():
    sources = [src(1, "http://a.lan/other/epg.xml"), src(2, "http://10.0.0.9:8000/output/epg.xml")]
    assert match_by_filename(sources, "http://homelab.lan:8000/output/epg.xml")["id"] == 2
    assert match_by_filename(sources, "epg.xml")["id"] == 1  # the remote's order when nothing else decides


def test_active_sources_win_over_inactive_ones():
    sources = [src(1, "http://a/epg.xml", is_active=False), src(2, "http://b/epg.xml")]
    assert match_by_filename(sources, "epg.xml")["id"] == 2


def test_an_empty_filename_matches_nothing():
    assert match_by_filename([src(1, "http://a/")], "") is None


def test_the_manager_lists_then_matches():
    client = StubClient().on("GET", "/api/epg/sources/", (200, [src(3, "http://x/teamarr.xml"),
                                                                 src(4, "http://x/epg.xml")]))
    assert EPGManager(client).find_by_url("teamarr.xml")["id"] == 3
    assert EPGManager(client).find_by_url("nothing.xml") is None
