"""A fake Xtream Codes panel over real HTTP: ``get.php`` (M3U Plus) and ``player_api.php``, with the habits of
real panels: numbers as strings, "N/A" and null, HTML error pages, wrong credentials answered with
``{"user_info": {"auth": 0}}``, and a connection cut in the middle of a download.

The live channels are the Free-TV fixtures (UK, Greece, Japan) given Xtream stream ids; VOD and series entries
are generated. Stream URLs carry the account's username and password, as a panel's do.

    panel = FakeXtream().start()
    panel.modes["get.php"] = "cut"            # ok | cut | html | empty | 503 | hold
    panel.modes["get_live_streams"] = "html"  # ok | html | blocked | empty | malformed
    panel.set_password("alice", "new-pass")
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from channels import parsers

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "channels"
LISTS = ("freetv-playlist_uk.m3u8", "freetv-playlist_greece.m3u8", "freetv-playlist_japan.m3u8")


def load_live() -> list[dict]:
    """The Free-TV entries as live streams with ids 1000, 1001, ...; categories per list."""
    live, sid = [], 1000
    for cat_id, name in enumerate(LISTS, start=1):
        with parsers.open_playlist(FIXTURES / name) as fh:
            for e in parsers.iter_playlist(fh):
                live.append({"stream_id": sid, "name": e.name, "tvg_id": e.tvg_id, "tvg_name": e.tvg_name,
                             "logo": e.logo, "group": e.group, "category_id": cat_id, "chno": e.chno})
                sid += 1
    return live


def generated_vod(n: int = 30) -> list[dict]:
    return [{"stream_id": 5000 + i, "name": f"Film Number {i} ({2000 + i})", "group": "VOD | Films",
             "category_id": 20 + i % 2, "ext": "mkv"} for i in range(n)]


def generated_series(n: int = 20) -> list[dict]:
    return [{"stream_id": 9000 + i, "name": f"Breaking Stuff S01E{i + 1:02d}", "group": "Series | Drama",
             "category_id": 30, "ext": "mp4"} for i in range(n)]


class FakeXtream:
    def __init__(self, accounts: dict | None = None):
        self.accounts = dict(accounts or {"alice": "secret-pass"})
        self.live = load_live()
        self.vod = generated_vod()
        self.series = generated_series()
        self.modes: dict[str, str] = {}
        self.calls: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # mode "hold": get.php waits for it
        self.release.set()
        self.extra_lines = ""  # appended to the playlist (malformed lines)
        panel = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
                with panel.lock:
                    panel.calls.append((parts.path, query))
                try:
                    panel.handle(self, parts.path, query)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # --- control -------------------------------------------------------------------------------

    def start(self) -> "FakeXtream":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def set_password(self, username: str, password: str) -> None:
        self.accounts[username] = password

    def calls_to(self, path: str, action: str | None = None) -> list[dict]:
        with self.lock:
            return [q for p, q in self.calls if p == path and (action is None or q.get("action") == action)]

    # --- answers -------------------------------------------------------------------------------

    @staticmethod
    def send(handler, status: int, body: bytes, content_type: str, *, length: int | None = None):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body) if length is None else length))
        handler.end_headers()
        handler.wfile.write(body)

    def authorised(self, query) -> bool:
        user = query.get("username", "")
        return user in self.accounts and self.accounts[user] == query.get("password")

    def handle(self, h, path: str, query: dict):
        if path == "/get.php":
            return self.get_php(h, query)
        if path == "/player_api.php":
            return self.player_api(h, query)
        self.send(h, 404, b"<html><body>404 Not Found</body></html>", "text/html")

    def playlist(self, user: str, password: str) -> str:
        base = self.url
        lines = ["#EXTM3U x-tvg-url=\"http://guide.example/epg.xml\""]
        for s in self.live:
            # the Japanese list comes without group-title: player_api.php's category names fill it in
            group = f' group-title="{s["group"]}"' if s["category_id"] != 3 else ""
            lines.append(f'#EXTINF:-1 tvg-id="{s["tvg_id"]}" tvg-name="{s["tvg_name"]}" tvg-logo="{s["logo"]}"'
                         f'{group},{s["name"]}')
            lines.append(f"{base}/{user}/{password}/{s['stream_id']}")
        for s in self.vod:
            lines.append(f'#EXTINF:-1 tvg-id="" tvg-name="{s["name"]}" tvg-logo="" group-title="{s["group"]}",'
                         f'{s["name"]}')
            lines.append(f"{base}/movie/{user}/{password}/{s['stream_id']}.{s['ext']}")
        for s in self.series:
            lines.append(f'#EXTINF:-1 tvg-id="" tvg-name="{s["name"]}" tvg-logo="" group-title="{s["group"]}",'
                         f'{s["name"]}')
            lines.append(f"{base}/series/{user}/{password}/{s['stream_id']}.{s['ext']}")
        return "\r\n".join(lines) + "\r\n" + self.extra_lines

    def get_php(self, h, query):
        mode = self.modes.get("get.php", "ok")
        if not self.authorised(query):
            return self.send(h, 403, b"<html><body><h1>403 Forbidden</h1></body></html>", "text/html")
        if mode == "503":
            return self.send(h, 503, b"<html><body>Service Unavailable</body></html>", "text/html")
        if mode == "html":
            return self.send(h, 200, b"<!DOCTYPE html><html><body>Account blocked</body></html>", "text/html")
        if mode == "empty":
            return self.send(h, 200, b"#EXTM3U\r\n", "audio/x-mpegurl")
        if mode == "hold":
            self.release.wait(30)
        body = self.playlist(query["username"], query["password"]).encode()
        if mode == "cut":
            # announce the whole body, send half of it, and drop the connection
            self.send(h, 200, body[: len(body) // 2], "audio/x-mpegurl", length=len(body))
            h.close_connection = True
            h.wfile.flush()
            h.connection.shutdown(2)
            return
        self.send(h, 200, body, "audio/x-mpegurl")

    def player_api(self, h, query):
        if not self.authorised(query):
            return self.send(h, 200, json.dumps({"user_info": {"auth": 0}}).encode(), "application/json")
        action = query.get("action", "")
        mode = self.modes.get(action or "account", "ok")
        if mode == "html":
            return self.send(h, 200, b"<html><head><title>Error</title></head><body>Error 500</body></html>",
                             "text/html")
        if mode == "blocked":
            return self.send(h, 200, b"blocked", "text/plain")
        if mode == "empty":
            return self.send(h, 200, b"", "application/json")
        if mode == "malformed":
            return self.send(h, 200, b'[{"stream_id": "1000", "category_id": ', "application/json")
        data = self.action(action, query["username"])
        self.send(h, 200, json.dumps(data).encode(), "application/json")

    def action(self, action: str, user: str):
        if action == "":
            return {"user_info": {"username": user, "auth": 1, "status": "Active", "exp_date": "1767225600",
                                  "is_trial": "0", "active_cons": "0", "max_connections": "1"},
                    "server_info": {"url": "127.0.0.1", "port": "80", "timezone": "UTC"}}
        if action == "get_live_categories":
            return [{"category_id": str(i), "category_name": name, "parent_id": 0}
                    for i, name in ((1, "UK Live"), (2, "Ελλάδα Live"), (3, "日本 Live"))]
        if action == "get_live_streams":
            # numbers as strings or ints, "N/A" and null, as real panels mix them
            return [{"num": i + 1, "name": s["name"], "stream_type": "live",
                     "stream_id": str(s["stream_id"]) if i % 2 else s["stream_id"],
                     "category_id": str(s["category_id"]) if i % 3 else s["category_id"],
                     "tv_archive": "1" if i % 5 == 0 else 0,
                     "tv_archive_duration": "7" if i % 5 == 0 else "N/A", "epg_channel_id": None}
                    for i, s in enumerate(self.live)]
        if action == "get_vod_categories":
            return [{"category_id": "20", "category_name": "Films A"}, {"category_id": 21, "category_name": "Films B"}]
        if action == "get_vod_streams":
            return [{"num": i, "name": s["name"], "stream_type": "movie", "stream_id": str(s["stream_id"]),
                     "category_id": str(s["category_id"]), "rating": "N/A", "added": None}
                    for i, s in enumerate(self.vod)]
        if action == "get_series_categories":
            return [{"category_id": "30", "category_name": "Drama"}]
        if action == "get_series":
            return [{"series_id": "77", "name": "Breaking Stuff", "category_id": "30", "rating": "N/A"}]
        return []
