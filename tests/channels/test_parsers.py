"""channels.parsers: the streaming M3U parse, stable keys, categories and normalised names."""
import io
import tracemalloc

import pytest

from channels import parsers
from tests.conftest import FIXTURES

CH = FIXTURES / "channels"


def parse(name):
    header = parsers.Header()
    with parsers.open_playlist(CH / name) as fh:
        entries = list(parsers.iter_playlist(fh, header))
    return header, entries


def parse_text(text):
    header = parsers.Header()
    return header, list(parsers.iter_playlist(io.StringIO(text), header))


@pytest.fixture(scope="module")
def messy():
    return parse("own-messy.m3u")


def by_name(entries, name):
    return next(e for e in entries if e.name == name)


def test_the_header_guide_url_is_read_through_a_bom_and_crlf(messy):
    header, _ = messy
    assert header.seen
    assert header.tvg_url == "http://guide.example/epg.xml.gz"


def test_x_tvg_url_is_the_guide_url_of_a_free_tv_list():
    header, entries = parse("freetv-playlist_uk.m3u8")
    assert header.tvg_url.startswith("https://epgshare01.online/")
    assert len(entries) == 55


def test_junk_lines_and_placeholder_urls_are_skipped(messy):
    _, entries = messy
    names = [e.name for e in entries]
    assert names == ["News One HD", 'Sports, Two "Live"', "Kids Three", "Película Ñ (2020)",
                     "Breaking Stuff S01E02", "Broken Attr Channel", "Radio Four", "no-comma.ts"]


def test_attributes_quoted_unquoted_single_quoted_repeated_with_any_case(messy):
    _, entries = messy
    sports = by_name(entries, 'Sports, Two "Live"')
    assert sports.tvg_id == "sports.two"  # unquoted, upper-case key, the first one wins
    assert sports.group == "Sports"  # single-quoted
    assert sports.duration == 0
    kids = by_name(entries, "Kids Three")
    assert kids.tvg_id == "kids.three"  # an empty first value gives way to the next one
    assert by_name(entries, "Radio Four").duration == 3600.5
    assert by_name(entries, "Radio Four").tvg_id == "radio.four"


def test_extgrp_is_the_group_when_group_title_is_missing(messy):
    _, entries = messy
    assert by_name(entries, "Kids Three").group == "Kids Zone"


def test_vlc_options_and_user_agent_suffixes_are_kept(messy):
    _, entries = messy
    sports = by_name(entries, 'Sports, Two "Live"')
    assert sports.options == ["#EXTVLCOPT:http-user-agent=VLC/3.0 Custom",
                              "#EXTVLCOPT:http-referrer=http://panel.example/"]
    assert sports.user_agent == "VLC/3.0 Custom"
    kids = by_name(entries, "Kids Three")
    assert kids.url == "http://cdn.example/kids/three.m3u8|User-Agent=Mozilla/5.0&Referer=http://x"
    assert kids.user_agent == "Mozilla/5.0"


def test_catchup_attributes(messy):
    _, entries = messy
    kids = by_name(entries, "Kids Three")
    assert (kids.catchup, kids.catchup_days, kids.tvg_rec) == ("default", 7, "3")


def test_an_unclosed_quote_still_gives_the_name_after_the_last_comma(messy):
    _, entries = messy
    broken = by_name(entries, "Broken Attr Channel")
    assert broken.url == "http://cdn.example/broken.m3u8"


def test_stream_kind_and_xtream_id_from_the_url(messy):
    _, entries = messy
    assert (by_name(entries, "News One HD").kind, by_name(entries, "News One HD").stream_id) == ("live", 101)
    assert (by_name(entries, 'Sports, Two "Live"').kind, by_name(entries, 'Sports, Two "Live"').stream_id) == ("live", 102)
    assert (by_name(entries, "Película Ñ (2020)").kind, by_name(entries, "Película Ñ (2020)").stream_id) == ("movie", 5001)
    assert by_name(entries, "Breaking Stuff S01E02").kind == "series"
    assert (by_name(entries, "Kids Three").kind, by_name(entries, "Kids Three").stream_id) == ("", None)


def test_the_key_is_the_xtream_id_or_a_hash_of_the_url_without_credentials():
    assert parsers.stable_key("http://p:8080/live/alice/old/101.ts", "live", 101) == "xt:live:101"
    a = parsers.stable_key("http://u:p@cdn.example/a.m3u8?token=abc&ch=1", "", None)
    b = parsers.stable_key("http://other:pw@CDN.example/a.m3u8?ch=1&token=xyz", "", None)
    c = parsers.stable_key("http://cdn.example/a.m3u8?ch=2", "", None)
    assert a == b != c
    assert parsers.url_without_credentials("http://p:8080/movie/alice/secret/5.mkv") == "http://p:8080/movie/5.mkv"


