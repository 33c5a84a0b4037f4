"""Thumbnails: our pipeline against the reference ffmpeg command, side by side on 10-minute 1080p H.264 clips.

    .venv/bin/python bench/thumbnails.py [--ffmpeg PATH] [--cache DIR] [--rounds N] [--interval S]

Clips (made once into the cache dir, outside the repo): one minute of 1080p25 H.264 (libx264 veryfast, crf 23,
testsrc2 with light grain, the frame number drawn as bits across the top) looped ten times by stream copy, with
a keyframe every 2 s and every 12 s. The frame number repeats every minute, so a thumbnail's timing error is
measured modulo 60 s (errors here are far below 30 s).

Compared in one run, alternating so that a busy machine hurts both the same:
- 2 s GOP: the reference command (`-skip_frame:v nokey ... fps=fps=1/5:round=up,scale=...`) vs our pipeline.
- 12 s GOP: the same command without `-skip_frame` (the only way it gets frames at their times) vs ours.
Printed: wall and CPU seconds, throughput ratios (reference / ours; CPU time is the steadier figure on a shared
machine, and what limits how many items a box does per hour), largest timing error, peak RSS of ffmpeg.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.previews.clips import frame_numbers, make_clip  # noqa: E402

RATE = 25
LOOP_SECONDS = 60
LOOPS = 10


def clip(cache: Path, ffmpeg: str, gop: int) -> Path:
    final = cache / f"bench-1080p-{LOOP_SECONDS * LOOPS}s-gop{gop}.mp4"
    if final.exists():
        return final
    cache.mkdir(parents=True, exist_ok=True)
    one = cache / f"bench-1080p-{LOOP_SECONDS}s-gop{gop}.mp4"
    if not one.exists():
        print(f"making {one} (once)...", flush=True)
        make_clip(one.with_suffix(".part.mp4"), ffmpeg=ffmpeg, duration=LOOP_SECONDS, rate=RATE, size="1920x1080",
                  gop=gop, preset="veryfast", crf=23, noise=4)
        one.with_suffix(".part.mp4").rename(one)
    subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-stream_loop", str(LOOPS - 1),
                    "-i", str(one), "-c", "copy", str(final.with_suffix(".part.mp4"))], check=True)
    final.with_suffix(".part.mp4").rename(final)
    return final


def reference_command(ffmpeg: str, video: Path, out_dir: Path, *, keyframes_only: bool, interval: int) -> list[str]:
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error"]
    if keyframes_only:
        command += ["-skip_frame:v", "nokey"]
    return command + ["-i", str(video), "-an", "-sn", "-dn", "-q:v", "4", "-vf",
                      f"fps=fps=1/{interval}:round=up,scale=w=320:h=240:force_original_aspect_ratio=decrease",
                      str(out_dir / "%06d.jpg")]


def run_measured(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one ffmpeg run."""
    started = time.monotonic()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}")
    return time.monotonic() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def timing_error(jpegs: list[bytes], ffmpeg: str, interval: int) -> float:
    """Largest distance (s) between where thumbnail i is and where it should be (i x interval), modulo a loop."""
    worst = 0.0
    for i, number in enumerate(frame_numbers(jpegs, ffmpeg=ffmpeg)):
        shown = number / RATE
        wanted = (i * interval) % LOOP_SECONDS
        error = abs(shown - wanted)
        worst = max(worst, min(error, LOOP_SECONDS - error))
    return worst


def ours(video: Path, work: Path, interval: int) -> dict:
    """The whole pipeline as a job runs it: probe, ffmpeg, BIF written and renamed into place."""
    from previews import media
    from previews.parsers import read_bif

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = media.generate_bif(video, work / "index-sd.bif", interval=interval, quality=4, tmp_dir=work)
    seconds = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)  # probing too
    mode = result.skip_frame + (" + feeder" if result.demux_command else "")
    return {"seconds": seconds, "cpu": cpu, "rss": result.peak_rss_mb, "mode": mode,
            "jpegs": read_bif(work / "index-sd.bif").frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ffmpeg", default="")
    parser.add_argument("--cache", default=str(Path.home() / ".cache" / "homelab-bench"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--interval", type=int, default=5)
    parser.add_argument("--clips-only", action="store_true")
    args = parser.parse_args()

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homelab.settings")
    os.environ.setdefault("HOMELAB_DATA_DIR", tempfile.mkdtemp(prefix="homelab-bench-"))
    if args.ffmpeg:
        os.environ["FFMPEG_PATH"] = args.ffmpeg
    django.setup()
    from previews import media

    ffmpeg = media.ffmpeg_path()
    version = subprocess.run([ffmpeg, "-hide_banner", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    cache = Path(args.cache)
    clips = {gop: clip(cache, ffmpeg, gop) for gop in (2, 12)}
    if args.clips_only:
        return
    print(f"ffmpeg: {ffmpeg} ({version})")
    print(f"cpus: {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, interval {args.interval} s, {args.rounds} rounds, "
          "the run with the least CPU time of each (ours includes probing and writing the BIF)\n")

    for gop, video in clips.items():
        info = media.ffprobe_info(video, ffmpeg=ffmpeg)
        best = {"reference": None, "ours": None}
        for _ in range(args.rounds):
            for who in ("reference", "ours"):
                work = Path(tempfile.mkdtemp(prefix="homelab-bench-thumbs-"))
                try:
                    if who == "reference":
                        command = reference_command(ffmpeg, video, work, keyframes_only=gop == 2,
                                                    interval=args.interval)
                        seconds, cpu, rss = run_measured(command)
                        row = {"seconds": seconds, "cpu": cpu, "rss": rss,
                               "mode": "nokey" if gop == 2 else "full decode",
                               "jpegs": [p.read_bytes() for p in sorted(work.glob("*.jpg"))]}
                    else:
                        row = ours(video, work, args.interval)
                    row["frames"] = len(row["jpegs"])
                    row["error"] = timing_error(row.pop("jpegs"), ffmpeg, args.interval)
                    if best[who] is None or row["cpu"] < best[who]["cpu"]:
                        best[who] = row
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        ref, our = best["reference"], best["ours"]
        versus = "the reference command" if gop == 2 else "the reference command without -skip_frame"
        print(f"{gop:>2} s GOP, ours vs {versus} (keyframe gap probed: {info.keyframe_gap} s)")
        for who, row in (("reference", ref), ("ours", our)):
            print(f"   {who:<10} {row['mode']:<15} wall {row['seconds']:7.2f} s  CPU {row['cpu']:7.2f} s  "
                  f"{row['frames']:4d} frames  largest timing error {row['error']:5.2f} s  peak RSS {row['rss']:4d} MB")
        print(f"   throughput ratio (reference / ours): CPU time {ref['cpu'] / our['cpu']:.2f}, "
              f"wall time {ref['seconds'] / our['seconds']:.2f}\n")


if __name__ == "__main__":
    main()
