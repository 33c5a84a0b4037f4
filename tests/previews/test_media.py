"""The media pipeline with real ffmpeg on clips made here: probing, thumbnails at their times, HDR, cancel,
failures. Each clip shows its frame number (tests/previews/clips.py), read back from the BIF's JPEGs."""
from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import imageio_ffmpeg
import pytest

from previews import ffmpeg as previews_ffmpeg
from previews import media
from previews.gpu import GPU
from previews.media import Cancelled, MediaError, ffmpeg_path, ffprobe_info, generate_bif
from previews.parsers import read_bif, jpeg_dimensions
from tests.previews.clips import frame_numbers, make_clip

RATE = 10


@pytest.fixture(scope="module")
def ffmpeg():
    return ffmpeg_path()


@pytest.fixture(scope="module")
def clips(tmp_path_factory, ffmpeg):
    folder = tmp_path_factory.mktemp("clips")
    return {
        "gop2": make_clip(folder / "gop2.mp4", ffmpeg=ffmpeg, duration=20, rate=RATE, gop=2),
        "gop12": make_clip(folder / "gop12.mkv", ffmpeg=ffmpeg, duration=26, rate=RATE, size="480x270", gop=12),
        "hevc10": make_clip(folder / "hevc10.mp4", ffmpeg=ffmpeg, duration=12, rate=RATE, codec="hevc", ten_bit=True,
                            gop=2),
        "hdr10": make_clip(folder / "hdr10.mkv", ffmpeg=ffmpeg, duration=12, rate=RATE, size="384x216",
                           codec="hevc", hdr="smpte2084", gop=2),
    }


def _times(bif_path: Path, ffmpeg: str) -> list[float]:
    return [n / RATE for n in frame_numbers(read_bif(bif_path).frames, ffmpeg=ffmpeg)]


def _no_ffmpeg_children() -> bool:
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            name = stat.read_text().split("(", 1)[1].rsplit(")", 1)[0]
        except (OSError, IndexError):
            continue
        if fields[1] == me and "ffmpeg" in name and fields[0] != "Z":
            return False
    return True


# --- ffmpeg itself -----------------------------------------------------------------------------------------

def test_ffmpeg_path_prefers_the_setting_then_path_then_the_wheel(settings, monkeypatch, tmp_path):
    settings.FFMPEG_PATH = "/opt/ffmpeg/bin/ffmpeg"
    assert ffmpeg_path() == "/opt/ffmpeg/bin/ffmpeg"
    settings.FFMPEG_PATH = ""
    (tmp_path / "ffmpeg").write_text("#!/bin/sh\n")
    (tmp_path / "ffmpeg").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert ffmpeg_path() == str(tmp_path / "ffmpeg")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert ffmpeg_path() == imageio_ffmpeg.get_ffmpeg_exe()


def test_the_wheels_ffmpeg_has_what_the_pipeline_uses():
    filters = media.ffmpeg_filters(imageio_ffmpeg.get_ffmpeg_exe())
    assert {"zscale", "tonemap", "libplacebo", "scale_cuda", "scale_vaapi", "fps", "scale"} <= filters


def test_the_version_is_read_from_ffmpeg():
    assert previews_ffmpeg.ffmpeg_version(imageio_ffmpeg.get_ffmpeg_exe()) == (9, 0)


def test_quality_is_ffmpegs_q_v_as_the_original_tool_passes_it():
    assert [media.jpeg_qscale(q) for q in range(1, 11)] == list(range(1, 11))
    for bad in (0, 11):
        with pytest.raises(ValueError, match="thumbnail quality must be 1-10"):
            media.jpeg_qscale(bad)


# --- probing -----------------------------------------------------------------------------------------------

def test_probing_gives_the_stream_and_its_keyframe_spacing(clips, ffmpeg):
    gop2, gop12 = ffprobe_info(clips["gop2"], ffmpeg=ffmpeg), ffprobe_info(clips["gop12"], ffmpeg=ffmpeg)
    assert (gop2.codec, gop2.width, gop2.height, gop2.pix_fmt, gop2.bit_depth, gop2.hdr) == (
        "h264", 320, 240, "yuv420p", 8, None)
    assert gop2.duration == pytest.approx(20, abs=0.2) and gop2.keyframe_gap == pytest.approx(2.0)
    assert (gop12.width, gop12.height) == (480, 270) and gop12.keyframe_gap == pytest.approx(12.0)


