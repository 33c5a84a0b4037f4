"""Path rules (pure, no Django): Plex path -> local path through the prefix pairs, and where Plex keeps a BIF."""
from __future__ import annotations

import os
import posixpath
import re

SEPARATOR = ";"


class MappingError(ValueError):
    """The two mapping settings do not pair up."""


def split_mapping(value: str) -> list[str]:
    """``"/a;/b"`` -> ``["/a", "/b"]``; blanks dropped."""
    return [part.strip() for part in (value or "").split(SEPARATOR) if part.strip()]


def mapping_pairs(plex_side: str, local_side: str) -> list[tuple[str, str]]:
    """The (plex prefix, local prefix) pairs of the two settings, in their order."""
    plex, local = split_mapping(plex_side), split_mapping(local_side)
    if len(plex) != len(local):
        raise MappingError(
            f"plex_videos_path_mapping has {len(plex)} path(s) and plex_local_videos_path_mapping {len(local)}: "
            "give one local path for each Plex path, in the same order, separated by ';'.")
    return list(zip(plex, local))


def _under(path: str, prefix: str) -> bool:
    prefix = prefix.rstrip("/\\") or "/"
    if prefix == "/":
        return path.startswith("/")
    return path == prefix or path.startswith(prefix + "/") or path.startswith(prefix + "\\")


def map_path(plex_path: str, pairs: list[tuple[str, str]]) -> str:
    """The local path of a Plex path: the longest matching Plex prefix is replaced by its local prefix (a prefix
    matches whole path components only: ``/data`` maps ``/data/x`` but not ``/database/x``). Windows separators
    after the prefix become ``/``. With no matching pair the path is returned unchanged."""
    best = None
    for plex_prefix, local_prefix in pairs:
        if _under(plex_path, plex_prefix) and (best is None or len(plex_prefix) > len(best[0])):
            best = (plex_prefix, local_prefix)
    if best is None:
        return plex_path
    plex_prefix, local_prefix = best
    rest = plex_path[len(plex_prefix.rstrip("/\\")):].replace("\\", "/").lstrip("/")
    return posixpath.join(local_prefix, rest) if rest else local_prefix


def valid_hash(media_hash: str) -> bool:
    """Plex's part hash (a SHA-1, 40 hex digits): anything else would put a BIF outside its bundle folder."""
    return bool(re.fullmatch(r"[0-9a-fA-F]{2,64}", media_hash or ""))


def bif_path(plex_config_folder: str, media_hash: str) -> str:
    """``{config}/Media/localhost/{hash[0]}/{hash[1:]}.bundle/Contents/Indexes/index-sd.bif``."""
    return os.path.join(plex_config_folder, "Media", "localhost", media_hash[0], f"{media_hash[1:]}.bundle",
                        "Contents", "Indexes", "index-sd.bif")
