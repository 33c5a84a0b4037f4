"""Thumbnails for Plex's BIF files: the ffmpeg command line, running it (cancel, progress), packing a BIF.

Finding ffmpeg and probing a video are in previews/ffmpeg.py (re-exported here: `ffmpeg_path`, `ffprobe_info`,
`MediaInfo`, `MediaError`).

How frames land at their times: ffmpeg's `fps` filter fills one slot every `interval` seconds with the last
decoded frame that falls in it. When keyframes are at most `interval` apart, only keyframes are decoded
(`-skip_frame nokey`), as Plex's own generator does, with the timestamps moved so that each slot gets the
keyframe nearest its time (at most half the keyframe spacing off). When they are further apart, that would put
thumbnails up to a GOP off (11 s on a 12 s GOP), so every frame is decoded, cheaply: no deblocking
(`-skip_loop_filter all`), no non-reference frames (`-skip_frame noref`: the slot gets the reference frame at
or just before its time, a frame or two away), and the decoder's fast flags.
"""
from __future__ import annotations

import collections
import logging
import math
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from previews.ffmpeg import (  # noqa: F401 - ffmpeg_path, ffprobe_info, MediaInfo, MediaError: this module's API
    MediaError, MediaInfo, _tail, ffmpeg_filters, ffmpeg_path, ffprobe_info, keyframe_feeder_works)
from previews.gpu import GPU, hwaccel_input_args, hwaccel_scale_filter
from previews.parsers import write_bif

log = logging.getLogger(__name__)

MAX_WIDTH, MAX_HEIGHT = 320, 240
# Decoder threads per ffmpeg: every frame thread holds its own frames, so more threads means more memory
# (4K HEVC at 17 threads passes 1 GB); a few threads keep one item small while items run side by side.
DEFAULT_THREADS = max(1, min(4, os.cpu_count() or 1))
CANCEL_POLL = 0.25  # seconds between calls of `cancel`
KILL_GRACE = 1.0  # seconds ffmpeg gets to stop on SIGTERM before SIGKILL


class Cancelled(Exception):
    """`cancel()` returned true: ffmpeg was stopped and nothing was written."""


@dataclass
class GenerateResult:
    frames: int
    seconds: float  # wall time of the whole generation
    mode: str  # "cpu" | "cuda" | "vaapi"
    skip_frame: str | None  # "nokey" (keyframes only) | "noref" (full decode, non-reference frames skipped)
    tonemap: str | None = None  # how HDR was mapped to SDR, or why it was not; None for SDR sources
    keyframe_gap: float | None = None
    command: list[str] = field(default_factory=list)
    demux_command: list[str] | None = None  # the ffmpeg that fed `command` the keyframes, if one did
    cpu_seconds: float = 0.0  # of the ffmpeg processes
    peak_rss_mb: int = 0  # the largest of the ffmpeg processes


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


def keyframe_filter(interval: int, gap: float) -> str:
    """The `noise` bitstream filter that drops every packet but the keyframes within gap/2 (+0.1 s) of a
    multiple of `interval`: with keyframes at most `gap` apart, each slot keeps its nearest keyframe, and a
    2 s GOP at a 5 s interval decodes 2-3 keyframes in 10 instead of all of them. (No commas: the bsf list
    parser splits on them, so max(d, 0) is written (d + abs(d)) / 2.)"""
    half = gap / 2 + 0.1
    d = f"(ceil((pts*tb-{half:.3f})/{interval})-floor((pts*tb+{half:.3f})/{interval}))"
    return f"noise=drop=(1-key)+({d}+abs({d}))/2"


