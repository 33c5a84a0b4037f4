"""Thumbnails for Plex's BIF files: find ffmpeg, probe a video, run ffmpeg, pack its JPEGs into a BIF.

Only ffmpeg itself is needed (the imageio-ffmpeg wheel ships no ffprobe): stream facts come from `ffmpeg -i`,
keyframe spacing from a demux-only pass (`-c copy -f framecrc`, which marks non-key packets `F=0x0`).

How frames land at their times: a frame every `interval` seconds is picked by ffmpeg's `fps` filter, which takes
the decoded frame nearest each slot. When keyframes are at most `interval` apart, only keyframes are decoded
(`-skip_frame nokey`), as Plex's own generator does (each thumbnail is then the keyframe nearest its slot, at
most half the keyframe spacing off). When they are further apart, that would put thumbnails up to a GOP off
(11 s on a 12 s GOP), so every frame is decoded, cheaply: no deblocking (`-skip_loop_filter all`), no
non-reference frames (`-skip_frame noref`: the nearest reference frame is at most a frame or two away, so
the slot still gets a frame well within 0.5 s of its time), and the decoder's fast flags.
"""
from __future__ import annotations

import collections
import functools
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from previews.gpu import GPU, ffmpeg_messages, hwaccel_input_args, hwaccel_scale_filter
from previews.parsers import write_bif

log = logging.getLogger(__name__)

MAX_WIDTH, MAX_HEIGHT = 320, 240
# Decoder threads per ffmpeg: every frame thread holds its own frames, so more threads means more memory
# (4K HEVC at 17 threads passes 1 GB); a few threads keep one item small while items run side by side.
DEFAULT_THREADS = max(1, min(4, os.cpu_count() or 1))
PROBE_WINDOW = 60.0  # seconds of packets read (demux only) at each of up to three places to find the GOP
CANCEL_POLL = 0.25  # seconds between calls of `cancel`
KILL_GRACE = 1.0  # seconds ffmpeg gets to stop on SIGTERM before SIGKILL
HDR_TRANSFERS = ("smpte2084", "arib-std-b67")


class MediaError(Exception):
    """ffmpeg could not probe or thumbnail a file; the message says what failed and ffmpeg's last words.

    `retry_on_cpu` is true when the attempt used a GPU: the same item may well work on the CPU path."""

    def __init__(self, message: str, *, retry_on_cpu: bool = False):
        super().__init__(message)
        self.retry_on_cpu = retry_on_cpu


class Cancelled(Exception):
    """`cancel()` returned true: ffmpeg was stopped and nothing was written."""


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


@dataclass
class GenerateResult:
    frames: int
    seconds: float  # wall time of the whole generation
    mode: str  # "cpu" | "cuda" | "vaapi"
    skip_frame: str | None  # "nokey" (keyframes only) | "noref" (full decode, non-reference frames skipped)
    tonemap: str | None = None  # how HDR was mapped to SDR, or why it was not; None for SDR sources
    keyframe_gap: float | None = None
    command: list[str] = field(default_factory=list)


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
    if not streams:
        raise MediaError(f"cannot probe {video.name}: no video stream ({_tail(text, 2)})")
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
    duration_match = _DURATION.search(text)
    if not duration_match:
        raise MediaError(f"cannot probe {video.name}: ffmpeg gives no duration")
    hours, minutes, seconds = duration_match.groups()
    duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    gap, seen = keyframe_gap(video, stream=index, duration=duration, ffmpeg=ffmpeg)
    return MediaInfo(duration=duration, width=width, height=height, codec=codec, pix_fmt=pix_fmt,
                     bit_depth=bit_depth, hdr=hdr, keyframe_gap=gap, stream=index, sar=sar, keyframes_seen=seen)


def keyframe_gap(video: Path, *, stream: int, duration: float, ffmpeg: str) -> tuple[float | None, int]:
    """(largest spacing of keyframes, keyframes seen) in up to three windows of PROBE_WINDOW seconds (start,
    a third and two thirds in), reading packets without decoding. None when a window has fewer than two."""
    if duration <= 3 * PROBE_WINDOW:
        starts = [0.0]
        length = duration + 1
    else:
        starts = [0.0, duration / 3, 2 * duration / 3]
        length = PROBE_WINDOW
    largest, seen = 0.0, 0
    for start in starts:
        command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error"]
        if start:
            command += ["-ss", f"{start:.3f}"]
        command += ["-i", str(video), "-map", f"0:{stream}", "-c", "copy", "-t", f"{length:.3f}",
                    "-f", "framecrc", "-"]
        done = _run(command, f"reading the keyframes of {video.name}")
        if done.returncode != 0:
            raise MediaError(f"reading the keyframes of {video.name} failed: {_tail(done.stderr)}")
        keys = _keyframe_times(done.stdout)
        seen += len(keys)
        if len(keys) < 2:
            return None, seen
        largest = max(largest, max(b - a for a, b in zip(keys, keys[1:])))
    return largest, seen


