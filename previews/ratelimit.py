"""Per-client-IP rate limits in Flask-Limiter's manner (fixed windows in Redis), with its headers.

``"5/minute"``, ``"200/day;50/hour"``: each limit is a counter per window; a request over any of them is
refused (429 RATE_LIMITED). The answer carries ``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (epoch
seconds of the window's end) of the tightest limit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.cache import cache
from rest_framework import exceptions

from homelab import clock

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.I)


class RateLimited(exceptions.APIException):
    """429 with Retry-After (the exception handler sends ``wait``); not DRF's Throttled, whose message gains a
    second "Expected available in ..." sentence."""

    status_code = 429
    error_code = "RATE_LIMITED"
    default_code = "rate_limited"

    def __init__(self, wait: float, limit: str):
        self.wait = max(1, int(wait) + 1)
        super().__init__(detail=f"Rate limit exceeded: {limit}. Try again in {self.wait} s.")


@dataclass
class Limit:
    count: int
    seconds: int
    text: str


def parse(rates: str) -> list[Limit]:
    """``"200/day;50/hour"`` (also ``,``-separated, or ``"10 per minute"``) -> limits; bad parts raise ValueError."""
    limits = []
    for part in re.split(r"[;,]", rates or ""):
        if not part.strip():
            continue
        match = _RATE.match(part)
        if not match:
            raise ValueError(f"Not a rate limit: {part!r} (e.g. '5/minute', '200/day;50/hour')")
        count, multiplier, unit = int(match[1]), int(match[2] or 1), match[3].lower()
        limits.append(Limit(count, multiplier * PERIODS[unit], part.strip()))
    return limits


def hit(scope: str, ident: str, rates: str) -> dict:
    """Count one request of ``ident`` in ``scope``; returns the headers to send, raises RateLimited (with the
    headers on ``exc.headers``) when a limit is passed."""
    now = clock.time()
    headers, refused = None, None
    for limit in parse(rates):
        window = int(now // limit.seconds) * limit.seconds
        key = f"previews:ratelimit:{scope}:{limit.count}:{limit.seconds}:{ident}:{window}"
        cache.add(key, 0, timeout=limit.seconds + 5)
        try:
            used = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=limit.seconds + 5)
            used = 1
        reset = window + limit.seconds
        remaining = max(0, limit.count - used)
        current = {"X-RateLimit-Limit": str(limit.count), "X-RateLimit-Remaining": str(remaining),
                   "X-RateLimit-Reset": str(reset)}
        if used > limit.count:
            if refused is None or reset > refused[0]:
                refused = (reset, limit, current)
        elif headers is None or remaining < int(headers["X-RateLimit-Remaining"]):
            headers = current
    if refused is not None:
        reset, limit, current = refused
        exc = RateLimited(max(0.0, reset - now), limit.text)
        exc.headers = current
        raise exc
    return headers or {}