def build_command(video: Path, out_pattern: Path, info: MediaInfo, *, interval: int, quality: int,
                  gpu: GPU | None, ffmpeg: str, threads: int = DEFAULT_THREADS) -> tuple[list[str], dict]:
    """The ffmpeg command line and what it chose: mode, skip_frame, tonemap, and `demux`, the command of a
    first ffmpeg that feeds the keyframes to this one through a pipe (None when this one reads the file)."""
    width, height = thumbnail_size(info)
    keyframes_only = info.keyframe_gap is not None and info.keyframe_gap <= interval + 1e-3
    skip_frame = "nokey" if keyframes_only else "noref"
    tone, tonemap = tonemap_filter(info, ffmpeg)
    ten_bit = info.bit_depth > 8
    # Keyframes only, the decoder has little to do and frame threads mostly wait: one thread costs a quarter
    # less CPU per item (measured: 3.6 s against 4.7 s on the benchmark's 10 minutes).
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1",
               "-threads", "1" if keyframes_only else str(threads), "-skip_frame", skip_frame,
               "-skip_loop_filter", "all"]
    if not keyframes_only:
        command += ["-flags2", "fast"]
    if gpu is not None:
        command += hwaccel_input_args(gpu)
        scale = hwaccel_scale_filter(gpu, width, height, ten_bit=ten_bit and bool(tone))
        if tone:
            scale += ",format=yuv420p10le"  # zscale takes planar 10-bit, not the GPUs' semi-planar p010
    else:
        scale = f"scale=w={width}:h={height}:flags=bilinear"
        if tone:
            scale += ",format=yuv420p10le"
    # ffmpeg's fps filter keeps the last decoded frame of each slot. Full decode, round=up: slot n gets the last
    # frame at or before n x interval. Keyframes only: moving the timestamps on by interval - gap/2 and rounding
    # down gives slot n the last keyframe before n x interval + gap/2, the keyframe nearest its time.
    # start_time=0 fills slot 0 when a stream's first frame comes a little after 0.
    demux = None
    shift = interval - (info.keyframe_gap or 0) / 2
    if keyframes_only and keyframe_feeder_works(ffmpeg):
        pick = f"setpts=PTS+{shift:.3f}/TB,fps=fps=1/{interval}:round=down:start_time=0:eof_action=pass"
        demux = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", str(video), "-map", f"0:{info.stream}",
                 "-c", "copy", "-bsf:v", keyframe_filter(interval, info.keyframe_gap), "-f", "nut", "pipe:1"]
        command += ["-f", "nut", "-i", "pipe:0", "-map", "0:0"]
    elif keyframes_only:
        pick = f"setpts=PTS+{shift:.3f}/TB,fps=fps=1/{interval}:round=down:start_time=0:eof_action=pass"
        command += ["-i", str(video), "-map", f"0:{info.stream}"]
    else:
        pick = f"fps=fps=1/{interval}:round=up:start_time=0:eof_action=pass"
        command += ["-i", str(video), "-map", f"0:{info.stream}"]
    chain = ",".join(part for part in (pick, scale, tone) if part)
    command += ["-an", "-sn", "-dn", "-filter_threads", "1", "-vf", chain, "-c:v", "mjpeg",
                "-q:v", str(jpeg_qscale(quality))]
    if quality == 1:
        command += ["-qmin", "1"]
    # One thumbnail per slot that starts inside the video (eof_action=pass may add one past the end).
    command += ["-frames:v", str(frame_count(info.duration, interval)), "-f", "image2", "-start_number", "0",
                str(out_pattern)]
    mode = "cpu" if gpu is None else {"nvidia": "cuda", "vaapi": "vaapi"}[gpu.kind]
    return command, {"mode": mode, "skip_frame": skip_frame, "tonemap": tonemap, "demux": demux}


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
        usage = _run_ffmpeg(command, video=video, duration=info.duration, gpu=gpu, mode=chosen["mode"],
                            cancel=cancel, on_progress=on_progress, demux=chosen["demux"])
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
                          keyframe_gap=info.keyframe_gap, command=command, demux_command=chosen["demux"],
                          cpu_seconds=usage["cpu_seconds"], peak_rss_mb=usage["peak_rss_mb"])


def _load_prctl():
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _load_prctl() if os.name == "posix" else None


def _die_with_parent():  # pragma: no cover - runs in the child between fork and exec
    """PR_SET_PDEATHSIG: ffmpeg is killed when its worker dies. Resolved before the fork, so the child takes
    no lock (no import, no allocation worth the name) between fork and exec."""
    _PRCTL(1, signal.SIGKILL)


