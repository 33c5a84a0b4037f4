import gzip
import io
import lzma
import resource
import zipfile
from datetime import datetime, timezone

import pytest

from epg import parsers


def items(data: bytes):
    return list(parsers.iter_guide(io.BytesIO(data)))


def test_it_reads_times_with_and_without_a_zone_offset():
    assert parsers.parse_time("20080715003000 -0600") == datetime(2008, 7, 15, 6, 30, tzinfo=timezone.utc)
    assert parsers.parse_time("20080715003000 +0130") == datetime(2008, 7, 14, 23, 0, tzinfo=timezone.utc)
    assert parsers.parse_time("20080715003000") == datetime(2008, 7, 15, 0, 30, tzinfo=timezone.utc)
    assert parsers.parse_time("200807150030") == datetime(2008, 7, 15, 0, 30, tzinfo=timezone.utc)
    assert parsers.parse_time("20010829000500 BST") == datetime(2001, 8, 28, 23, 5, tzinfo=timezone.utc)
    assert parsers.parse_time("not a date") is None
    assert parsers.parse_time("20081315000000 +0000") is None  # month 13
    assert parsers.parse_time("") is None


def test_xmltv_ns_counts_from_zero():
    assert parsers.parse_xmltv_ns("12.19/75.") == (13, 20)
    assert parsers.parse_xmltv_ns("0.0.0/1") == (1, 1)
    assert parsers.parse_xmltv_ns(".5.") == (None, 6)
    assert parsers.parse_xmltv_ns("garbage") == (None, None)
    assert parsers.parse_xmltv_ns("99999999999.3.") == (None, 4)  # beyond any real season: not stored


def test_onscreen_gives_season_and_episode():
    assert parsers.parse_onscreen("S02E05") == (2, 5)
    assert parsers.parse_onscreen("S1 E12") == (1, 12)
    assert parsers.parse_onscreen("E7") == (None, 7)
    assert parsers.parse_onscreen("Part two") == (None, None)


def test_it_reads_programme_fields(fixture_path):
    result = items(fixture_path("epg", "jellyfin-schedulesdirect.xml").read_bytes())  # UTF-8 with a BOM
    channels = [i for i in result if isinstance(i, parsers.Channel)]
    programmes = [i for i in result if isinstance(i, parsers.Programme)]
    assert [c.tvg_id for c in channels] == ["EPG123.10108.schedulesdirect.org", "EPG123.10091.schedulesdirect.org"]
    assert channels[0].display_names[:2] == ["CFTO", "CTV Toronto"]
    assert channels[0].icon_url == "s10108_dark_360w_270h.png"
    first = programmes[0]
    assert first.title == "Match Game"
    assert first.start == datetime(2020, 7, 29, 0, 0, tzinfo=timezone.utc)
    assert first.stop == datetime(2020, 7, 29, 1, 0, tzinfo=timezone.utc)
    assert first.episode_xmltv_ns == "1.11.0/1" and (first.season, first.episode) == (2, 12)
    assert first.categories == ["Series", "Game Show"]
    assert first.rating == "14+"


def test_the_declared_encoding_is_honoured(fixture_path):
    data = fixture_path("epg", "jellyfin-multilanguage.xml").read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    programmes = [i for i in items(data) if isinstance(i, parsers.Programme)]
    # English preferred over a first title in another language
    assert programmes[0].title == "Homes Under the Hammer - English"
    latin = ('<?xml version="1.0" encoding="ISO-8859-1"?><tv><programme start="20250101000000" channel="c">'
             '<title>Caf\xe9 cr\xe8me</title></programme></tv>').encode("latin-1")
    assert items(latin)[0].title == "Café crème"


def test_entities_are_decoded_once(fixture_path):
    programme = [i for i in items(fixture_path("epg", "own-entities.xml").read_bytes())
                 if isinstance(i, parsers.Programme)][0]
    assert programme.title == "Fish & Chips <Live>"
    assert programme.description == "&amp; stays literal; quotes \"here\" and 'there'; été"


def test_an_entity_expansion_bomb_is_refused_with_flat_memory(fixture_path):
    data = fixture_path("epg", "own-entity-bomb.xml").read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(parsers.GuideError, match="declares XML entities"):
        items(data)
    # fully expanded, &g; would be 84 x 30^6 bytes (61 GB); nothing near that was allocated
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 20 * 1024


