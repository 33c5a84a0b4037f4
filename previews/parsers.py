"""Plex BIF (Base Index Frames) files: write and read. Pure format code, no Django.

Layout (all integers little-endian uint32):
  0   magic 89 42 49 46 0D 0A 1A 0A
  8   version (0)
  12  number of frames
  16  milliseconds per frame (the interval)
  20  zero pad up to byte 64
  64  index: (frame number, offset of its JPEG) per frame, then (0xFFFFFFFF, end offset)
      then the JPEGs, back to back.
"""
from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BIF_MAGIC = bytes([0x89, 0x42, 0x49, 0x46, 0x0D, 0x0A, 0x1A, 0x0A])
BIF_VERSION = 0
HEADER_SIZE = 64
END_MARKER = 0xFFFFFFFF
_MAX_UINT32 = 0xFFFFFFFF


class BifError(ValueError):
    """A BIF that cannot be read (or frames that cannot be written as one)."""


@dataclass
class Bif:
    version: int
    interval_ms: int
    frames: list[bytes] = field(default_factory=list)


def _frame_bytes(item: bytes | Path | str) -> bytes:
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    return Path(item).read_bytes()


def write_bif(path: Path, jpegs: Sequence[bytes] | Iterable[Path], interval_ms: int) -> None:
    """Write `jpegs` (bytes, or paths of JPEG files, in frame order) as a BIF at `path`.

    The file is written next to `path` under a temporary name and renamed into place, so a reader (Plex)
    never sees half a file and a failure leaves the old file, if any, as it was. Parent folders are created.
    """
    interval_ms = int(interval_ms)
    if not 0 < interval_ms <= _MAX_UINT32:
        raise BifError(f"interval_ms must be between 1 and {_MAX_UINT32}, not {interval_ms}")
    frames = [_frame_bytes(item) for item in jpegs]
    count = len(frames)
    offset = HEADER_SIZE + 8 * (count + 1)
    index = bytearray()
    for number, frame in enumerate(frames):
        index += struct.pack("<II", number, offset)
        offset += len(frame)
    if offset > _MAX_UINT32:
        raise BifError(f"{count} frames make {offset} bytes, more than a BIF can index")
    index += struct.pack("<II", END_MARKER, offset)
    header = BIF_MAGIC + struct.pack("<III", BIF_VERSION, count, interval_ms)
    header += bytes(HEADER_SIZE - len(header))

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(header)
            out.write(index)
            for frame in frames:
                out.write(frame)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise


def read_bif(path_or_bytes: bytes | bytearray | memoryview | Path | str) -> Bif:
    """Parse a BIF from a path or its bytes. Anything malformed raises BifError saying what."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
    else:
        try:
            data = Path(path_or_bytes).read_bytes()
        except OSError as exc:
            raise BifError(f"cannot read {path_or_bytes}: {exc.strerror or exc}") from None
    if len(data) < HEADER_SIZE:
        raise BifError(f"too short for a BIF header: {len(data)} bytes, need {HEADER_SIZE}")
    if data[:8] != BIF_MAGIC:
        raise BifError("not a BIF: the magic number does not match")
    version, count, interval_ms = struct.unpack_from("<III", data, 8)
    if version != BIF_VERSION:
        raise BifError(f"unsupported BIF version {version}")
    index_end = HEADER_SIZE + 8 * (count + 1)
    if index_end > len(data):
        raise BifError(f"the header says {count} frames but the file is too short for their index")
    entries = [struct.unpack_from("<II", data, HEADER_SIZE + 8 * i) for i in range(count + 1)]
    last_number, end = entries[-1]
    if last_number != END_MARKER:
        raise BifError(f"the index does not end with 0xFFFFFFFF after {count} frames")
    if end > len(data):
        raise BifError(f"the index ends at byte {end} but the file has {len(data)} bytes")
    frames = []
    for i in range(count):
        number, start = entries[i]
        stop = entries[i + 1][1]
        if number != i:
            raise BifError(f"index entry {i} names frame {number}")
        if not index_end <= start <= stop <= end:
            raise BifError(f"frame {i} has offsets {start}..{stop} outside the data ({index_end}..{end})")
        frames.append(data[start:stop])
    return Bif(version=version, interval_ms=interval_ms, frames=frames)


_SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_dimensions(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame header; ValueError if it is not a whole JPEG."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG: no start-of-image marker")
    if data[-2:] != b"\xff\xd9":
        raise ValueError("not a whole JPEG: no end-of-image marker")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"not a JPEG: no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in _SOF_MARKERS:
            if pos + 9 > len(data):
                break
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return width, height
        pos += 2 + length
    raise ValueError("not a JPEG: no start-of-frame header")