def _run_ffmpeg(command: list[str], *, video: Path, duration: float, gpu: GPU | None, mode: str,
                cancel: Callable[[], bool] | None, on_progress: Callable[[float], None] | None,
                demux: list[str] | None = None) -> dict:
    """Run ffmpeg (fed by the `demux` ffmpeg through a pipe when given), feeding progress and polling cancel;
    MediaError with its last words when it fails. Returns the processes' CPU seconds and largest peak RSS."""
    procs: list[subprocess.Popen] = []
    tails: list[collections.deque[str]] = []
    readers: list[threading.Thread] = []
    progress = {"out_time": 0.0}
    usage = {"cpu_seconds": 0.0, "peak_rss_mb": 0}
    preexec = _die_with_parent if _PRCTL is not None else None

    def drain(stream, tail):
        for raw in stream:
            tail.append(raw.decode("utf-8", "replace"))

    def read_progress(stream):
        for raw in stream:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.lstrip("-").isdigit():
                progress["out_time"] = max(0, int(value)) / 1e6

    def start(argv, **kwargs):
        try:
            proc = subprocess.Popen(argv, stderr=subprocess.PIPE, preexec_fn=preexec, **kwargs)
        except OSError as exc:
            for running in procs:
                _stop(running)
            raise MediaError(f"ffmpeg ({argv[0]}) does not run: {exc.strerror or exc}") from None
        tail: collections.deque[str] = collections.deque(maxlen=40)
        procs.append(proc)
        tails.append(tail)
        readers.append(threading.Thread(target=drain, args=(proc.stderr, tail), daemon=True))
        return proc

    if demux:
        feeder = start(demux, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
        main = start(command, stdin=feeder.stdout, stdout=subprocess.PIPE)
        feeder.stdout.close()  # the main ffmpeg holds the pipe now; the feeder sees EPIPE if it stops
    else:
        main = start(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    readers.append(threading.Thread(target=read_progress, args=(main.stdout,), daemon=True))
    for reader in readers:
        reader.start()

    def reap(proc, flags=os.WNOHANG) -> bool:
        if proc.returncode is not None:
            return True
        try:
            pid, status, rusage = os.wait4(proc.pid, flags)
        except ChildProcessError:
            proc.returncode = proc.returncode if proc.returncode is not None else -1
            return True
        if pid == 0:
            return False
        proc.returncode = os.waitstatus_to_exitcode(status)
        usage["cpu_seconds"] += rusage.ru_utime + rusage.ru_stime
        usage["peak_rss_mb"] = max(usage["peak_rss_mb"], rusage.ru_maxrss // 1024)
        return True

    cancelled = False
    last_check = last_report = 0.0
    feeder = procs[0] if demux else None
    try:
        while not reap(main):
            if feeder is not None and reap(feeder) and feeder.returncode != 0:
                break  # the feeder failed: the decoder would wait for nothing
            time.sleep(0.05)
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
        for proc in (main, feeder):
            if proc is not None and proc.returncode is None:
                _stop(proc)
                reap(proc, 0)
        for reader in readers:
            reader.join(timeout=2)
    if cancelled:
        raise Cancelled(f"cancelled while thumbnailing {video.name}")
    if main.returncode == 0:
        return usage  # the feeder may have been stopped early: the decoder had all the frames it wanted
    where = f"on the GPU ({gpu.kind} {gpu.device})" if gpu is not None else "on the CPU"
    feeder_said = _tail("".join(tails[0])) if feeder is not None else ""
    if feeder is not None and feeder.returncode not in (0, None) and "Broken pipe" not in feeder_said:
        raise MediaError(f"ffmpeg failed to read {video.name} (exit {feeder.returncode}): {feeder_said}",
                         retry_on_cpu=False)
    raise MediaError(f"ffmpeg failed to thumbnail {video.name} {where} (exit {main.returncode}): "
                     f"{_tail(''.join(tails[-1]))}", retry_on_cpu=gpu is not None)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after KILL_GRACE seconds; the caller reaps (os.kill, not Popen.terminate, which
    would reap the process itself and lose its resource usage)."""
    try:
        os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + KILL_GRACE
        while time.monotonic() < deadline:
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, ChildProcessError):
        pass
