"""Test clips made with ffmpeg's lavfi sources, and reading back which source frame a thumbnail shows.

Every clip carries its frame number in binary across a band at the top: BITS blocks from left (bit 0) to right,
white for 1, black for 0, over testsrc2's moving picture. The blocks are BITS-th of the width wide, so they
survive scaling to 320 pixels and JPEG; a thumbnail's time is its frame number divided by the clip's rate.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

BITS = 16


def make_clip(path: Path, *, ffmpeg: str, duration: float, rate: int = 10, size: str = "320x240", gop: float = 2.0,
              codec: str = "h264", ten_bit: bool = False, hdr: str | None = None, preset: str = "ultrafast",
              crf: int = 23, noise: int = 0) -> Path:
    """Encode a clip with a keyframe exactly every `gop` seconds (`codec` h264 or hevc; `hdr` "smpte2084" or
    "arib-std-b67" tags it BT.2020 with that transfer)."""
    width, height = (int(v) for v in size.split("x"))
    band = max(8, height // 6)
    gop_frames = max(1, round(gop * rate))
    bits = (f"nullsrc=size={BITS}x1:rate={rate}:duration={duration},format=gray,"
            f"geq=lum='if(mod(floor(N/pow(2\\,X))\\,2)\\,235\\,16)',"
            f"scale={width}:{band}:flags=neighbor,format=yuv420p")
    picture = f"testsrc2=size={size}:rate={rate}:duration={duration},format=yuv420p"
    if noise:
        picture += f",noise=alls={noise}:allf=t"
    graph = f"{picture}[pic];{bits}[bits];[pic][bits]overlay=0:0:shortest=1,format=yuv420p[v]"
    pix_fmt = "yuv420p10le" if ten_bit or hdr else "yuv420p"
    command = [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-filter_complex", graph, "-map", "[v]",
               "-pix_fmt", pix_fmt]
    if codec == "h264":
        command += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-g", str(gop_frames),
                    "-keyint_min", str(gop_frames), "-sc_threshold", "0"]
    elif codec == "hevc":
        params = f"keyint={gop_frames}:min-keyint={gop_frames}:scenecut=0:log-level=error"
        if hdr:
            params += f":colorprim=bt2020:transfer={hdr}:colormatrix=bt2020nc"
        command += ["-c:v", "libx265", "-preset", preset, "-crf", str(crf), "-x265-params", params]
    else:
        raise ValueError(codec)
    if hdr:
        command += ["-color_primaries", "bt2020", "-color_trc", hdr, "-colorspace", "bt2020nc"]
    command += ["-an", str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=600)
    return Path(path)


def frame_numbers(jpegs: list[bytes], *, ffmpeg: str) -> list[int]:
    """The frame number each JPEG shows: ffmpeg decodes them all (one process) to grey pixels of a fixed size,
    and each bit is read from the middle of its block in the top band."""
    width, height = BITS * 8, 48
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-f", "mjpeg", "-i", "-",
                           "-vf", f"scale={width}:{height}:flags=area", "-pix_fmt", "gray", "-f", "rawvideo", "-"],
                          input=b"".join(jpegs), capture_output=True, check=True, timeout=120)
    size = width * height
    assert len(done.stdout) == size * len(jpegs), f"{len(done.stdout)} bytes for {len(jpegs)} frames"
    numbers = []
    for start in range(0, len(done.stdout), size):
        row = start + 2 * width  # third row: well inside the band (a sixth of 48 rows is 8)
        numbers.append(sum((done.stdout[row + bit * 8 + 4] > 128) << bit for bit in range(BITS)))
    return numbers


def jpeg_pixels(jpeg: bytes, *, ffmpeg: str, pix_fmt: str = "gray") -> bytes:
    done = subprocess.run([ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-f", "mjpeg", "-i", "-",
                           "-pix_fmt", pix_fmt, "-f", "rawvideo", "-"], input=jpeg, capture_output=True, check=True,
                          timeout=30)
    return done.stdout
