"""Join attempts per client IP (INVITES_JOIN_RATE, e.g. "10/min"): a fixed window counted in the cache. The client
is ``homelab.net.client_ip`` (the socket address, or the right-most untrusted X-Forwarded-For hop behind a proxy
named in TRUSTED_PROXIES)."""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache

from homelab import clock
from homelab.net import client_ip

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"10/min" -> (10, 60)."""
    count, _, period = (rate or "").partition("/")
    return int(count), PERIODS[period.strip().lower()]


def allow(request, scope: str = "join") -> bool:
    """Count one attempt; False once this IP used up its attempts of the current window."""
    limit, period = parse_rate(settings.INVITES_JOIN_RATE)
    window = int(clock.time() // period)
    key = f"invites:rate:{scope}:{client_ip(request) or 'unknown'}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 1)
        count = 1
    return count <= limit


def retry_after() -> int:
    _, period = parse_rate(settings.INVITES_JOIN_RATE)
    return int(period - clock.time() % period) + 1
