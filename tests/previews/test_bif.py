"""BIF files: the layout Plex reads, written atomically, and read back with clear errors."""
from __future__ import annotations

import os
import struct

import pytest

from previews.parsers import BIF_MAGIC, Bif, BifError, jpeg_dimensions, read_bif, write_bif

# A minimal JPEG: SOI, an SOF0 header for 320x180, EOI (enough for the header reader).
JPEG_320x180 = (b"\xff\xd8" + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                + b"\xff\xc0\x00\x11\x08\x00\xb4\x01\x40\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"
                + b"\xff\xd9")


def test_the_layout_is_the_one_plex_reads(tmp_path):
    frames = [b"\xff\xd8one\xff\xd9", b"\xff\xd8second\xff\xd9", b"\xff\xd8\xff\xd9"]
    path = tmp_path / "index-sd.bif"
    write_bif(path, frames, 5000)
    data = path.read_bytes()

    assert data[:8] == BIF_MAGIC == bytes([0x89, 0x42, 0x49, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])
    assert struct.unpack_from("<III", data, 8) == (0, 3, 5000)
    assert data[20:64] == bytes(44)
    index = [struct.unpack_from("<II", data, 64 + 8 * i) for i in range(4)]
    first = 64 + 8 * 4
    assert index == [(0, first), (1, first + 7), (2, first + 7 + 10), (0xFFFFFFFF, first + 7 + 10 + 4)]
    assert data[first:] == b"".join(frames)
    assert len(data) == index[-1][1]


def test_what_is_written_reads_back(tmp_path):
    frames = [bytes([i]) * (100 + i) for i in range(20)]
    write_bif(tmp_path / "a.bif", frames, 2000)
    assert read_bif(tmp_path / "a.bif") == Bif(version=0, interval_ms=2000, frames=frames)
    assert read_bif((tmp_path / "a.bif").read_bytes()).frames == frames


def test_frames_can_be_given_as_files(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.jpg")
        paths[-1].write_bytes(b"frame%d" % i)
    write_bif(tmp_path / "b.bif", paths, 1000)
    assert read_bif(tmp_path / "b.bif").frames == [b"frame0", b"frame1", b"frame2"]


def test_no_frames_is_a_valid_empty_bif(tmp_path):
    write_bif(tmp_path / "e.bif", [], 5000)
    assert read_bif(tmp_path / "e.bif") == Bif(version=0, interval_ms=5000, frames=[])


def test_folders_are_created_and_no_temporary_file_is_left(tmp_path):
    path = tmp_path / "Media" / "localhost" / "a" / "bcd.bundle" / "Contents" / "Indexes" / "index-sd.bif"
    write_bif(path, [b"x"], 5000)
    assert os.listdir(path.parent) == ["index-sd.bif"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "index-sd.bif"
    write_bif(path, [b"old"], 5000)
    missing = tmp_path / "missing.jpg"
    with pytest.raises(FileNotFoundError):
        write_bif(path, [tmp_path / "nope.jpg", missing], 5000)
    assert read_bif(path).frames == [b"old"]
    assert os.listdir(tmp_path) == ["index-sd.bif"]


@pytest.mark.parametrize("interval", [0, -5, 2**32])
def test_an_interval_that_a_bif_cannot_hold_is_refused(tmp_path, interval):
    with pytest.raises(BifError, match="interval_ms must be between 1 and 4294967295"):
        write_bif(tmp_path / "x.bif", [b"x"], interval)
    assert list(tmp_path.iterdir()) == []


def _valid() -> bytearray:
    frames = [b"\xff\xd8aa\xff\xd9", b"\xff\xd8bbb\xff\xd9"]
    header = BIF_MAGIC + struct.pack("<III", 0, 2, 5000) + bytes(44)
    first = 64 + 24
    index = struct.pack("<IIIIII", 0, first, 1, first + 6, 0xFFFFFFFF, first + 13)
    return bytearray(header + index + b"".join(frames))


def _with(data: bytearray, offset: int, value: int) -> bytes:
    struct.pack_into("<I", data, offset, value)
    return bytes(data)


@pytest.mark.parametrize("data, message", [
    (b"", "too short for a BIF header: 0 bytes, need 64"),
    (b"\x89BIF\r\n\x1a\n" + bytes(20), "too short for a BIF header: 28 bytes, need 64"),
    (b"GIF89a" + bytes(100), "not a BIF: the magic number does not match"),
    (_with(_valid(), 8, 1), "unsupported BIF version 1"),
    (_with(_valid(), 12, 1000), "the header says 1000 frames but the file is too short for their index"),
    (_with(_valid(), 12, 1), "the index does not end with 0xFFFFFFFF after 1 frames"),
    (_with(_valid(), 84, 10_000), "the index ends at byte 10000 but the file has 101 bytes"),
    (_with(_valid(), 72, 5), "index entry 1 names frame 5"),
    (_with(_valid(), 68, 10), "frame 0 has offsets 10..94 outside the data (88..101)"),
    (_with(_valid(), 76, 80), "frame 0 has offsets 88..80 outside the data (88..101)"),
])
def test_a_malformed_bif_is_refused_saying_what_is_wrong(data, message):
    with pytest.raises(BifError) as caught:
        read_bif(data)
    assert str(caught.value).startswith(message)


def test_the_valid_sample_of_the_malformed_cases_reads():
    assert read_bif(bytes(_valid())).frames == [b"\xff\xd8aa\xff\xd9", b"\xff\xd8bbb\xff\xd9"]


def test_a_missing_file_is_a_bif_error(tmp_path):
    with pytest.raises(BifError, match="cannot read .*nope.bif: No such file or directory"):
        read_bif(tmp_path / "nope.bif")


def test_jpeg_dimensions_come_from_the_frame_header():
    assert jpeg_dimensions(JPEG_320x180) == (320, 180)
    with pytest.raises(ValueError, match="no start-of-image marker"):
        jpeg_dimensions(b"GIF89a")
    with pytest.raises(ValueError, match="no end-of-image marker"):
        jpeg_dimensions(JPEG_320x180[:-2])
