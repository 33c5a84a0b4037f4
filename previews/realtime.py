"""``/previews/ws/jobs``: the dashboard's live events on the Platform's WebSocket helper (homelab.realtime).

Credentials as the API takes them (``?token=`` or ``X-Auth-Token`` with the web token, a JWT, an API key, the
session cookie); none -> closed with 4401. The pipeline publishes ``job_progress`` (job_id, progress, completed,
total, current_item), ``job_complete``, ``job_error`` and ``worker_update`` on the ``previews`` channel; each is
relayed as ``{"event", "data"}``. A browser that (re)connects first gets the running jobs' state
(previews.live.current_events) in the same shapes.
"""
from __future__ import annotations

from homelab import realtime

from .live import current_events
from .services import EVENTS_CHANNEL

PATH = "/previews/ws/jobs"


def initial(scope, user) -> list[dict]:
    return current_events()


endpoint = realtime.register(PATH, channels=[EVENTS_CHANNEL], initial=initial)
