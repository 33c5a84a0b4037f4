"""M3U / M3U Plus playlists: a streaming parse, the stable identity of an entry, its category, and the
normalised names used for search and guide matching. Pure format code, no Django imports.

``iter_playlist(lines, header)`` reads a playlist line by line (a text file opened with
``open_playlist``) and yields one ``Entry`` per stream, keeping nothing else: memory stays constant
whatever the file size. It takes what real providers send: a UTF-8 BOM, CRLF line ends, blank and junk
lines, ``#EXTINF`` attributes quoted, single-quoted, unquoted or repeated (keys case-insensitive, the
first non-empty value wins), commas and quotes in names, ``#EXTGRP`` as the group when ``group-title`` is
missing, ``#EXTVLCOPT`` / ``#KODIPROP`` options and ``|User-Agent=`` suffixes kept with the entry, and
``catchup`` / ``catchup-days`` / ``catchup-source`` / ``tvg-rec``.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import IO, Iterable, Iterator, NamedTuple
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

CATEGORIES = ("tv", "movies", "series", "other")
KINDS = ("live", "movie", "series")

# ``#EXTINF:<duration> <attributes>,<name>``: the attribute part ends at the first comma outside quotes.
# (runs of plain characters and quoted strings, matched possessively: one way to read them, no backtracking)
_EXTINF = re.compile(r"""#EXTINF:[ \t]*(-?\d+(?:\.\d+)?)?((?:[^",]++|"[^"]*+")*+),(.*)""", re.I | re.S)
_ATTR = re.compile(r"""([A-Za-z0-9_:.-]+)[ \t]*=[ \t]*(?:"([^"]*)"|'([^']*)'|([^\s"',]+))""")
# what nearly every provider writes: key="value" only (parse_attrs checks that every "=" was one of them)
_ATTR_QUOTED = re.compile(r'([A-Za-z0-9_:.-]+)[ \t]*=[ \t]*"([^"]*)"')
_XTREAM_ID = re.compile(r"^(\d+)(?:\.[A-Za-z0-9]{1,5})?$")
_CREDENTIAL_PARAMS = {"username", "password", "user", "pass", "pwd", "token", "key", "auth", "apikey", "api_key"}
_LIVE_FORMATS = (".m3u8", ".mpd", ".ts", ".flv")
_FILE_FORMATS = (".mkv", ".mp4", ".avi", ".mov", ".wmv", ".m4v", ".webm")
_LIVE_SCHEMES = ("rtmp", "rtmps", "rtsp", "rtp", "udp", "srt", "mms")


class PlaylistError(Exception):
    """A file that is not a playlist at all; the message is meant for the provider's ``last_message``."""


@dataclass
class Header:
    """What the ``#EXTM3U`` line says: the guide URL(s) (``x-tvg-url`` / ``url-tvg`` / ``tvg-url``)."""

    seen: bool = False
    tvg_url: str = ""
    attrs: dict = field(default_factory=dict)
    junk: int = 0  # lines that are neither a directive, a comment nor a URL (a placeholder, or damage)


@dataclass(slots=True)
class Entry:
    name: str
    url: str
    duration: float = -1
    tvg_id: str = ""
    tvg_name: str = ""
    logo: str = ""
    group: str = ""
    chno: str = ""
    catchup: str = ""
    catchup_days: int | None = None
    catchup_source: str = ""
    tvg_rec: str = ""
    user_agent: str = ""
    options: list = field(default_factory=list)  # #EXTVLCOPT / #KODIPROP lines, as written
    attrs: dict = field(default_factory=dict)  # every attribute, keys lower-cased
    kind: str = ""  # live | movie | series | "" (from the URL; player_api may say more)
    stream_id: int | None = None
    line: int = 0

    @property
    def key(self) -> str:
        return stable_key(self.url, self.kind, self.stream_id)


def open_playlist(path) -> IO[str]:
    """A playlist file as text: UTF-8 (a BOM is dropped), undecodable bytes replaced, any line end."""
    return open(path, "r", encoding="utf-8-sig", errors="replace", newline=None)