def _keyframe_times(framecrc: str) -> list[float]:
    timebase = 1.0
    times = []
    for line in framecrc.splitlines():
        if line.startswith("#tb 0:"):
            num, den = line.split(":", 1)[1].strip().split("/")
            timebase = int(num) / int(den)
        elif line and not line.startswith("#"):
            fields = [f.strip() for f in line.split(",")]
            flags = next((f for f in fields[6:] if f.startswith("F=")), None)
            if flags is None or int(flags[2:], 16) & 1:
                times.append(int(fields[2]) * timebase)
    return sorted(times)


# --- thumbnails -------------------------------------------------------------------------------------------------

def thumbnail_size(info: MediaInfo) -> tuple[int, int]:
    """At most 320x240, the display aspect ratio kept, even sides (what the JPEG encoder's 4:2:0 wants)."""
    width, height = info.display_size
    scale = min(MAX_WIDTH / width, MAX_HEIGHT / height, 1.0)
    return max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)


def jpeg_qscale(thumbnail_quality: int) -> int:
    """thumbnail_quality 1-10 is ffmpeg's `-q:v` as it is, as in plex_generate_vid_previews: 1 is the best and
    largest, 10 the smallest; Plex's own look is about 4 (the default)."""
    if not 1 <= int(thumbnail_quality) <= 10:
        raise ValueError(f"thumbnail quality must be 1-10, not {thumbnail_quality}")
    return int(thumbnail_quality)


def tonemap_filter(info: MediaInfo, ffmpeg: str) -> tuple[str, str | None]:
    """(filters after scaling, what was done) that map an HDR10/HLG source to SDR BT.709; ("", None) for SDR."""
    if info.hdr is None:
        return "", None
    filters = ffmpeg_filters(ffmpeg)
    if "zscale" in filters and "tonemap" in filters:
        chain = (f"zscale=tin={info.hdr}:min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100,format=gbrpf32le,"
                 "zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p")
        return chain, f"zscale+tonemap (hable) from {info.hdr}"
    missing = " and ".join(name for name in ("zscale", "tonemap") if name not in filters)
    log.warning("%s: HDR (%s) but this ffmpeg has no %s filter: thumbnails are not tone-mapped and look washed "
                "out", ffmpeg, info.hdr, missing)
    return "", f"none: this ffmpeg has no {missing} filter"


def frame_count(duration: float, interval: int) -> int:
    """Thumbnails of a video: one at each multiple of `interval` before its end."""
    return max(1, math.ceil(duration / interval - 1e-6))


def build_command(video: Path, out_pattern: Path, info: MediaInfo, *, interval: int, quality: int,
                  gpu: GPU | None, ffmpeg: str, threads: int = DEFAULT_THREADS) -> tuple[list[str], dict]:
    """The ffmpeg command line and what it chose (mode, skip_frame, tonemap)."""
    width, height = thumbnail_size(info)
    keyframes_only = info.keyframe_gap is not None and info.keyframe_gap <= interval + 1e-3
    skip_frame = "nokey" if keyframes_only else "noref"
    tone, tonemap = tonemap_filter(info, ffmpeg)
    ten_bit = info.bit_depth > 8
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1",
               "-threads", str(threads), "-skip_frame", skip_frame]
    if not keyframes_only:
        command += ["-skip_loop_filter", "all", "-flags2", "fast"]
    if gpu is not None:
        command += hwaccel_input_args(gpu)
        scale = hwaccel_scale_filter(gpu, width, height, ten_bit=ten_bit and bool(tone))
    else:
        scale = f"scale=w={width}:h={height}:flags=bilinear"
        if tone:
            scale += ",format=yuv420p10le"
    # ffmpeg's fps filter keeps the last decoded frame of each slot. Full decode, round=up: slot n gets the last
    # frame at or before n x interval. Keyframes only: moving the timestamps on by interval - gap/2 and rounding
    # down gives slot n the last keyframe before n x interval + gap/2, the keyframe nearest its time.
    # start_time=0 fills slot 0 when a stream's first frame comes a little after 0.
    if keyframes_only:
        shift = interval - info.keyframe_gap / 2
        pick = f"setpts=PTS+{shift:.3f}/TB,fps=fps=1/{interval}:round=down:start_time=0:eof_action=pass"
    else:
        pick = f"fps=fps=1/{interval}:round=up:start_time=0:eof_action=pass"
    chain = ",".join(part for part in (pick, scale, tone) if part)
    command += ["-i", str(video), "-map", f"0:{info.stream}", "-an", "-sn", "-dn", "-filter_threads", "1",
                "-vf", chain, "-c:v", "mjpeg", "-q:v", str(jpeg_qscale(quality))]
    if quality == 1:
        command += ["-qmin", "1"]
    # One thumbnail per slot that starts inside the video (eof_action=pass may add one past the end).
    command += ["-frames:v", str(frame_count(info.duration, interval)), "-f", "image2", "-start_number", "0",
                str(out_pattern)]
    mode = "cpu" if gpu is None else {"nvidia": "cuda", "vaapi": "vaapi"}[gpu.kind]
    return command, {"mode": mode, "skip_frame": skip_frame, "tonemap": tonemap}


