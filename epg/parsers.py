"""XMLTV: streaming parse and incremental write. Pure format code, no Django imports.

``open_guide(path)`` sniffs gzip / xz / zip from the first bytes and returns a binary stream of XML;
``iter_guide(stream)`` yields ``Channel`` and ``Programme`` items with lxml ``iterparse``, clearing each parsed
element (and its already-parsed siblings) so memory stays flat whatever the file size. Entity expansion, DTD
loading and network access are off; a document that declares entities in its DTD is refused outright (the
"billion laughs" family), before any expansion can happen.
"""
from __future__ import annotations

import gzip
import io
import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime, timedelta, timezone
from typing import IO, Iterator

from lxml import etree

GZIP_MAGIC = b"\x1f\x8b"
XZ_MAGIC = b"\xfd7zXZ\x00"
ZIP_MAGIC = b"PK\x03\x04"
PROLOG_PEEK = 64 * 1024


class GuideError(Exception):
    """A guide that cannot be read; the message is meant for the source's ``last_message``."""


# --- opening ---------------------------------------------------------------------------------


class _Reader(io.RawIOBase):
    """A readable raw stream whose subclasses implement ``readinto``."""

    def readable(self):
        return True

    def read(self, size=-1):
        if size is None or size < 0:
            size = 1 << 20
        buf = bytearray(size)
        n = self.readinto(buf)
        return bytes(buf[:n])


class CountingReader(_Reader):
    """Wraps a binary stream: counts bytes read, refuses more than ``limit`` (decompression bombs)."""

    def __init__(self, raw: IO[bytes], limit: int | None = None, kind: str = "xml"):
        self.raw = raw
        self.limit = limit
        self.kind = kind
        self.count = 0

    def readinto(self, b):
        try:
            data = self.raw.read(len(b))
        except EOFError:  # a download cut short
            raise GuideError(f"The {self.kind} file is truncated (it ends before its compressed data does).") from None
        except (zlib.error, lzma.LZMAError, zipfile.BadZipFile, gzip.BadGzipFile) as exc:
            raise GuideError(f"The {self.kind} file is damaged: {exc}.") from None
        n = len(data)
        self.count += n
        if self.limit is not None and self.count > self.limit:
            raise GuideError(f"The guide is larger than {self.limit} bytes once decompressed (EPG_MAX_XML_BYTES).")
        b[:n] = data
        return n

    def close(self):
        try:
            self.raw.close()
        finally:
            super().close()


