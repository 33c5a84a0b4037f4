"""A fake Plex Media Server and a fake plex.tv over real HTTP (tests.fakes.FakeServer).

The Plex server answers XML as Plex does and requires ``X-Plex-Token`` (header or query) on every call, else
401 with Plex's HTML body:

- ``/identity``, ``/``: machineIdentifier, version (``/`` also friendlyName);
- ``/library/sections``: one ``Directory`` per library;
- ``/library/sections/{id}/all``: movies (``Video type="movie"``); for a show library the shows
  (``Directory type="show"``), or with ``?type=4`` every episode; ``X-Plex-Container-Size=0`` -> an empty page
  with ``totalSize``;
- ``/library/metadata/{id}/allLeaves``: a show's episodes;
- ``/library/metadata/{id}/tree``: ``MetadataItem > MediaItem > MediaPart file hash``.

plex.tv (JSON, as with ``Accept: application/json``): ``POST /api/v2/pins``, ``GET /api/v2/pins/{id}`` (the
``authToken`` once ``link(pin_id)`` was called), ``GET /api/v2/resources`` and ``GET /api/v2/user`` (token
required).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from tests.fakes import FakeServer

UNAUTHORIZED_HTML = "<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>"
XML = {"Content-Type": "text/xml;charset=utf-8"}


def _attrs(**values) -> str:
    return " ".join(f"{k}={quoteattr(str(v))}" for k, v in values.items() if v is not None)


@dataclass
class Video:
    rating_key: str
    title: str
    file: str
    hash: str
    show: str | None = None
    season: int | None = None
    episode: int | None = None


@dataclass
class Library:
    key: str
    title: str
    type: str  # movie | show
    videos: list[Video] = field(default_factory=list)


class FakePlex:
    """A Plex Media Server. ``add_movies(...)`` / ``add_show(...)`` then point the app at ``url`` + ``token``."""

    def __init__(self, server: FakeServer, token: str = "plex-token-123", name: str = "Fake Plex",
                 version: str = "1.32.0.6918"):
        self.server, self.token, self.name, self.version = server, token, name, version
        self.machine_id = "fake-machine-0001"
        self.libraries: dict[str, Library] = {}
        self._keys = itertools.count(100)
        self.url = server.url
        for path, handler in (("/identity", self._identity), ("/", self._root),
                              ("/library/sections", self._sections)):
            server.route("GET", path)(self._guarded(handler))

    # --- data ---------------------------------------------------------------------------------

    def add_library(self, key: str, title: str, type: str) -> Library:
        library = self.libraries[key] = Library(key, title, type)
        self.server.route("GET", f"/library/sections/{key}/all")(self._guarded(lambda c: self._all(c, library)))
        return library

    def add_video(self, library: Library, title: str, file: str, media_hash: str, **episode) -> Video:
        video = Video(str(next(self._keys)), title, file, media_hash, **episode)
        library.videos.append(video)
        self.server.route("GET", f"/library/metadata/{video.rating_key}/tree")(
            self._guarded(lambda c: self._tree(video)))
        if video.show:
            show_key = self._show_key(library, video.show)
            self.server.route("GET", f"/library/metadata/{show_key}/allLeaves")(
                self._guarded(lambda c: self._leaves(library, video.show)))
        return video

    def _show_key(self, library: Library, show: str) -> str:
        shows = sorted({v.show for v in library.videos if v.show})
        return f"{library.key}{shows.index(show) + 1:03d}"

    # --- handlers -----------------------------------------------------------------------------

    def _guarded(self, handler):
        def run(call):
            token = call.headers.get("x-plex-token") or call.query.get("X-Plex-Token")
            if token != self.token:
                return 401, UNAUTHORIZED_HTML, {"Content-Type": "text/html"}
            return handler(call)
        return run

    def _container(self, inner: str = "", **attrs) -> tuple:
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n<MediaContainer {_attrs(**attrs)}>{inner}</MediaContainer>'
        return 200, body, XML

    def _identity(self, call):
        return self._container(size=0, claimed=1, machineIdentifier=self.machine_id, version=self.version)

    def _root(self, call):
        return self._container(size=0, friendlyName=self.name, machineIdentifier=self.machine_id,
                               version=self.version, platform="Linux", transcoderVideo=1)

    def _sections(self, call):
        inner = "".join(
            f'<Directory {_attrs(allowSync=1, key=lib.key, type=lib.type, title=lib.title, agent="tv.plex.agents")}>'
            f'<Location id="{lib.key}" path="/data/{lib.key}"/></Directory>' for lib in self.libraries.values())
        return self._container(inner, size=len(self.libraries), title1="Plex Library")

    def _video_xml(self, library: Library, video: Video) -> str:
        if video.show:
            attrs = _attrs(ratingKey=video.rating_key, key=f"/library/metadata/{video.rating_key}", type="episode",
                           title=video.title, grandparentTitle=video.show, parentIndex=video.season,
                           index=video.episode, grandparentRatingKey=self._show_key(library, video.show))
        else:
            attrs = _attrs(ratingKey=video.rating_key, key=f"/library/metadata/{video.rating_key}", type="movie",
                           title=video.title, year=2020)
        return (f'<Video {attrs}><Media id="{video.rating_key}1" duration="3000">'
                f'<Part id="{video.rating_key}2" file={quoteattr(video.file)} size="1000"/></Media></Video>')

    def _all(self, call, library: Library):
        if library.type == "show" and call.query.get("type") != "4":
            shows = sorted({v.show for v in library.videos if v.show})
            items = [f'<Directory {_attrs(ratingKey=self._show_key(library, s), type="show", title=s)}/>'
                     for s in shows]
        else:
            items = [self._video_xml(library, v) for v in library.videos]
        total = len(items)
        if call.query.get("X-Plex-Container-Size") == "0":
            return self._container(size=0, totalSize=total, librarySectionID=library.key)
        return self._container("".join(items), size=total, totalSize=total, librarySectionID=library.key,
                               librarySectionTitle=library.title)

    def _leaves(self, library: Library, show: str):
        videos = [v for v in library.videos if v.show == show]
        return self._container("".join(self._video_xml(library, v) for v in videos), size=len(videos))

    def _tree(self, video: Video):
        inner = (f'<MetadataItem {_attrs(id=video.rating_key, title=video.title, metadataType=4 if video.show else 1)}>'
                 f'<MediaItem id="{video.rating_key}1" duration="3000">'
                 f'<MediaPart {_attrs(id=video.rating_key + "2", hash=video.hash, file=video.file, size=1000)}>'
                 f'<MediaStream id="1" streamType="1" codec="h264"/></MediaPart></MediaItem></MetadataItem>')
        return self._container(inner, size=1)


class FakePlexTV:
    """plex.tv: PINs (``link(pin_id)`` signs one in), the account's resources and the user."""

    def __init__(self, server: FakeServer, token: str = "plex-account-token-456"):
        self.server, self.token, self.url = server, token, server.url
        self.pins: dict[int, dict] = {}
        self.resources: list[dict] = []
        self._ids = itertools.count(1001)
        server.route("POST", "/api/v2/pins")(self._create_pin)
        server.route("GET", "/api/v2/resources")(self._guarded(lambda c: (200, self.resources)))
        server.route("GET", "/api/v2/user")(self._guarded(
            lambda c: (200, {"id": 1, "uuid": "u-1", "username": "plexuser", "email": "p@example.com",
                             "authToken": self.token})))

    def _guarded(self, handler):
        def run(call):
            token = call.headers.get("x-plex-token") or call.query.get("X-Plex-Token")
            if token != self.token:
                return 401, {"errors": [{"code": 1001, "message": "User could not be authenticated",
                                         "status": 401}]}
            return handler(call)
        return run

    def _create_pin(self, call):
        if not call.headers.get("x-plex-client-identifier"):
            return 400, {"errors": [{"code": 1000, "message": "X-Plex-Client-Identifier is missing",
                                     "status": 400}]}
        pin_id = next(self._ids)
        pin = {"id": pin_id, "code": f"CODE{pin_id}", "product": call.headers.get("x-plex-product"),
               "trusted": False, "clientIdentifier": call.headers["x-plex-client-identifier"],
               "expiresIn": 1800, "authToken": None, "newRegistration": None}
        self.pins[pin_id] = pin
        self.server.route("GET", f"/api/v2/pins/{pin_id}")(lambda c: (200, self.pins[pin_id]))
        return 201, pin

    def link(self, pin_id: int) -> None:
        self.pins[pin_id]["authToken"] = self.token

    def add_server(self, name: str, address: str, port: int, *, owned: bool = True, local: bool = True,
                   https: bool = False) -> None:
        protocol = "https" if https else "http"
        self.resources.append({
            "name": name, "product": "Plex Media Server", "productVersion": "1.32.0", "provides": "server",
            "clientIdentifier": f"machine-{len(self.resources) + 1}", "owned": owned, "accessToken": "srv-token",
            "connections": [
                {"protocol": protocol, "address": "relay.plex.direct", "port": 8443, "uri": "https://relay",
                 "local": False, "relay": True},
                {"protocol": protocol, "address": address, "port": port, "uri": f"{protocol}://{address}:{port}",
                 "local": local, "relay": False},
            ]})
        self.resources.append({"name": "A phone", "product": "Plex for Android", "provides": "player",
                               "clientIdentifier": "phone-1", "owned": True, "connections": []})