# other spellings of the attributes we read, seen in the wild
_ALIASES = {"logo": "tvg-logo", "channel-number": "tvg-chno", "tvg-num": "tvg-chno", "catch-up": "catchup",
            "catch-up-days": "catchup-days", "timeshift": "catchup-days", "http-user-agent": "user-agent"}


def parse_attrs(text: str) -> dict:
    """Attributes of an #EXTINF or #EXTM3U line: keys lower-cased (aliases folded into one spelling), the first
    non-empty value of a repeated key wins."""
    attrs: dict[str, str] = {}
    alias = _ALIASES.get
    pairs = _ATTR_QUOTED.findall(text)
    if len(pairs) != text.count("="):  # a single-quoted or bare value, or an "=" inside a value: the full parse
        pairs = [(key, dq or sq or bare) for key, dq, sq, bare in _ATTR.findall(text)]
    for key, value in pairs:
        key = key.lower()
        key = alias(key, key)
        value = value.strip()
        old = attrs.get(key)
        if old is None or (value and not old):
            attrs[key] = value
    return attrs


def _to_int(value) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


MAX_DAYS = 2 ** 31 - 1  # the catchup_days column is a 32-bit integer
MAX_STREAM_ID = 2 ** 63 - 1  # and stream_id a 64-bit one


def _days(value) -> int | None:
    """Archive days (``catchup-days`` / ``tvg-rec``): a non-negative number that fits the column, else None."""
    days = _to_int(value)
    return days if days is not None and 0 <= days <= MAX_DAYS else None


class Raw(NamedTuple):
    """One entry as written: the lines that make it, not yet read."""

    pre: list    # #EXTGRP / #EXTVLCOPT / #KODIPROP lines before its #EXTINF (or before its URL, without one)
    extinf: str  # the #EXTINF line, "" without one
    post: list   # such lines after the #EXTINF
    url: str
    line: int    # the number of its #EXTINF line, else of its URL line

    def text(self) -> str:
        """Everything the entry is made of, for the hash that tells a repeat refresh it has not changed."""
        # joined by line breaks, which no line holds (a line may hold any other character, \x1f too)
        if not self.pre and not self.post:
            return f"{self.extinf}\n{self.url}"
        return "\n".join((*self.pre, self.extinf, *self.post, self.url))


def iter_raw(lines: Iterable[str], header: Header | None = None) -> Iterator[Raw]:
    """Yield the entries of a playlist as written (``Raw``); ``to_entry`` reads one. ``header`` (if given) is
    filled from the ``#EXTM3U`` line."""
    header = header if header is not None else Header()
    extinf, at = "", 0
    waiting: list[str] = []   # lines seen before any #EXTINF: they go with the next entry
    pre: list[str] = []       # those taken by the pending #EXTINF
    post: list[str] = []
    number = 0
    for raw in lines:
        number += 1
        if number == 1:
            raw = raw.lstrip("\ufeff")
        if "\x00" in raw:  # NUL bytes are junk (and PostgreSQL text refuses them)
            raw = raw.replace("\x00", "")
        line = raw.strip()
        if not line:
            continue
        if line[0] == "#":
            head = line[:8] if line.startswith("#EXTINF:") else line[:8].upper()
            if head == "#EXTINF:":
                # a second #EXTINF before a URL replaces the first, with what came after it
                extinf, at, pre, post, waiting = line, number, waiting, [], []
            elif head.startswith(("#EXTGRP:", "#EXTVLCO", "#KODIPRO")):
                (post if extinf else waiting).append(line)
            elif head.startswith("#EXTM3U"):
                if not header.seen:
                    header.seen = True
                    header.attrs = parse_attrs(line[7:])
                    header.tvg_url = (header.attrs.get("x-tvg-url") or header.attrs.get("url-tvg")
                                      or header.attrs.get("tvg-url") or "")
            continue  # comments and unknown directives
        if "://" not in line:
            header.junk += 1  # junk, or a placeholder such as "[NO PUBLIC STREAM]": the entry waits for a URL
            continue
        if extinf:
            yield Raw(pre, extinf, post, line, at)
            extinf, pre, post = "", [], []
        else:
            yield Raw(waiting, "", [], line, number)
            waiting = []


