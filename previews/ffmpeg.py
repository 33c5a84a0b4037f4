"""The ffmpeg binary: which one, what it has, and what it says about a video (probing with ffmpeg alone).

Only ffmpeg itself is needed (the imageio-ffmpeg wheel ships no ffprobe): stream facts come from `ffmpeg -i`,
keyframe spacing from a demux-only pass (`-c copy -f framecrc`, which marks non-key packets `F=0x0`).
"""
from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from previews.gpu import ffmpeg_messages

PROBE_WINDOW = 30.0  # seconds of packets read (demux only) at each of up to three places to find the GOP
HDR_TRANSFERS = ("smpte2084", "arib-std-b67")


class MediaError(Exception):
    """ffmpeg could not probe or thumbnail a file; the message says what failed and ffmpeg's last words.

    `retry_on_cpu` is true when the attempt used a GPU: the same item may well work on the CPU path."""

    def __init__(self, message: str, *, retry_on_cpu: bool = False):
        super().__init__(message)
        self.retry_on_cpu = retry_on_cpu


@dataclass
class MediaInfo:
    duration: float  # seconds
    width: int  # coded size
    height: int
    codec: str  # h264, hevc, ...
    pix_fmt: str  # yuv420p, yuv420p10le, ...
    bit_depth: int
    hdr: str | None  # "smpte2084" (HDR10) | "arib-std-b67" (HLG) | None
    keyframe_gap: float | None  # largest keyframe spacing seen (s); None: fewer than two keyframes seen
    stream: int = 0  # index of the video stream in the file (cover art is skipped)
    sar: tuple[int, int] = (1, 1)
    keyframes_seen: int = 0

    @property
    def display_size(self) -> tuple[int, int]:
        num, den = self.sar
        width = self.width * num / den if num > 0 and den > 0 else self.width
        return max(1, round(width)), self.height


# --- ffmpeg ---------------------------------------------------------------------------------------------

def ffmpeg_path() -> str:
    """settings.FFMPEG_PATH, else `ffmpeg` on PATH, else the imageio-ffmpeg wheel's static binary."""
    from django.conf import settings

    if settings.FFMPEG_PATH:
        return settings.FFMPEG_PATH
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.lru_cache(maxsize=8)
def ffmpeg_filters(ffmpeg: str) -> frozenset[str]:
    """Names of the filters this ffmpeg binary has."""
    try:
        done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-filters"], capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MediaError(f"ffmpeg ({ffmpeg}) does not run: {exc}") from None
    names = set()
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "->" in parts[2]:
            names.add(parts[1])
    return frozenset(names)


@functools.lru_cache(maxsize=8)
def ffmpeg_version(ffmpeg: str) -> tuple[int, int] | None:
    """(major, minor) of this ffmpeg; (99, 0) for a git master build; None when it cannot be told."""
    done = _run([ffmpeg, "-hide_banner", "-version"], "asking ffmpeg its version", timeout=30)
    first = done.stdout.split("\n", 1)[0]
    if re.match(r"ffmpeg version N-", first):
        return (99, 0)
    found = re.match(r"ffmpeg version n?(\d+)\.(\d+)", first)
    return (int(found.group(1)), int(found.group(2))) if found else None


def keyframe_feeder_works(ffmpeg: str) -> bool:
    """Whether this ffmpeg keeps the timestamps of packets a bitstream filter drops others around (ffmpeg 5.1
    rewrites them as if no packet had been dropped, 4 s becomes 2 s; 9.0 keeps them; versions between are
    untested, so they read the file in one process as 5.1 does)."""
    version = ffmpeg_version(ffmpeg)
    return version is not None and version >= (9, 0)


