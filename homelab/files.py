"""Small file helpers with no Django imports (settings.py uses them)."""
import os
from pathlib import Path


def create_once(path: Path, content: str) -> str:
    """Create path holding content (mode 0600) unless it exists, atomically: a concurrent reader never sees
    it half-written. Returns what the file holds afterwards, whoever wrote it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content + "\n")
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