def test_probing_sees_10_bit_hevc_and_hdr(clips, ffmpeg):
    hevc, hdr = ffprobe_info(clips["hevc10"], ffmpeg=ffmpeg), ffprobe_info(clips["hdr10"], ffmpeg=ffmpeg)
    assert (hevc.codec, hevc.pix_fmt, hevc.bit_depth, hevc.hdr) == ("hevc", "yuv420p10le", 10, None)
    assert (hdr.codec, hdr.bit_depth, hdr.hdr) == ("hevc", 10, "smpte2084")


def test_probing_sees_hlg(tmp_path, ffmpeg):
    clip = make_clip(tmp_path / "hlg.mkv", ffmpeg=ffmpeg, duration=2, rate=RATE, codec="hevc", hdr="arib-std-b67")
    info = ffprobe_info(clip, ffmpeg=ffmpeg)
    assert (info.bit_depth, info.hdr) == (10, "arib-std-b67")
    assert media.tonemap_filter(info, ffmpeg)[1] == "zscale+tonemap (hable) from arib-std-b67"


def test_a_file_that_is_not_a_video_is_a_media_error(tmp_path, ffmpeg):
    (tmp_path / "notes.mkv").write_bytes(b"not a video at all" * 100)
    with pytest.raises(MediaError, match=r"^cannot probe notes.mkv: ffmpeg cannot read it \(.*Invalid data"):
        ffprobe_info(tmp_path / "notes.mkv", ffmpeg=ffmpeg)
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "sine=duration=1", str(tmp_path / "song.mka")],
                   check=True)
    with pytest.raises(MediaError, match=r"^cannot probe song.mka: it has no video stream$"):
        ffprobe_info(tmp_path / "song.mka", ffmpeg=ffmpeg)
    with pytest.raises(MediaError, match="^cannot probe .*gone.mkv: no such file"):
        ffprobe_info(tmp_path / "gone.mkv", ffmpeg=ffmpeg)


# --- thumbnails --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("binary", ["resolved", "imageio-ffmpeg"])
def test_keyframes_every_2_s_give_keyframe_only_thumbnails_at_their_times(clips, ffmpeg, tmp_path, binary):
    ffmpeg = ffmpeg if binary == "resolved" else imageio_ffmpeg.get_ffmpeg_exe()
    bif = tmp_path / "index-sd.bif"
    result = generate_bif(clips["gop2"], bif, interval=2, quality=4, ffmpeg=ffmpeg)
    parsed = read_bif(bif)
    assert (result.frames, result.mode, result.skip_frame, parsed.interval_ms, len(parsed.frames)) == (
        10, "cpu", "nokey", 2000, 10)
    assert {jpeg_dimensions(f) for f in parsed.frames} == {(320, 240)}
    assert _times(bif, ffmpeg) == [2.0 * i for i in range(10)]
    # ffmpeg 9 gets only the keyframes it needs from a first, demux-only ffmpeg; 5.1 reads the file itself
    assert (result.demux_command is not None) == media.keyframe_feeder_works(ffmpeg)
    assert media.keyframe_feeder_works(imageio_ffmpeg.get_ffmpeg_exe())


@pytest.mark.parametrize("binary", ["resolved", "imageio-ffmpeg"])
def test_keyframe_only_thumbnails_take_the_keyframe_nearest_their_time(clips, ffmpeg, tmp_path, binary):
    ffmpeg = ffmpeg if binary == "resolved" else imageio_ffmpeg.get_ffmpeg_exe()
    result = generate_bif(clips["gop2"], tmp_path / "a.bif", interval=5, quality=4, ffmpeg=ffmpeg)
    assert (result.frames, result.skip_frame) == (4, "nokey")
    times = _times(tmp_path / "a.bif", ffmpeg)
    assert max(abs(t - 5 * i) for i, t in enumerate(times)) <= 1.0  # half the keyframe spacing