def _run(command: list[str], what: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise MediaError(f"{what}: ffmpeg took more than {timeout:.0f} s") from None
    except OSError as exc:
        raise MediaError(f"{what}: ffmpeg ({command[0]}) does not run: {exc.strerror or exc}") from None


def _tail(stderr: str, count: int = 3) -> str:
    return "; ".join(ffmpeg_messages(stderr)[-count:]) or "no message"


# --- probing -------------------------------------------------------------------------------------------------

_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VIDEO_STREAM = re.compile(r"^\s*Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: Video: (.*)$", re.M)
_SIZE = re.compile(r"^(\d{1,5})x(\d{1,5})")
_SAR = re.compile(r"\[SAR (\d+):(\d+)")
_DEPTH = re.compile(r"(\d+)(?:le|be)$")


def _split_top(text: str) -> list[str]:
    """Split `a (x, y), b(c, d), e` at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def ffprobe_info(video: Path, *, ffmpeg: str | None = None) -> MediaInfo:
    """Duration, size, codec, pixel format, bit depth, HDR transfer and keyframe spacing of `video`'s first
    video stream (cover art skipped), with ffmpeg alone."""
    ffmpeg = ffmpeg or ffmpeg_path()
    video = Path(video)
    if not video.is_file():
        raise MediaError(f"cannot probe {video}: no such file")
    done = _run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(video)], f"probing {video.name}")
    text = done.stderr
    streams = [m for m in _VIDEO_STREAM.finditer(text) if "attached pic" not in m.group(2)]
    if "Input #0" not in text:
        raise MediaError(f"cannot probe {video.name}: ffmpeg cannot read it ({_tail(text, 2)})")
    if not streams:
        raise MediaError(f"cannot probe {video.name}: it has no video stream")
    index, description = int(streams[0].group(1)), streams[0].group(2)
    parts = _split_top(description)
    codec = parts[0].split()[0]
    size_at = next((i for i, part in enumerate(parts) if _SIZE.match(part)), None)
    if size_at is None or size_at == 0:
        raise MediaError(f"cannot probe {video.name}: no frame size in {description!r}")
    width, height = (int(v) for v in _SIZE.match(parts[size_at]).groups())
    pix_fmt = re.match(r"[a-z0-9_]*", parts[size_at - 1]).group(0)
    depth = _DEPTH.search(pix_fmt)
    bit_depth = int(depth.group(1)) if depth else (10 if pix_fmt.startswith("p010") else 8)
    if bit_depth > 16:
        bit_depth = 8
    sar_match = _SAR.search(parts[size_at])
    sar = (int(sar_match.group(1)), int(sar_match.group(2))) if sar_match else (1, 1)
    hdr = next((t for t in HDR_TRANSFERS if t in parts[size_at - 1]), None)
    if hdr is None and bit_depth > 8:
        hdr = _decoded_transfer(video, index, ffmpeg)
    duration_match = _DURATION.search(text)
    if not duration_match:
        raise MediaError(f"cannot probe {video.name}: ffmpeg gives no duration")
    hours, minutes, seconds = duration_match.groups()
    duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    gap, seen = keyframe_gap(video, stream=index, duration=duration, ffmpeg=ffmpeg)
    return MediaInfo(duration=duration, width=width, height=height, codec=codec, pix_fmt=pix_fmt,
                     bit_depth=bit_depth, hdr=hdr, keyframe_gap=gap, stream=index, sar=sar, keyframes_seen=seen)


def _decoded_transfer(video: Path, stream: int, ffmpeg: str) -> str | None:
    """The HDR transfer of the first decoded frame. Some muxers leave the container's colour fields unset
    while the HEVC bitstream says PQ/HLG (ffmpeg 9 then prints `unknown` from the container)."""
    done = _run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(video), "-map", f"0:{stream}", "-frames:v", "1",
                 "-vf", "showinfo", "-f", "null", "-"], f"reading the colours of {video.name}")
    found = re.search(r"color_trc:(\S+)", done.stderr)
    return found.group(1) if found and found.group(1) in HDR_TRANSFERS else None


def keyframe_gap(video: Path, *, stream: int, duration: float, ffmpeg: str) -> tuple[float | None, int]:
    """(largest spacing of keyframes, keyframes seen) in up to three windows of PROBE_WINDOW seconds (start,
    a third and two thirds in), reading packets without decoding, in one ffmpeg (three inputs). None when a
    window has fewer than two keyframes (spacing longer than the window, or a stream without keyframe flags)."""
    if duration <= 3 * PROBE_WINDOW:
        starts, length = [0.0], duration + 1
    else:
        starts, length = [0.0, duration / 3, 2 * duration / 3], PROBE_WINDOW
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error"]
    for start in starts:
        command += ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", "-i", str(video)]
    for i in range(len(starts)):
        command += ["-map", f"{i}:{stream}"]
    command += ["-c", "copy", "-f", "framecrc", "-"]
    done = _run(command, f"reading the keyframes of {video.name}")
    if done.returncode != 0:
        raise MediaError(f"reading the keyframes of {video.name} failed: {_tail(done.stderr)}")
    largest, seen = 0.0, 0
    for keys in _keyframe_times(done.stdout, len(starts)):
        seen += len(keys)
        if len(keys) < 2:
            return None, seen
        largest = max(largest, max(b - a for a, b in zip(keys, keys[1:])))
    return largest, seen


def _keyframe_times(framecrc: str, streams: int = 1) -> list[list[float]]:
    """Keyframe times of each stream of a framecrc listing (a packet without `F=` or with bit 0 set is key)."""
    timebase = [1.0] * streams
    times: list[list[float]] = [[] for _ in range(streams)]
    for line in framecrc.splitlines():
        if line.startswith("#tb "):
            index, value = line[4:].split(":", 1)
            num, den = value.strip().split("/")
            timebase[int(index)] = int(num) / int(den)
        elif line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            index = int(fields[0])
            flags = next((f for f in fields[6:] if f.startswith("F=")), None)
            if flags is None or int(flags[2:], 16) & 1:
                times[index].append(int(fields[2]) * timebase[index])
    return [sorted(t) for t in times]