def sniff(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(ZIP_MAGIC):
        return "zip"
    return "xml"


def open_guide(path: str, *, max_xml_bytes: int | None = None) -> tuple[CountingReader, IO[bytes], str]:
    """(xml stream, raw file for progress via .tell(), detected kind)."""
    raw = open(path, "rb")
    kind = sniff(raw.read(8))
    raw.seek(0)
    try:
        if kind == "gzip":
            inner = gzip.GzipFile(fileobj=raw, mode="rb")
        elif kind == "xz":
            inner = lzma.LZMAFile(raw, mode="rb")
        elif kind == "zip":
            try:
                archive = zipfile.ZipFile(raw)
            except zipfile.BadZipFile as exc:
                raise GuideError(f"The zip archive is damaged: {exc}.") from None
            names = [i for i in archive.infolist() if not i.is_dir()]
            xml_names = [i for i in names if i.filename.lower().endswith((".xml", ".xmltv"))] or names
            if not xml_names:
                raise GuideError("The zip archive holds no file.")
            inner = archive.open(xml_names[0])
        else:
            inner = raw
    except GuideError:
        raw.close()
        raise
    except (OSError, lzma.LZMAError) as exc:
        raw.close()
        raise GuideError(f"Could not open the {kind} file: {exc}.") from None
    return CountingReader(inner, max_xml_bytes, kind), raw, kind


class PrologCheckedReader(_Reader):
    """Reads ahead the document's prolog and refuses internal DTD subsets that declare entities."""

    _DOCTYPE = re.compile(rb"<!DOCTYPE\b", re.I)

    def __init__(self, raw):
        self.raw = raw
        head = b""
        while len(head) < PROLOG_PEEK:
            chunk = raw.read(PROLOG_PEEK - len(head))
            if not chunk:
                break
            head += chunk
        self._check(head)
        self._head = memoryview(head)
        self._pos = 0

    @classmethod
    def _check(cls, head: bytes):
        sample = head
        # UTF-16/32 guides: look at the ASCII letters only
        if b"\x00" in head[:200]:
            sample = head.replace(b"\x00", b"")
        if cls._DOCTYPE.search(sample) and (b"<!ENTITY" in sample.upper()):
            raise GuideError("The guide declares XML entities in its DTD; refused (entity expansion is disabled).")

    def readinto(self, b):
        if self._pos < len(self._head):
            n = min(len(b), len(self._head) - self._pos)
            b[:n] = self._head[self._pos:self._pos + n]
            self._pos += n
            return n
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        return n


# --- times -----------------------------------------------------------------------------------

_NAMED_ZONES = {"UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "BST": 60, "CET": 60, "CEST": 120, "EST": -300, "EDT": -240,
                "CST": -360, "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420}
_offset_cache: dict[str, timedelta | None] = {}


def _offset(text: str) -> timedelta | None:
    """'+0100', '-0600', '+01:00', 'BST' -> timedelta; '' -> 0 (XMLTV without a zone is read as UTC)."""
    cached = _offset_cache.get(text)
    if cached is not None or text in _offset_cache:
        return cached
    t = text.strip()
    value = None
    if not t:
        value = timedelta(0)
    elif t[0] in "+-":
        digits = t[1:].replace(":", "")
        if digits.isdigit() and len(digits) in (2, 4):
            hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
            value = timedelta(hours=hours, minutes=minutes) * (1 if t[0] == "+" else -1)
    elif t.upper() in _NAMED_ZONES:
        value = timedelta(minutes=_NAMED_ZONES[t.upper()])
    if len(_offset_cache) < 256:
        _offset_cache[text] = value
    return value


_time_cache: dict[str, datetime | None] = {}


def parse_time(text: str | None) -> datetime | None:
    """An XMLTV date ``YYYYMMDDhhmmss +zzzz`` (seconds, minutes and zone optional) as an aware UTC datetime;
    None when absent or unreadable. Guides repeat the same times across channels: results are cached."""
    if not text:
        return None
    try:
        return _time_cache[text]
    except KeyError:
        pass
    value = _parse_time(text)
    if len(_time_cache) >= 200_000:
        _time_cache.clear()
    _time_cache[text] = value
    return value


def _parse_time(text: str) -> datetime | None:
    s = text.strip()
    n = 0
    while n < len(s) and n < 14 and s[n].isdigit():
        n += 1
    if n < 8:
        return None
    try:
        dt = datetime(int(s[0:4]), int(s[4:6]), int(s[6:8]),
                      int(s[8:10]) if n >= 10 else 0, int(s[10:12]) if n >= 12 else 0,
                      int(s[12:14]) if n >= 14 else 0, tzinfo=timezone.utc)
    except ValueError:
        return None
    offset = _offset(s[n:])
    if offset is None:
        return None
    return dt - offset if offset else dt


def format_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S +0000")


# --- episode numbers -------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def parse_xmltv_ns(text: str) -> tuple[int | None, int | None]:
    """``12.19/75.`` -> (13, 20): xmltv_ns counts from zero; '' parts are unknown."""
    parts = text.replace(" ", "").split(".")
    if len(parts) < 2:
        return None, None

    def first(part):
        head = part.split("/")[0]
        return int(head) + 1 if head.isdigit() and len(head) <= 6 else None

    return first(parts[0]), first(parts[1])


_ONSCREEN = re.compile(r"S\s*(\d+)\s*[,:.\- ]?\s*E\s*(\d+)", re.I)
_ONSCREEN_E = re.compile(r"^\s*E(?:p(?:isode)?)?\.?\s*(\d+)\s*$", re.I)


@lru_cache(maxsize=8192)
def parse_onscreen(text: str) -> tuple[int | None, int | None]:
    m = _ONSCREEN.search(text)
    if m and len(m.group(1)) <= 6 and len(m.group(2)) <= 6:
        return int(m.group(1)), int(m.group(2))
    m = _ONSCREEN_E.match(text)
    if m and len(m.group(1)) <= 6:
        return None, int(m.group(1))
    return None, None


# --- items -----------------------------------------------------------------------------------

@dataclass(slots=True)
class Channel:
    tvg_id: str
    display_names: list[str] = field(default_factory=list)
    icon_url: str = ""


@dataclass(slots=True)
class Programme:
    channel: str
    start: datetime
    stop: datetime | None
    title: str = ""
    sub_title: str = ""
    description: str = ""
    categories: list[str] = field(default_factory=list)
    episode_xmltv_ns: str = ""
    episode_onscreen: str = ""
    season: int | None = None
    episode: int | None = None
    icon_url: str = ""
    rating: str = ""
    is_new: bool = False
    is_live: bool = False
    is_premiere: bool = False
    is_finale: bool = False


@dataclass
class ParseStats:
    channels: int = 0
    programmes: int = 0
    skipped: int = 0  # programmes without a channel or a readable start


def make_parser_kwargs() -> dict:
    return dict(
        events=("end",),
        tag=("channel", "programme"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,  # long descriptions; entity expansion stays off
        remove_comments=True,
        remove_pis=True,
    )


def iter_guide(stream: IO[bytes], stats: ParseStats | None = None) -> Iterator[Channel | Programme]:
    """Channels and programmes in file order. Raises GuideError on malformed XML (with the line)."""
    stats = stats if stats is not None else ParseStats()
    checked = PrologCheckedReader(stream)
    context = etree.iterparse(checked, **make_parser_kwargs())
    try:
        for _event, elem in context:
            tag = elem.tag
            if tag == "programme":
                item = _programme(elem)
                if item is None:
                    stats.skipped += 1
                else:
                    stats.programmes += 1
                    yield item
            elif tag == "channel":
                item = _channel(elem)
                if item is not None:
                    stats.channels += 1
                    yield item
            elem.clear(keep_tail=False)
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise GuideError(f"Malformed XML: {_syntax_message(exc)}") from None
    finally:
        del context


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    msg = str(exc.msg if getattr(exc, "msg", None) else exc).strip()
    line = getattr(exc, "lineno", None) or (exc.position[0] if getattr(exc, "position", None) else None)
    if line and f"line {line}" not in msg:
        msg = f"{msg} (line {line})"
    if "Document is empty" in msg or "Start tag expected" in msg:
        msg = f"not an XML document: {msg}"
    return msg


def _text(el) -> str:
    t = el.text
    if t is None and len(el):
        t = "".join(el.itertext())
    return t.strip() if t else ""


def _channel(elem) -> Channel | None:
    tvg_id = (elem.get("id") or "").strip()
    if not tvg_id:
        return None
    ch = Channel(tvg_id)
    for child in elem:
        tag = child.tag
        if tag == "display-name":
            t = _text(child)
            if t and t not in ch.display_names:
                ch.display_names.append(t)
        elif tag == "icon" and not ch.icon_url:
            ch.icon_url = (child.get("src") or "").strip()
    return ch


def _programme(elem) -> Programme | None:
    channel = elem.get("channel")
    start = parse_time(elem.get("start"))
    if not channel or start is None:
        return None
    p = Programme(channel.strip(), start, parse_time(elem.get("stop")))
    title_lang = sub_lang = desc_lang = None
    for child in elem:
        tag = child.tag
        text = child.text
        if text is not None:
            text = text.strip()
        if text is None or (not text and len(child)):
            text = _text(child)
        if tag == "title":
            if text and (not p.title or (title_lang not in (None, "", "en") and child.get("lang") == "en")):
                p.title, title_lang = text, child.get("lang")
        elif tag == "desc":
            if text and (not p.description or (desc_lang not in (None, "", "en") and child.get("lang") == "en")):
                p.description, desc_lang = text, child.get("lang")
        elif tag == "sub-title":
            if text and (not p.sub_title or (sub_lang not in (None, "", "en") and child.get("lang") == "en")):
                p.sub_title, sub_lang = text, child.get("lang")
        elif tag == "category":
            if text and text not in p.categories:
                p.categories.append(text)
        elif tag == "episode-num":
            if not text:
                continue
            system = child.get("system") or "onscreen"
            if system == "xmltv_ns" and not p.episode_xmltv_ns:
                p.episode_xmltv_ns = text
                season, episode = parse_xmltv_ns(text)
                if season is not None:
                    p.season = season
                if episode is not None:
                    p.episode = episode
            elif system == "onscreen" and not p.episode_onscreen:
                p.episode_onscreen = text
                season, episode = parse_onscreen(text)
                if p.season is None:
                    p.season = season
                if p.episode is None:
                    p.episode = episode
        elif tag == "icon":
            if not p.icon_url:
                p.icon_url = (child.get("src") or "").strip()
        elif tag == "new":
            p.is_new = True
        elif tag == "live":
            p.is_live = True
        elif tag == "premiere":
            p.is_premiere = True
        elif tag == "rating":
            if not p.rating:
                for v in child:
                    if v.tag == "value":
                        p.rating = _text(v)
                        break
        elif tag == "finale" or tag == "x-finale":
            p.is_finale = True
    if not p.title:
        p.title = "Unknown"
    return p


def iterparse_baseline(stream: IO[bytes]) -> int:
    """A bare iterparse pass (the benchmark's baseline): count elements, clearing as the importer does."""
    n = 0
    for _event, elem in etree.iterparse(stream, **make_parser_kwargs()):
        n += 1
        elem.clear(keep_tail=False)
        parent = elem.getparent()
        if parent is not None:
            while elem.getprevious() is not None:
                del parent[0]
    return n


# --- writing ---------------------------------------------------------------------------------

def _esc(text: str) -> str:
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _attr(text: str) -> str:
    text = _esc(text)
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


class GuideWriter:
    """Streaming XMLTV writer: one string per item, written through a buffer, so memory stays flat whatever the
    number of items (and it is several times faster than building an element per programme)."""

    def __init__(self, fileobj: IO[bytes], generator: str = "homelab"):
        self.fileobj = fileobj
        self.generator = generator
        self._parts: list[str] = []
        self._size = 0

    def _write(self, text: str):
        self._parts.append(text)
        self._size += len(text)
        if self._size > 1 << 20:
            self._flush()

    def _flush(self):
        self.fileobj.write("".join(self._parts).encode("utf-8"))
        self._parts.clear()
        self._size = 0

    def __enter__(self):
        self._write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n'
                    f'<tv generator-info-name="{_attr(self.generator)}">\n')
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self._write("</tv>\n")
            self._flush()
        return False

    def channel(self, tvg_id: str, display_names: list[str], icon_url: str = ""):
        parts = [f'<channel id="{_attr(tvg_id)}">']
        for name in display_names or [tvg_id]:
            parts.append(f"<display-name>{_esc(name)}</display-name>")
        if icon_url:
            parts.append(f'<icon src="{_attr(icon_url)}"/>')
        parts.append("</channel>\n")
        self._write("".join(parts))

    def programme(self, tvg_id: str, start: datetime | str, stop: datetime | str, *, title: str, sub_title: str = "",
                  description: str = "", categories=(), episode_xmltv_ns: str = "", episode_onscreen: str = "",
                  icon_url: str = "", rating: str = "", is_new=False, is_live=False, is_premiere=False,
                  is_finale=False):
        if not isinstance(start, str):
            start = format_time(start)
        if not isinstance(stop, str):
            stop = format_time(stop)
        parts = [f'<programme start="{start}" stop="{stop}" channel="{_attr(tvg_id)}"><title>{_esc(title)}</title>']
        if sub_title:
            parts.append(f"<sub-title>{_esc(sub_title)}</sub-title>")
        if description:
            parts.append(f"<desc>{_esc(description)}</desc>")
        for cat in categories or ():
            parts.append(f"<category>{_esc(cat)}</category>")
        if icon_url:
            parts.append(f'<icon src="{_attr(icon_url)}"/>')
        if episode_xmltv_ns:
            parts.append(f'<episode-num system="xmltv_ns">{_esc(episode_xmltv_ns)}</episode-num>')
        if episode_onscreen:
            parts.append(f'<episode-num system="onscreen">{_esc(episode_onscreen)}</episode-num>')
        # DTD order: premiere, last-chance, new, rating; <live/> and finales have no XMLTV element
        if is_premiere:
            parts.append("<premiere/>")
        if is_new:
            parts.append("<new/>")
        if rating:
            parts.append(f"<rating><value>{_esc(rating)}</value></rating>")
        parts.append("</programme>\n")
        self._write("".join(parts))