def test_no_network_or_external_entity_is_fetched(fake_server):
    srv = fake_server()
    data = (f'<?xml version="1.0"?><!DOCTYPE tv SYSTEM "{srv.url}/xmltv.dtd">'
            '<tv><programme start="20250101000000" channel="c"><title>x</title></programme></tv>').encode()
    assert items(data)[0].title == "x"
    assert srv.calls == []


def test_broken_xml_mid_file_raises_a_readable_error(fixture_path):
    stream = io.BytesIO(fixture_path("epg", "own-broken.xml").read_bytes())
    seen = []
    with pytest.raises(parsers.GuideError, match=r"Malformed XML: .*line 5"):
        for item in parsers.iter_guide(stream):
            seen.append(item)
    assert [getattr(i, "title", None) for i in seen] == [None, "Fine"]


def test_not_xml_at_all_is_an_error():
    with pytest.raises(parsers.GuideError, match="Malformed XML"):
        items(b"<html><body>Forbidden</body>")
    with pytest.raises(parsers.GuideError, match="Malformed XML"):
        items(b"")


@pytest.mark.parametrize("kind", ["gzip", "xz", "zip", "xml"])
def test_compression_is_detected_from_the_first_bytes(tmp_path, fixture_path, kind):
    xml = fixture_path("epg", "iptv-org-base.guide.xml").read_bytes()
    path = tmp_path / "guide.bin"  # the name says nothing: the bytes do
    if kind == "gzip":
        path.write_bytes(gzip.compress(xml))
    elif kind == "xz":
        path.write_bytes(lzma.compress(xml))
    elif kind == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("readme.txt", "not this one")
            zf.writestr("guide.xml", xml)
    else:
        path.write_bytes(xml)
    stream, raw, detected = parsers.open_guide(str(path))
    with stream:
        result = list(parsers.iter_guide(stream))
    assert detected == kind
    assert sum(isinstance(i, parsers.Programme) for i in result) == 6


def test_the_decompressed_size_is_capped(tmp_path):
    path = tmp_path / "g.gz"
    path.write_bytes(gzip.compress(b"<tv>" + b" " * 2_000_000 + b"</tv>"))
    stream, raw, kind = parsers.open_guide(str(path), max_xml_bytes=100_000)
    with stream, pytest.raises(parsers.GuideError, match="larger than 100000 bytes once decompressed"):
        list(parsers.iter_guide(stream))


def test_the_writer_produces_xmltv_that_reads_back(tmp_path):
    out = io.BytesIO()
    start = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)
    with parsers.GuideWriter(out) as w:
        w.channel("a.example", ["A & B"], "http://logo/a.png")
        w.programme("a.example", start, start.replace(hour=13), title="T <1>", sub_title="S", description="D",
                    categories=["News"], episode_xmltv_ns="0.1.", is_new=True, rating="PG")
    result = items(out.getvalue())
    assert result[0].display_names == ["A & B"]
    p = result[1]
    assert (p.title, p.sub_title, p.description, p.categories, p.season, p.episode, p.is_new, p.rating) == \
        ("T <1>", "S", "D", ["News"], 1, 2, True, "PG")


@pytest.mark.parametrize("kind, message", [
    ("gzip", "The gzip file is truncated"),
    ("xz", "The xz file is truncated"),
    ("gzip-corrupt", "The gzip file is damaged"),
    ("xz-corrupt", "The xz file is damaged"),
])
def test_a_truncated_or_damaged_archive_is_a_readable_error(tmp_path, fixture_path, kind, message):
    xml = fixture_path("epg", "iptv-org-base.guide.xml").read_bytes() * 1
    data = gzip.compress(xml) if kind.startswith("gzip") else lzma.compress(xml)
    if kind.endswith("corrupt"):
        data = data[:40] + bytes(b ^ 0xFF for b in data[40:80]) + data[80:]
    else:
        data = data[:-30]  # a download cut short
    path = tmp_path / "guide.bin"
    path.write_bytes(data)
    stream, raw, detected = parsers.open_guide(str(path))
    with stream, pytest.raises(parsers.GuideError, match=message):
        list(parsers.iter_guide(stream))