def generate_bif(video: Path, bif_path: Path, *, interval: int, quality: int, gpu: GPU | None = None,
                 cancel: Callable[[], bool] | None = None, tmp_dir: Path | None = None,
                 on_progress: Callable[[float], None] | None = None, ffmpeg: str | None = None,
                 threads: int = DEFAULT_THREADS, info: MediaInfo | None = None) -> GenerateResult:
    """Thumbnail `video` every `interval` seconds into the BIF `bif_path` (written whole or not at all).

    `gpu=None` is the CPU path; a GPU attempt that fails raises MediaError(retry_on_cpu=True). `cancel` is
    called every CANCEL_POLL seconds: when it returns true ffmpeg is stopped (SIGTERM, SIGKILL after a second)
    and Cancelled is raised. Temporary frames go to a fresh folder in `tmp_dir` that is removed in every case.
    `on_progress` gets 0.0-1.0."""
    started = time.monotonic()
    ffmpeg = ffmpeg or ffmpeg_path()
    video, bif_path = Path(video), Path(bif_path)
    if not 1 <= int(interval) <= 3600:
        raise ValueError(f"interval must be 1-3600 seconds, not {interval}")
    info = info or ffprobe_info(video, ffmpeg=ffmpeg)
    if cancel is not None and cancel():
        raise Cancelled(f"cancelled before thumbnailing {video.name}")
    frames_dir = Path(tempfile.mkdtemp(prefix="homelab-bif-", dir=tmp_dir))
    try:
        command, chosen = build_command(video, frames_dir / "%06d.jpg", info, interval=int(interval),
                                        quality=quality, gpu=gpu, ffmpeg=ffmpeg, threads=threads)
        log.info("thumbnailing %s: %s, every %s s, keyframe gap %s s, skip_frame %s%s", video.name, chosen["mode"],
                 interval, info.keyframe_gap, chosen["skip_frame"],
                 f", HDR {chosen['tonemap']}" if chosen["tonemap"] else "")
        _run_ffmpeg(command, video=video, duration=info.duration, gpu=gpu, mode=chosen["mode"], cancel=cancel,
                    on_progress=on_progress)
        frames = sorted(frames_dir.glob("*.jpg"))
        if not frames:
            raise MediaError(f"ffmpeg made no thumbnails of {video.name} ({chosen['mode']})",
                             retry_on_cpu=gpu is not None)
        if cancel is not None and cancel():
            raise Cancelled(f"cancelled while thumbnailing {video.name}")
        write_bif(bif_path, frames, int(interval) * 1000)
    finally:
        shutil.rmtree(frames_dir, ignore_errors=True)
    if on_progress is not None:
        on_progress(1.0)
    return GenerateResult(frames=len(frames), seconds=time.monotonic() - started, mode=chosen["mode"],
                          skip_frame=chosen["skip_frame"], tonemap=chosen["tonemap"],
                          keyframe_gap=info.keyframe_gap, command=command)


def _die_with_parent():  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _run_ffmpeg(command: list[str], *, video: Path, duration: float, gpu: GPU | None, mode: str,
                cancel: Callable[[], bool] | None, on_progress: Callable[[float], None] | None) -> None:
    """Run ffmpeg, feeding progress and polling cancel; MediaError with its last words when it fails."""
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                preexec_fn=_die_with_parent if os.name == "posix" else None)
    except OSError as exc:
        raise MediaError(f"ffmpeg ({command[0]}) does not run: {exc.strerror or exc}") from None
    stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
    progress = {"out_time": 0.0}

    def read_stderr():
        for raw in proc.stderr:
            stderr_tail.append(raw.decode("utf-8", "replace"))

    def read_progress():
        for raw in proc.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                progress["out_time"] = max(0, int(value)) / 1e6

    readers = [threading.Thread(target=read_stderr, daemon=True), threading.Thread(target=read_progress, daemon=True)]
    for reader in readers:
        reader.start()
    cancelled = False
    last_check = last_report = 0.0
    try:
        while True:
            try:
                proc.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if cancel is not None and now - last_check >= CANCEL_POLL:
                last_check = now
                if cancel():
                    cancelled = True
                    break
            if on_progress is not None and duration > 0 and now - last_report >= 1.0:
                last_report = now
                on_progress(min(0.99, progress["out_time"] / duration))
    finally:
        if proc.poll() is None:
            _stop(proc)
        for reader in readers:
            reader.join(timeout=2)
    if cancelled:
        raise Cancelled(f"cancelled while thumbnailing {video.name}")
    if proc.returncode != 0:
        where = f"on the GPU ({gpu.kind} {gpu.device})" if gpu is not None else "on the CPU"
        raise MediaError(f"ffmpeg failed to thumbnail {video.name} {where} (exit {proc.returncode}): "
                         f"{_tail(''.join(stderr_tail))}", retry_on_cpu=gpu is not None)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=KILL_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