def to_entry(raw: Raw, kind: tuple[str, int | None] | None = None) -> Entry:
    """Read one entry: its #EXTINF attributes, ``#EXTGRP`` as the group when ``group-title`` is missing (the
    last one before the #EXTINF, else the first after it), options and their user agent. ``kind`` is
    ``stream_kind`` of its URL when the caller has it already."""
    entry = _extinf(raw.extinf, raw.line) if raw.extinf else Entry(name="", url="", line=raw.line)
    group = ""
    for line in raw.pre:
        if line[:8].upper() == "#EXTGRP:":
            group = line[8:].strip()
        else:
            entry.options.append(line)
    if group and not entry.group:
        entry.group = group
    for line in raw.post:
        if line[:8].upper() == "#EXTGRP:":
            if not entry.group:
                entry.group = line[8:].strip()
        else:
            entry.options.append(line)
            lower = line.lower()
            if "http-user-agent=" in lower and not entry.user_agent:
                entry.user_agent = line[lower.index("http-user-agent=") + 16:].strip()
    _finish(entry, raw.url, kind)
    return entry


def iter_playlist(lines: Iterable[str], header: Header | None = None) -> Iterator[Entry]:
    """Yield the entries of a playlist. ``header`` (if given) is filled from the ``#EXTM3U`` line."""
    for raw in iter_raw(lines, header):
        yield to_entry(raw)


def _extinf(line: str, number: int) -> Entry:
    m = _EXTINF.match(line)
    if m:
        duration, attr_text, name = m.group(1), m.group(2), m.group(3)
    else:  # an unclosed quote: the name is whatever follows the last comma
        body = line[8:]
        attr_text, _, name = body.rpartition(",") if "," in body else (body, "", "")
        dm = re.match(r"[ \t]*(-?\d+(?:\.\d+)?)", attr_text)
        duration = dm.group(1) if dm else None
        attr_text = attr_text[dm.end():] if dm else attr_text
    attrs = parse_attrs(attr_text) if "=" in attr_text else {}
    get = attrs.get
    days = get("catchup-days")
    rec = get("tvg-rec", "")
    entry = Entry(name.strip(), "", float(duration) if duration else -1, get("tvg-id", ""), get("tvg-name", ""),
                  get("tvg-logo", ""), get("group-title", ""), get("tvg-chno", ""), get("catchup", ""),
                  _days(days) if days else (_days(rec) if rec else None), get("catchup-source", ""), rec,
                  get("user-agent", ""), [], attrs, "", None, number)
    return entry


def _finish(entry: Entry, url: str, kind: tuple[str, int | None] | None = None) -> None:
    entry.url = url
    base, _, suffix = url.partition("|")
    if suffix and not entry.user_agent:
        for k, v in parse_qsl(suffix, keep_blank_values=True):
            if k.lower() == "user-agent":
                entry.user_agent = v
                break
    entry.kind, entry.stream_id = kind if kind is not None else stream_kind(base)
    if not entry.name:
        entry.name = entry.tvg_name or _name_from_url(base)


