"""GPU detection for thumbnail generation: NVIDIA (CUDA) and VAAPI render nodes, each confirmed by a test decode.

The users' top complaint about the original tool is "GPU not detected" with no word why, so every device that
is present is listed, and one that cannot be used says why (`usable=False`, `reason`). A device counts as usable
only when ffmpeg decodes and scales one second of video on it with the same options the real work uses.

The ffmpeg options of each kind live here too (`hwaccel_input_args`, `hwaccel_scale_filter`), so the test decode
and `previews.media` cannot drift apart.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

TEST_DECODE_TIMEOUT = 20.0
_NVIDIA_SMI_LINE = re.compile(r"^GPU (\d+): (.+?)(?: \(UUID: [^)]*\))?\s*$")
_VENDORS = {"0x8086": "Intel", "0x1002": "AMD", "0x10de": "NVIDIA"}


@dataclass
class GPU:
    kind: str  # "nvidia" | "vaapi"
    device: str  # /dev/nvidiaN or /dev/dri/renderDN
    name: str
    driver: str
    usable: bool
    reason: str  # why it is not usable ("" when it is)
    index: int | None = None  # the CUDA device index of an NVIDIA GPU

    def as_dict(self) -> dict:
        return {"type": self.kind, "device": self.device, "name": self.name, "driver": self.driver,
                "usable": self.usable, "reason": self.reason}


# --- ffmpeg options per kind -------------------------------------------------------------------------------

def hwaccel_input_args(gpu: GPU) -> list[str]:
    """Input options that decode on `gpu` and keep the frames in its memory."""
    if gpu.kind == "nvidia":
        return ["-hwaccel", "cuda", "-hwaccel_device", str(gpu.index or 0), "-hwaccel_output_format", "cuda"]
    if gpu.kind == "vaapi":
        return ["-hwaccel", "vaapi", "-hwaccel_device", gpu.device, "-hwaccel_output_format", "vaapi"]
    raise ValueError(f"unknown GPU kind {gpu.kind!r}")


def hwaccel_scale_filter(gpu: GPU, width: int, height: int, *, ten_bit: bool = False) -> str:
    """Scale on the GPU, then bring the (small) frames to system memory for the JPEG encoder."""
    fmt, sw_fmt = ("p010", "p010le") if ten_bit else ("nv12", "nv12")
    if gpu.kind == "nvidia":
        return f"scale_cuda=w={width}:h={height}:format={fmt},hwdownload,format={sw_fmt}"
    if gpu.kind == "vaapi":
        return f"scale_vaapi=w={width}:h={height}:format={fmt},hwdownload,format={sw_fmt}"
    raise ValueError(f"unknown GPU kind {gpu.kind!r}")


# --- detection -----------------------------------------------------------------------------------------------

def detect_gpus(*, sysfs_root: Path = Path("/sys"), dev_root: Path = Path("/dev"), ffmpeg: str | None = None,
                test_decode: bool = True) -> list[GPU]:
    """Every NVIDIA GPU and VAAPI render node present, usable or with the reason it is not."""
    sysfs_root, dev_root = Path(sysfs_root), Path(dev_root)
    gpus = _nvidia(sysfs_root, dev_root) + _vaapi(sysfs_root, dev_root)
    if test_decode and any(gpu.usable for gpu in gpus):
        if ffmpeg is None:
            from previews.media import ffmpeg_path

            ffmpeg = ffmpeg_path()
        with tempfile.TemporaryDirectory(prefix="homelab-gpu-test-") as tmp:
            sample, problem = _sample_clip(ffmpeg, Path(tmp))
            for gpu in gpus:
                if gpu.usable:
                    gpu.reason = problem or _test_decode(ffmpeg, gpu, sample)
                    gpu.usable = not gpu.reason
    for gpu in gpus:
        if gpu.usable:
            log.info("GPU usable: %s %s (%s, driver %s)", gpu.kind, gpu.device, gpu.name, gpu.driver)
        else:
            log.warning("GPU present but not usable: %s %s (%s): %s", gpu.kind, gpu.device, gpu.name, gpu.reason)
    return gpus


def _nvidia(sysfs_root: Path, dev_root: Path) -> list[GPU]:
    nodes = sorted((p for p in dev_root.glob("nvidia[0-9]*") if p.name[6:].isdigit()), key=lambda p: int(p.name[6:]))
    driver = "nvidia"
    version_file = sysfs_root / "module" / "nvidia" / "version"
    if version_file.is_file():
        driver = f"nvidia {version_file.read_text().strip()}"
    smi = shutil.which("nvidia-smi")
    listed: list[tuple[int, str]] = []
    smi_problem = ""
    if smi is None:
        smi_problem = "nvidia-smi is not on PATH"
    else:
        try:
            done = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=15)
        except (OSError, subprocess.TimeoutExpired) as exc:
            smi_problem = f"nvidia-smi -L did not run: {exc}"
        else:
            lines = [line.strip() for line in (done.stdout or "").splitlines() if line.strip()]
            if done.returncode != 0:
                said = lines or [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
                smi_problem = f"nvidia-smi -L failed (exit {done.returncode}): {said[0] if said else 'no output'}"
            for line in lines:
                match = _NVIDIA_SMI_LINE.match(line)
                if match:
                    listed.append((int(match.group(1)), match.group(2).strip()))
    gpus = []
    for index, name in listed:
        node = dev_root / f"nvidia{index}"
        if not node.exists():
            gpus.append(GPU("nvidia", str(node), name, driver, False,
                            f"nvidia-smi lists GPU {index} but {node} is missing (device not passed to this "
                            f"container? use --gpus or the NVIDIA runtime)", index))
        elif not (dev_root / "nvidiactl").exists():
            gpus.append(GPU("nvidia", str(node), name, driver, False, f"{dev_root / 'nvidiactl'} is missing", index))
        else:
            gpus.append(GPU("nvidia", str(node), name, driver, True, "", index))
    seen = {gpu.device for gpu in gpus}
    for node in nodes:
        if str(node) not in seen:
            index = int(node.name[6:])
            reason = smi_problem or f"nvidia-smi -L does not list GPU {index}"
            gpus.append(GPU("nvidia", str(node), f"NVIDIA GPU {index}", driver, False, reason, index))
    return gpus


def _vaapi(sysfs_root: Path, dev_root: Path) -> list[GPU]:
    gpus = []
    nodes = sorted(dev_root.glob("dri/renderD[0-9]*"), key=lambda p: p.name)
    for node in nodes:
        device_dir = sysfs_root / "class" / "drm" / node.name / "device"
        driver_link = device_dir / "driver"
        driver = os.path.basename(os.readlink(driver_link)) if driver_link.is_symlink() else ""
        if driver == "nvidia":
            continue  # the NVIDIA driver's render node: that GPU is used through CUDA
        vendor_file = device_dir / "vendor"
        vendor = vendor_file.read_text().strip().lower() if vendor_file.is_file() else ""
        name = f"{_VENDORS.get(vendor, 'Unknown')} GPU ({driver or 'unknown driver'})"
        if not driver:
            gpus.append(GPU("vaapi", str(node), name, "", False, f"no driver is bound to {node} ({driver_link} is missing)"))
        elif not os.access(node, os.R_OK | os.W_OK):
            gpus.append(GPU("vaapi", str(node), name, driver, False,
                            f"no permission to open {node} (add this user to the group owning it, usually 'render')"))
        else:
            gpus.append(GPU("vaapi", str(node), name, driver, True, ""))
    return gpus


def _sample_clip(ffmpeg: str, tmp: Path) -> tuple[Path, str]:
    """One second of H.264 (MPEG-2 when this ffmpeg has no H.264 encoder) to test-decode; (path, problem)."""
    sample = tmp / "sample.mkv"
    errors = ""
    for codec in ("libx264", "mpeg2video"):
        try:
            done = subprocess.run(
                [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
                 "-i", "testsrc2=size=640x360:rate=25:duration=1", "-c:v", codec, "-pix_fmt", "yuv420p", str(sample)],
                capture_output=True, text=True, timeout=TEST_DECODE_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return sample, f"no test decode: ffmpeg did not run ({exc})"
        if done.returncode == 0:
            return sample, ""
        errors = _first_lines(done.stderr)
    return sample, f"no test decode: ffmpeg could not make a sample clip ({errors})"


def decode_check_command(ffmpeg: str, gpu: GPU, sample: Path) -> list[str]:
    return [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", *hwaccel_input_args(gpu), "-i", str(sample),
            "-t", "1", "-vf", hwaccel_scale_filter(gpu, 320, 180), "-f", "null", "-"]


def _test_decode(ffmpeg: str, gpu: GPU, sample: Path) -> str:
    """"" when `gpu` decoded and scaled the sample, else why not."""
    try:
        done = subprocess.run(decode_check_command(ffmpeg, gpu, sample), capture_output=True, text=True,
                              timeout=TEST_DECODE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"test decode timed out after {TEST_DECODE_TIMEOUT:.0f} s"
    except OSError as exc:
        return f"test decode: ffmpeg did not run ({exc})"
    if done.returncode != 0:
        return f"test decode failed (exit {done.returncode}): {_first_lines(done.stderr) or 'no message'}"
    return ""


_LOG_PREFIX = re.compile(r"^(?:\[[^\]]*@ 0x[0-9a-f]+\]\s*)+")
_GENERIC = ("Error opening output file", "Error opening output files", "Conversion failed!",
            "Error while filtering", "Error initializing output stream")


def ffmpeg_messages(stderr: str | None) -> list[str]:
    """ffmpeg's error lines without the `[codec @ 0x...]` prefixes, repeated and generic lines dropped."""
    out: list[str] = []
    for line in (stderr or "").splitlines():
        line = _LOG_PREFIX.sub("", line.strip()).strip()
        if line and not line.startswith(_GENERIC) and line not in out:
            out.append(line)
    return out


def _first_lines(stderr: str | None, count: int = 2) -> str:
    return "; ".join(ffmpeg_messages(stderr)[:count])
