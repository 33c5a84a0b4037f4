"""Helpers of the management commands."""
from __future__ import annotations

import sys

from django.core.management.base import CommandError

from homelab import clock


def follow_jobs(model, watched: dict, *, timeout: float, desc: str, gone: str, stdout, poll: float = 0.5) -> dict:
    """Follow job rows (``watched``: pk -> label) until none is in ``model.RUNNING``, with a tqdm bar of their
    ``progress`` on a terminal. Returns pk -> (final status, last message); a row deleted meanwhile ends as
    ``("error", gone)``. Past ``timeout`` seconds, a CommandError."""
    from tqdm import tqdm

    bar = tqdm(total=100 * len(watched), unit="%", desc=desc, file=sys.stdout, disable=not stdout.isatty())
    deadline = clock.monotonic() + timeout
    done: dict = {}
    try:
        while True:
            rows = {r["id"]: r for r in model.objects.filter(pk__in=watched).values(
                "id", "status", "progress", "last_message")}
            total = 0
            for pk in watched:
                row = rows.get(pk)
                if row is None:
                    done.setdefault(pk, ("error", gone))
                elif row["status"] not in model.RUNNING:
                    done.setdefault(pk, (row["status"], row["last_message"]))
                total += 100 if pk in done else row["progress"]
            bar.update(total - bar.n)
            if len(done) == len(watched):
                return done
            if clock.monotonic() > deadline:
                raise CommandError(f"Timed out after {timeout:.0f} s waiting for the refresh.")
            clock.sleep(poll)
    finally:
        bar.close()