def _name_from_url(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    return unquote(path.rsplit("/", 1)[-1]) or url


_XTREAM_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+/(?:[^?#]*/)?(live|movie|series|timeshift)/[^/?#]+/[^/?#]+/"
                         r"(\d+)(?:\.[A-Za-z0-9]{1,5})?(?:[?#].*)?$", re.I)
_XTREAM_BARE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]+/[^/?#]+/[^/?#]+/(\d+)(?:\.[A-Za-z0-9]{1,5})?(?:[?#].*)?$")


def _stream_id(digits: str) -> int | None:
    """An Xtream stream id, or None past what the column holds (the entry is then keyed by its URL)."""
    return int(digits) if len(digits) <= 19 and int(digits) <= MAX_STREAM_ID else None


def stream_kind(url: str) -> tuple[str, int | None]:
    """(kind, Xtream stream id) from a stream URL: ``/live/u/p/123.ts`` -> ("live", 123), ``/movie/...`` ->
    "movie", ``/series/...`` -> "series", and the bare live form ``/u/p/123`` -> ("live", 123)."""
    m = _XTREAM_URL.match(url)
    if m:
        kind = m.group(1).lower()
        return ("live" if kind == "timeshift" else kind), _stream_id(m.group(2))
    m = _XTREAM_BARE.match(url)
    if m:  # get.php's live form: /<user>/<pass>/<id>
        return "live", _stream_id(m.group(1))
    lower = url.lower()
    for kind in KINDS:
        if f"/{kind}/" in lower:
            return kind, None
    return "", None


def url_without_credentials(url: str) -> str:
    """The stream URL with userinfo, credential query parameters and the Xtream ``user/pass`` path segments
    removed: what stays the same when a password changes."""
    base = url.partition("|")[0]
    try:
        parts = urlsplit(base)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return base
    netloc = f"{host}:{port}" if port else host
    segments = parts.path.split("/")
    inner = [s for s in segments if s]
    if len(inner) >= 4 and inner[-4].lower() in ("live", "movie", "series", "timeshift"):
        inner = inner[:-3] + inner[-1:]
    elif len(inner) == 3 and _XTREAM_ID.match(inner[-1]):
        inner = inner[-1:]
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in _CREDENTIAL_PARAMS]
    return urlunsplit((parts.scheme.lower(), netloc, "/" + "/".join(inner), urlencode(query), ""))


def stable_key(url: str, kind: str, stream_id: int | None) -> str:
    """The identity of an entry within its provider: the Xtream stream id where there is one, else a hash of
    the URL without credentials (a password change or a refresh does not renumber anything)."""
    if stream_id is not None:
        return f"xt:{kind or 'live'}:{stream_id}"
    digest = hashlib.blake2b(url_without_credentials(url).encode("utf-8", "replace"), digest_size=10).hexdigest()
    return f"u:{digest}"


def hash64(text: str) -> int:
    """A stable signed 64-bit hash (for BIGINT columns)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "big", signed=True)


_KIND_BITS = {"live": 1, "movie": 2, "series": 3}


def key_hash(kind: str, stream_id: int | None, key: str) -> int:
    """The 64-bit form of ``stable_key``: an Xtream id packed with its kind (non-negative, no hashing), else
    the hash of the key forced negative, so that the two never collide."""
    if stream_id is not None and 0 <= stream_id < (1 << 56):
        return (_KIND_BITS.get(kind or "live", 1) << 56) | stream_id
    return hash64(key) | -(1 << 63)


# --- normalised text -------------------------------------------------------------------------


def _keep_mark(ch: str) -> bool:
    # Japanese voiced marks (dakuten / handakuten) change the letter, they are not accents
    return ch in "\u3099\u309a"


_SPACES = re.compile(r"[^\S\n]+")


def fold(text: str) -> str:
    """Case-, accent- and width-insensitive text for search: NFKD, combining accents dropped, case folded,
    symbols (Free-TV's Ⓖ markers) dropped, runs of spaces collapsed (line breaks kept). Any script is kept."""
    if not text:
        return ""
    if text.isascii():
        text = text.lower()
        if "  " in text or "\t" in text or "\r" in text or "\x0b" in text or "\x0c" in text:
            text = _SPACES.sub(" ", text)
        return text.strip()
    text = "".join(ch for ch in text if unicodedata.category(ch) != "So")
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch) or _keep_mark(ch))
    return unicodedata.normalize("NFC", _SPACES.sub(" ", stripped.casefold()).strip())


_QUALITY = {"hd", "fhd", "uhd", "sd", "4k", "8k", "hevc", "h264", "h265", "hq", "lq", "1080p", "1080i", "720p",
            "2160p", "480p", "576p", "50fps", "60fps", "hdr", "raw", "backup"}
_PREFIX = re.compile(r"^(?:[a-z]{2,3}|[a-z]{2}-[a-z]{2})\s*(?:[:|]|\s-\s)\s*")
_NON_WORD = re.compile(r"[\W_]+")


def match_name(text: str) -> str:
    """The name used to match a guide channel: folded, a country prefix (``UK: ``, ``DE | ``) and quality
    suffixes (HD, FHD, UHD, 4K, SD, 1080p ...) removed, punctuation and spaces dropped."""
    folded = fold(text)
    folded = _PREFIX.sub("", folded)
    tokens = [t for t in _NON_WORD.split(folded) if t]
    while len(tokens) > 1 and tokens[-1] in _QUALITY:
        tokens.pop()
    tokens = [t for t in tokens if t not in ("hd", "fhd", "uhd", "4k")] or tokens
    return "".join(tokens)


