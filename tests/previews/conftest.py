"""Fixtures of the previews tests: a fake Plex Media Server and a fake plex.tv over real HTTP, clients with
the web token, and settings pointing at the fake Plex."""
from __future__ import annotations

import pytest

from .fake_plex import FakePlex, FakePlexTV


@pytest.fixture
def plex(fake_server, tmp_path):
    """A Plex server with a movie library (1: two movies) and a show library (2: a show of three episodes).
    The files live under /data/... as Plex sees them; ``plex.local`` is where they are here (not created)."""
    fake = FakePlex(fake_server())
    fake.local = tmp_path / "media"
    movies = fake.add_library("1", "Movies", "movie")
    fake.add_library("3", "Music", "artist")
    shows = fake.add_library("2", "TV Shows", "show")
    fake.add_video(movies, "Big Buck Bunny", "/data/movies/Big Buck Bunny (2008)/bbb.mkv", "a1b2c3d4e5f60001")
    fake.add_video(movies, "Sintel", "/data/movies/Sintel (2010)/sintel.mp4", "b1b2c3d4e5f60002")
    for n in (1, 2, 3):
        fake.add_video(shows, f"Episode {n}", f"/data/tv/Show/Season 01/Show - s01e0{n}.mkv",
                       f"c{n}b2c3d4e5f6000{n}", show="Show", season=1, episode=n)
    return fake


@pytest.fixture
def plextv(fake_server, settings):
    fake = FakePlexTV(fake_server())
    settings.PLEX_TV_URL = fake.url
    return fake


@pytest.fixture
def web_token(db):
    from homelab.webtoken import get_web_token

    return get_web_token()


@pytest.fixture
def client(api_client, web_token):
    """The API as the dashboard calls it: ``X-Auth-Token: <web token>``."""
    api_client.credentials(HTTP_X_AUTH_TOKEN=web_token)
    return api_client


@pytest.fixture
def configured(db, plex, tmp_path):
    """Settings pointing at the fake Plex, mapping /data -> <tmp>/media, Plex's data folder <tmp>/plex."""
    from previews import services

    (tmp_path / "plex").mkdir()
    plex.local.mkdir(exist_ok=True)
    services.save_settings({"plex_url": plex.url, "plex_token": plex.token, "plex_name": plex.name,
                            "plex_config_folder": str(tmp_path / "plex"), "plex_videos_path_mapping": "/data",
                            "plex_local_videos_path_mapping": str(plex.local), "cpu_threads": 2,
                            "gpu_threads": 0, "thumbnail_interval": 1, "thumbnail_quality": 4})
    return plex


@pytest.fixture(autouse=True)
def _no_slots(db):
    """Each test starts with every ffmpeg slot free (slots live in Redis, across tests)."""
    from previews import slots

    slots.clear()
    yield


from .stack import previews_stack, stack_queue  # noqa: E402,F401 - part 2: the live stack (web server + worker)