def test_keyframes_12_s_apart_are_decoded_fully_and_every_thumbnail_is_within_half_a_second(clips, ffmpeg, tmp_path):
    bif = tmp_path / "index-sd.bif"
    result = generate_bif(clips["gop12"], bif, interval=5, quality=4, ffmpeg=ffmpeg)
    parsed = read_bif(bif)
    assert (result.frames, result.skip_frame, parsed.interval_ms) == (6, "noref", 5000)
    assert {jpeg_dimensions(f) for f in parsed.frames} == {(320, 180)}  # 16:9 kept
    times = _times(bif, ffmpeg)
    assert len(times) == 6 and max(abs(t - 5 * i) for i, t in enumerate(times)) <= 0.5


def test_10_bit_hevc_works(clips, ffmpeg, tmp_path):
    result = generate_bif(clips["hevc10"], tmp_path / "h.bif", interval=2, quality=4, ffmpeg=ffmpeg)
    assert (result.frames, result.tonemap) == (6, None)
    assert _times(tmp_path / "h.bif", ffmpeg) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


def test_hdr10_is_tone_mapped_with_zscale_and_tonemap(clips, ffmpeg, tmp_path):
    result = generate_bif(clips["hdr10"], tmp_path / "hdr.bif", interval=2, quality=4, ffmpeg=ffmpeg)
    assert result.tonemap == "zscale+tonemap (hable) from smpte2084"
    assert "tonemap=tonemap=hable" in " ".join(result.command)
    frames = read_bif(tmp_path / "hdr.bif").frames
    assert {jpeg_dimensions(f) for f in frames} == {(320, 180)}
    assert _times(tmp_path / "hdr.bif", ffmpeg) == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


def test_without_zscale_hdr_is_not_tone_mapped_and_says_so(clips, ffmpeg, monkeypatch, caplog):
    info = ffprobe_info(clips["hdr10"], ffmpeg=ffmpeg)
    monkeypatch.setattr(media, "ffmpeg_filters", lambda _: frozenset({"fps", "scale", "tonemap"}))
    command, chosen = media.build_command(clips["hdr10"], Path("/tmp/x/%06d.jpg"), info, interval=5, quality=4,
                                          gpu=None, ffmpeg=ffmpeg)
    assert chosen["tonemap"] == "none: this ffmpeg has no zscale filter"
    assert "zscale" not in " ".join(command)
    assert "HDR (smpte2084) but this ffmpeg has no zscale filter" in caplog.text


def test_the_gpu_command_lines_decode_and_scale_on_the_gpu(clips, ffmpeg):
    info = ffprobe_info(clips["hdr10"], ffmpeg=ffmpeg)
    cuda = GPU("nvidia", "/dev/nvidia0", "RTX", "nvidia", True, "", index=0)
    vaapi = GPU("vaapi", "/dev/dri/renderD128", "Intel", "i915", True, "")
    command, chosen = media.build_command(clips["hdr10"], Path("/t/%06d.jpg"), info, interval=5, quality=4,
                                          gpu=cuda, ffmpeg=ffmpeg)
    line = " ".join(command)
    assert chosen["mode"] == "cuda"
    assert "-hwaccel cuda -hwaccel_device 0 -hwaccel_output_format cuda " in line
    assert "scale_cuda=w=320:h=180:format=p010,hwdownload,format=p010le,format=yuv420p10le,zscale=tin=smpte2084" in line
    command, chosen = media.build_command(clips["gop2"], Path("/t/%06d.jpg"), ffprobe_info(clips["gop2"], ffmpeg=ffmpeg),
                                          interval=5, quality=4, gpu=vaapi, ffmpeg=ffmpeg)
    line = " ".join(command)
    assert chosen["mode"] == "vaapi"
    assert "-hwaccel vaapi -hwaccel_device /dev/dri/renderD128 -hwaccel_output_format vaapi " in line
    assert "scale_vaapi=w=320:h=240:format=nv12,hwdownload,format=nv12 -c:v mjpeg -q:v 4" in line


def test_quality_1_makes_bigger_jpegs_than_quality_10(clips, ffmpeg, tmp_path):
    generate_bif(clips["gop2"], tmp_path / "q1.bif", interval=4, quality=1, ffmpeg=ffmpeg)
    generate_bif(clips["gop2"], tmp_path / "q10.bif", interval=4, quality=10, ffmpeg=ffmpeg)
    sizes = [sum(map(len, read_bif(tmp_path / name).frames)) for name in ("q1.bif", "q10.bif")]
    assert sizes[0] > 1.5 * sizes[1]


