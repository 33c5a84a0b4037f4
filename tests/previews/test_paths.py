"""Plex path -> local path through the prefix pairs, and where Plex keeps a BIF."""
import pytest

from previews.paths import MappingError, bif_path, map_path, mapping_pairs


def test_one_pair():
    assert map_path("/data/movies/a.mkv", mapping_pairs("/data", "/mnt/media")) == "/mnt/media/movies/a.mkv"


def test_several_pairs_in_the_same_order():
    pairs = mapping_pairs("/data/movies; /data/tv", "/mnt/m;/mnt/t")
    assert map_path("/data/tv/Show/e1.mkv", pairs) == "/mnt/t/Show/e1.mkv"
    assert map_path("/data/movies/a.mkv", pairs) == "/mnt/m/a.mkv"


def test_the_longest_prefix_wins_and_only_whole_components_match():
    pairs = mapping_pairs("/data;/data/tv", "/a;/b")
    assert map_path("/data/tv/x.mkv", pairs) == "/b/x.mkv"
    assert map_path("/database/x.mkv", pairs) == "/database/x.mkv"


def test_windows_plex_paths():
    assert map_path("D:\\Media\\Movies\\a.mkv", mapping_pairs("D:\\Media", "/mnt/media")) == "/mnt/media/Movies/a.mkv"


def test_no_mapping_keeps_the_path():
    assert map_path("/data/a.mkv", mapping_pairs("", "")) == "/data/a.mkv"


def test_unpaired_mappings_are_refused():
    with pytest.raises(MappingError):
        mapping_pairs("/a;/b", "/x")


def test_bif_path():
    assert bif_path("/plex", "a1b2c3") == "/plex/Media/localhost/a/1b2c3.bundle/Contents/Indexes/index-sd.bif"