def test_every_free_tv_entry_has_its_own_key():
    for name in ("freetv-playlist_uk.m3u8", "freetv-playlist_greece.m3u8", "freetv-playlist_japan.m3u8"):
        _, entries = parse(name)
        assert len({e.key for e in entries}) == len(entries)


def test_categories_from_kind_then_keywords_in_several_languages():
    c = parsers.categorise
    assert c("live", "Movies", "x") == "tv"
    assert c("movie", "", "") == "movies"
    assert c("", "Series | Drama", "") == "series"
    assert c("", "", "Breaking Stuff S01E02") == "series"
    assert c("", "VOD: Películas", "") == "movies"
    assert c("", "Ειδήσεις", "") == "tv"  # Greek news
    assert c("", "Ταινίες", "") == "movies"  # Greek films
    assert c("", "Σειρές", "") == "series"
    assert c("", "日本 / Japan", "日本映画専門チャンネル") == "movies"
    assert c("", "", "ホームドラマチャンネル") == "series"
    assert c("", "", "日テレNEWS24") == "tv"
    assert c("", "UK", "BBC One", "https://cdn.example/bbc/index.m3u8") == "tv"
    assert c("", "", "Something", "http://cdn.example/file.mkv") == "movies"
    assert c("", "", "Something") == "other"


def test_greek_and_japanese_lists_are_mostly_tv():
    for name in ("freetv-playlist_greece.m3u8", "freetv-playlist_japan.m3u8"):
        _, entries = parse(name)
        cats = [parsers.categorise(e.kind, e.group, e.name, e.url) for e in entries]
        assert cats.count("tv") > len(cats) * 0.8


def test_fold_is_case_accent_and_width_insensitive_in_any_script():
    assert parsers.fold("Película Ñ") == parsers.fold("PELICULA n")
    assert parsers.fold("ΕΡΤ Ειδήσεις") == parsers.fold("ερτ ειδησεις")
    assert parsers.fold("ＮＨＫ総合") == parsers.fold("nhk総合")
    assert parsers.fold("テレビ") != parsers.fold("テレヒ")  # a voiced mark is not an accent
    assert parsers.fold("BBC One Ⓖ") == "bbc one"


def test_match_name_drops_quality_suffixes_prefixes_and_punctuation():
    m = parsers.match_name
    assert m("BBC One HD") == m("bbc one") == m("BBC.One FHD") == m("UK: BBC One 4K") == m("BBC-One (UHD)") == "bbcone"
    assert m("ERT 1 Ⓖ") == "ert1"
    assert m("Télé Sud SD") == "telesud"
    assert m("HD") == "hd"


def test_the_parse_keeps_constant_memory():
    def playlist(n):
        yield "#EXTM3U\n"
        for i in range(n):
            yield f'#EXTINF:-1 tvg-id="c{i}" tvg-name="Channel {i}" group-title="G{i % 50}",Channel {i}\n'
            yield f"http://p.example:8080/live/u/p/{i}.ts\n"

    tracemalloc.start()
    count = sum(1 for _ in parsers.iter_playlist(playlist(5000)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 5000
    assert peak < 200_000


def test_an_entry_without_extinf_is_named_after_its_url():
    _, entries = parse_text("http://cdn.example/path/My%20Stream.m3u8\n")
    assert entries[0].name == "My Stream.m3u8"


@pytest.mark.parametrize("text, expected", [
    # every "=" belongs to a key="value": the quick reading
    ('tvg-id="a.b" TVG-NAME=" A b " group-title=""', {"tvg-id": "a.b", "tvg-name": "A b", "group-title": ""}),
    # an "=" inside a quoted value, a bare value, a single-quoted one: the full reading, the same rules
    ('tvg-logo="http://l/x.png?w=1&h=2" tvg-id=abc', {"tvg-logo": "http://l/x.png?w=1&h=2", "tvg-id": "abc"}),
    ("tvg-name='It''s' group-title=\"G\"", {"tvg-name": "It", "group-title": "G"}),
    ('tvg-id="" tvg-id="second" tvg-id="third" logo="L"', {"tvg-id": "second", "tvg-logo": "L"}),
    ('a = "spaced"  b="x,y"', {"a": "spaced", "b": "x,y"}),
])
def test_attributes_read_the_same_whichever_way_they_are_written(text, expected):
    assert parsers.parse_attrs(text) == expected


def test_extinf_attributes_may_hold_commas_inside_quotes():
    (entry,) = parsers.iter_playlist(['#EXTINF:-1 tvg-name="A, B" group-title="x,y",Name, with comma',
                                      "http://h/live/u/p/1.ts"])
    assert (entry.tvg_name, entry.group, entry.name, entry.duration) == ("A, B", "x,y", "Name, with comma", -1)