def test_progress_is_reported_up_to_one(clips, ffmpeg, tmp_path):
    seen: list[float] = []
    generate_bif(clips["gop12"], tmp_path / "p.bif", interval=5, quality=4, ffmpeg=ffmpeg, on_progress=seen.append)
    assert seen[-1] == 1.0 and seen == sorted(seen) and all(0.0 <= v <= 1.0 for v in seen)


# --- failures and cancel -----------------------------------------------------------------------------------

def test_a_failing_gpu_raises_a_media_error_to_retry_on_the_cpu_and_leaves_nothing(clips, ffmpeg, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    bogus = GPU("vaapi", str(tmp_path / "renderD128"), "Intel", "i915", True, "")
    (tmp_path / "renderD128").touch()
    bif = tmp_path / "out" / "index-sd.bif"
    with pytest.raises(MediaError) as caught:
        generate_bif(clips["gop2"], bif, interval=2, quality=4, gpu=bogus, ffmpeg=ffmpeg, tmp_dir=tmp)
    assert caught.value.retry_on_cpu
    assert str(caught.value).startswith(f"ffmpeg failed to thumbnail gop2.mp4 on the GPU (vaapi {bogus.device}) (exit ")
    reason = str(caught.value).split("(exit", 1)[1]  # ffmpeg's words: VAAPI's, or its loader's without libva
    assert "vaapi" in reason.lower() or "libva" in reason
    assert list(tmp.iterdir()) == [] and not bif.exists()
    assert generate_bif(clips["gop2"], bif, interval=2, quality=4, gpu=None, ffmpeg=ffmpeg, tmp_dir=tmp).frames == 10
    assert list(tmp.iterdir()) == []


def test_a_cpu_failure_is_not_marked_for_a_retry(ffmpeg, clips, tmp_path):
    broken = tmp_path / "broken.mp4"
    data = clips["gop2"].read_bytes()
    broken.write_bytes(data[: len(data) // 3])  # moov atom at the end: unreadable
    with pytest.raises(MediaError) as caught:
        generate_bif(broken, tmp_path / "b.bif", interval=2, quality=4, ffmpeg=ffmpeg, tmp_dir=tmp_path)
    assert not caught.value.retry_on_cpu and str(caught.value).startswith("cannot probe broken.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp4"]


def test_cancel_kills_ffmpeg_mid_item_and_leaves_no_files(clips, ffmpeg, tmp_path):
    """ffmpeg reads a pipe that is fed half a clip and then stalls: cancel must stop it and clean up."""
    stream = tmp_path / "stream.ts"
    make_clip(stream, ffmpeg=ffmpeg, duration=20, rate=RATE, gop=2)
    info = ffprobe_info(stream, ffmpeg=ffmpeg)
    fifo = tmp_path / "live.ts"
    os.mkfifo(fifo)
    release = threading.Event()

    def feed():
        with open(fifo, "wb") as pipe:
            data = stream.read_bytes()
            pipe.write(data[: len(data) // 2])
            pipe.flush()
            release.wait(30)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    bif = tmp_path / "out" / "index-sd.bif"
    calls = []

    def cancel():
        # ffmpeg is mid-item: running, its input half read. (Whether it has written thumbnails yet depends on
        # its buffering: with the wheel's ffmpeg 9 and the keyframe feeder, nothing comes out before the input ends.)
        calls.append(1)
        return len(calls) >= 3 and not _no_ffmpeg_children()

    try:
        with pytest.raises(Cancelled):
            generate_bif(fifo, bif, interval=2, quality=4, ffmpeg=ffmpeg, tmp_dir=tmp, cancel=cancel, info=info)
        assert feeder.is_alive()  # stopped while its input was still open: killed, not run to the end
    finally:
        release.set()
        feeder.join(5)
    assert len(calls) >= 3
    assert list(tmp.iterdir()) == [] and not bif.parent.exists()
    assert _no_ffmpeg_children()


def test_a_cancel_before_the_start_runs_nothing(clips, ffmpeg, tmp_path):
    with pytest.raises(Cancelled):
        generate_bif(clips["gop2"], tmp_path / "c.bif", interval=2, quality=4, ffmpeg=ffmpeg, tmp_dir=tmp_path,
                     cancel=lambda: True)
    assert list(tmp_path.iterdir()) == []