def search_text(name: str, tvg_name: str, tvg_id: str, group: str) -> str:
    """The one column search reads: name, tvg-name, tvg-id and group folded, one a line (no match spans two)."""
    parts = [name]
    if tvg_name and tvg_name != name:
        parts.append(tvg_name)
    if tvg_id:
        parts.append(tvg_id)
    if group:
        parts.append(group)
    return fold("\n".join(parts))


# --- categories ------------------------------------------------------------------------------

_SERIES_WORDS = ("series", "serie", "seriale", "serien", "shows", "tv shows", "season", "seasons", "saison",
                 "staffel", "temporada", "stagione", "episode", "episodes", "episodio", "dizi", "novela",
                 "telenovela", "σειρα", "σειρες", "επεισοδιο", "сериал", "сериалы")
_MOVIE_WORDS = ("movie", "movies", "film", "films", "filme", "filmes", "cinema", "cine", "kino", "vod", "pelicula",
                "peliculas", "ταινια", "ταινιες", "σινεμα", "κινηματογραφος", "фильм", "фильмы", "кино", "boxoffice",
                "box office")
_TV_WORDS = ("live", "news", "sport", "sports", "kids", "music", "tv", "channel", "channels", "radio", "noticias",
             "nachrichten", "deportes", "sportif", "infantil", "musique", "musica", "actualites", "info",
             "ειδησεις", "ενημερωση", "αθλητικα", "σπορ", "παιδικα", "μουσικη", "τηλεοραση", "κανάλι", "καναλι",
             "новости", "спорт", "детские", "музыка", "тв")
_CJK_SERIES = ("ドラマ", "シリーズ", "連続", "アニメ", "电视剧", "剧集", "드라마", "시리즈")
_CJK_MOVIES = ("映画", "ムービー", "シネマ", "电影", "영화")
_CJK_TV = ("ニュース", "スポーツ", "キッズ", "音楽", "テレビ", "放送", "チャンネル", "新闻", "体育", "뉴스", "스포츠", "방송")


def _words(words: tuple[str, ...], cjk: tuple[str, ...]) -> re.Pattern:
    latin = "|".join(re.escape(fold(w)) for w in sorted(words, key=len, reverse=True))
    kana = "|".join(re.escape(fold(w)) for w in cjk)
    # a word boundary against letters of the alphabetic scripts only: "日テレNEWS24" holds the word "news"
    return re.compile(rf"(?:(?<![a-zα-ωа-яё])(?:{latin})(?![a-zα-ωа-яё]))|{kana}")


_SERIES = _words(_SERIES_WORDS, _CJK_SERIES)
_EPISODE = re.compile(r"(?<!\w)s\d{1,2}\s?e\d{1,3}(?!\w)|(?<!\w)\d{1,2}x\d{2,3}(?!\w)")
_MOVIES = _words(_MOVIE_WORDS, _CJK_MOVIES)
_TV = _words(_TV_WORDS, _CJK_TV)
_KIND_CATEGORY = {"live": "tv", "movie": "movies", "series": "series"}


def categorise(kind: str, group: str, name: str, url: str = "") -> str:
    """tv | movies | series | other: the stream kind first (URL or player_api), then group and name keywords
    in several languages, then the stream's format (an HLS/DASH/RTMP stream is live TV, a file a movie)."""
    category = _KIND_CATEGORY.get(kind)
    if category:
        return category
    g, n = fold(group), fold(name)
    for text in (g, n):
        if not text:
            continue
        if _EPISODE.search(text) or _SERIES.search(text):
            return "series"
        if _MOVIES.search(text):
            return "movies"
        if _TV.search(text):
            return "tv"
    if url:
        try:
            parts = urlsplit(url.partition("|")[0])
        except ValueError:
            return "other"
        path = parts.path.lower()
        if parts.scheme.lower() in _LIVE_SCHEMES or path.endswith(_LIVE_FORMATS) or ".m3u8" in url.lower():
            return "tv"
        if path.endswith(_FILE_FORMATS):
            return "movies"
    return "other"
