"""GPU detection with a fake /sys and /dev, a fake nvidia-smi on PATH, and a fake or the real ffmpeg."""
from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest

from previews.gpu import GPU, detect_gpus, hwaccel_input_args, hwaccel_scale_filter
from previews.media import ffmpeg_path

SMI_LIST = "GPU 0: NVIDIA GeForce RTX 3060 (UUID: GPU-5bd2b7a6-1c2d-4e5f-8a9b-0c1d2e3f4a5b)\n"


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A fake machine: sysfs and dev roots, a bin dir first on PATH, and a fake ffmpeg that logs its arguments."""
    class Machine:
        sys = tmp_path / "sys"
        dev = tmp_path / "dev"
        bin = tmp_path / "bin"
        ffmpeg_log = tmp_path / "ffmpeg.log"

        def nvidia(self, listing=SMI_LIST, exit_code=0, nodes=("nvidia0",), version="550.54.14"):
            _script(self.bin / "nvidia-smi",
                    f"[ \"$1\" = -L ] || exit 2\nprintf %s {shlex.quote(listing)}\nexit {exit_code}\n")
            for node in (*nodes, "nvidiactl") if nodes else ():
                (self.dev / node).touch()
            if version:
                (self.sys / "module" / "nvidia").mkdir(parents=True, exist_ok=True)
                (self.sys / "module" / "nvidia" / "version").write_text(version + "\n")

        def render_node(self, name="renderD128", driver="i915", vendor="0x8086"):
            (self.dev / "dri").mkdir(exist_ok=True)
            (self.dev / "dri" / name).touch()
            device = self.sys / "class" / "drm" / name / "device"
            device.mkdir(parents=True)
            if driver:
                target = self.sys / "bus" / "pci" / "drivers" / driver
                target.mkdir(parents=True, exist_ok=True)
                os.symlink(os.path.relpath(target, device), device / "driver")
            (device / "vendor").write_text(vendor + "\n")

        def fake_ffmpeg(self, fail_on: str = "", message: str = "Device creation failed: -22.") -> str:
            body = f'echo "$@" >> {shlex.quote(str(self.ffmpeg_log))}\n'
            if fail_on:
                body += (f'case "$*" in *"{fail_on}"*) echo "[AVHWDeviceContext @ 0x55d0] {message}" >&2; '
                         "exit 1;; esac\n")
            body += "exit 0\n"
            return str(_script(self.bin / "ffmpeg", body))

        def calls(self) -> list[str]:
            return self.ffmpeg_log.read_text().splitlines() if self.ffmpeg_log.exists() else []

        def detect(self, **kwargs):
            return detect_gpus(sysfs_root=self.sys, dev_root=self.dev, **kwargs)

    m = Machine()
    for folder in (m.sys, m.dev, m.bin):
        folder.mkdir()
    monkeypatch.setenv("PATH", f"{m.bin}{os.pathsep}/usr/bin{os.pathsep}/bin")
    return m


def test_a_machine_without_gpus_has_none(machine):
    assert machine.detect(ffmpeg=machine.fake_ffmpeg()) == []
    assert machine.calls() == []


def test_an_nvidia_gpu_listed_by_nvidia_smi_and_decoding_is_usable(machine):
    machine.nvidia()
    gpus = machine.detect(ffmpeg=machine.fake_ffmpeg())
    assert gpus == [GPU(kind="nvidia", device=str(machine.dev / "nvidia0"), name="NVIDIA GeForce RTX 3060",
                        driver="nvidia 550.54.14", usable=True, reason="", index=0)]
    sample, decode = machine.calls()
    assert "-f lavfi -i testsrc2=size=640x360:rate=25:duration=1 -c:v libx264" in sample
    assert ("-hwaccel cuda -hwaccel_device 0 -hwaccel_output_format cuda -i " in decode
            and " -t 1 -vf scale_cuda=w=320:h=180:format=nv12,hwdownload,format=nv12 -f null -" in decode)


def test_an_nvidia_gpu_whose_test_decode_fails_says_why(machine):
    machine.nvidia()
    ffmpeg = machine.fake_ffmpeg(fail_on="-hwaccel cuda", message="Cannot load libcuda.so.1")
    (gpu,) = machine.detect(ffmpeg=ffmpeg)
    assert (gpu.usable, gpu.reason) == (False, "test decode failed (exit 1): Cannot load libcuda.so.1")


def test_with_the_real_ffmpeg_and_no_driver_the_decode_fails_with_ffmpegs_reason(machine):
    machine.nvidia()
    machine.render_node()
    nvidia, vaapi = machine.detect(ffmpeg=ffmpeg_path())
    assert not nvidia.usable and nvidia.reason.startswith("test decode failed (exit ")
    assert "CUDA" in nvidia.reason or "libcuda" in nvidia.reason
    assert not vaapi.usable and vaapi.reason.startswith("test decode failed (exit ")
    # ffmpeg's own words: a VAAPI init error, or (no libva on the machine) the wheel's loader aborting on libva-drm
    assert "vaapi" in vaapi.reason.lower() or "libva" in vaapi.reason


def test_a_gpu_nvidia_smi_lists_without_its_device_node_is_not_usable(machine):
    machine.nvidia(nodes=())
    (gpu,) = machine.detect(ffmpeg=machine.fake_ffmpeg())
    assert gpu.device == str(machine.dev / "nvidia0") and not gpu.usable
    assert gpu.reason == (f"nvidia-smi lists GPU 0 but {machine.dev / 'nvidia0'} is missing (device not passed to "
                          "this container? use --gpus or the NVIDIA runtime)")
    assert machine.calls() == []  # nothing to test-decode


def test_a_device_node_without_nvidia_smi_says_so(machine):
    (machine.dev / "nvidia0").touch()
    (machine.dev / "nvidiactl").touch()
    (gpu,) = machine.detect(ffmpeg=machine.fake_ffmpeg())
    assert (gpu.name, gpu.driver, gpu.usable, gpu.reason) == ("NVIDIA GPU 0", "nvidia", False,
                                                              "nvidia-smi is not on PATH")


def test_nvidia_smi_failing_gives_its_message(machine):
    machine.nvidia(listing="NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n",
                   exit_code=9)
    (gpu,) = machine.detect(ffmpeg=machine.fake_ffmpeg())
    assert not gpu.usable
    assert gpu.reason == ("nvidia-smi -L failed (exit 9): NVIDIA-SMI has failed because it couldn't communicate "
                          "with the NVIDIA driver.")


def test_two_nvidia_gpus_are_test_decoded_on_their_own_index(machine):
    machine.nvidia(listing=SMI_LIST + "GPU 1: Tesla T4 (UUID: GPU-aa)\n", nodes=("nvidia0", "nvidia1"))
    gpus = machine.detect(ffmpeg=machine.fake_ffmpeg())
    assert [(g.name, g.index, g.usable) for g in gpus] == [("NVIDIA GeForce RTX 3060", 0, True), ("Tesla T4", 1, True)]
    decodes = machine.calls()[1:]
    assert ["-hwaccel_device 0" in decodes[0], "-hwaccel_device 1" in decodes[1]] == [True, True]


def test_a_vaapi_render_node_gets_its_driver_from_sysfs_and_is_test_decoded(machine):
    machine.render_node()
    gpus = machine.detect(ffmpeg=machine.fake_ffmpeg())
    node = str(machine.dev / "dri" / "renderD128")
    assert gpus == [GPU(kind="vaapi", device=node, name="Intel GPU (i915)", driver="i915", usable=True, reason="")]
    decode = machine.calls()[1]
    assert f"-hwaccel vaapi -hwaccel_device {node} -hwaccel_output_format vaapi -i " in decode
    assert "-vf scale_vaapi=w=320:h=180:format=nv12,hwdownload,format=nv12 -f null -" in decode


def test_a_vaapi_node_whose_decode_fails_says_why(machine):
    machine.render_node(driver="amdgpu", vendor="0x1002")
    ffmpeg = machine.fake_ffmpeg(fail_on="-hwaccel vaapi", message="No VA display found for device /dev/dri/renderD128.")
    (gpu,) = machine.detect(ffmpeg=ffmpeg)
    assert (gpu.name, gpu.driver, gpu.usable) == ("AMD GPU (amdgpu)", "amdgpu", False)
    assert gpu.reason == "test decode failed (exit 1): No VA display found for device /dev/dri/renderD128."


def test_a_render_node_without_a_driver_is_not_usable(machine):
    machine.render_node(driver="")
    (gpu,) = machine.detect(ffmpeg=machine.fake_ffmpeg())
    assert not gpu.usable and gpu.reason.startswith("no driver is bound to ")
    assert machine.calls() == []


def test_the_nvidia_drivers_render_node_is_left_to_cuda(machine):
    machine.render_node(driver="nvidia", vendor="0x10de")
    machine.render_node(name="renderD129")
    gpus = machine.detect(ffmpeg=machine.fake_ffmpeg())
    assert [g.device for g in gpus] == [str(machine.dev / "dri" / "renderD129")]


def test_without_a_test_decode_present_devices_are_taken_as_usable(machine):
    machine.nvidia()
    machine.render_node()
    gpus = machine.detect(ffmpeg=machine.fake_ffmpeg(), test_decode=False)
    assert [(g.kind, g.usable) for g in gpus] == [("nvidia", True), ("vaapi", True)]
    assert machine.calls() == []


def test_the_command_lines_of_each_kind():
    nvidia = GPU("nvidia", "/dev/nvidia1", "T4", "nvidia", True, "", index=1)
    vaapi = GPU("vaapi", "/dev/dri/renderD129", "Intel", "i915", True, "")
    assert hwaccel_input_args(nvidia) == ["-hwaccel", "cuda", "-hwaccel_device", "1", "-hwaccel_output_format", "cuda"]
    assert hwaccel_input_args(vaapi) == ["-hwaccel", "vaapi", "-hwaccel_device", "/dev/dri/renderD129",
                                         "-hwaccel_output_format", "vaapi"]
    assert hwaccel_scale_filter(nvidia, 320, 180) == "scale_cuda=w=320:h=180:format=nv12,hwdownload,format=nv12"
    assert hwaccel_scale_filter(vaapi, 320, 180, ten_bit=True) == (
        "scale_vaapi=w=320:h=180:format=p010,hwdownload,format=p010le")
    assert nvidia.as_dict() == {"type": "nvidia", "device": "/dev/nvidia1", "name": "T4", "driver": "nvidia",
                                "usable": True, "reason": ""}
