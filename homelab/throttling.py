"""Per-client rate limits. Every throttle keyed on the client's address derives from ClientIPThrottle, so that
the address is the one homelab.net.client_ip believes (never a client-sent X-Forwarded-For)."""
import hashlib

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from homelab import clock
from homelab.net import client_ip


class ClientIPThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle keyed on the client's address (DRF's own get_ident reads X-Forwarded-For as sent)."""

    def get_ident(self, request):
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AttemptLimit:
    """At most ``rate`` ("20/min", DRF's format) attempts per key in a sliding window, counted in the cache.
    For forms outside DRF (the admin login); times come from homelab.clock so tests can move them."""

    def __init__(self, scope: str, rate: str):
        count, period = rate.split("/")
        self.scope = scope
        self.count = int(count)
        self.window = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]

    def _key(self, ident: str) -> str:
        return f"throttle_{self.scope}_{hashlib.sha256(ident.encode()).hexdigest()}"

    def _history(self, ident: str) -> list[float]:
        now = clock.time()
        return [t for t in cache.get(self._key(ident), []) if t > now - self.window]

    def wait(self, ident: str) -> float | None:
        """Seconds until the next attempt is allowed, or None when it is allowed now."""
        history = self._history(ident)
        if len(history) < self.count:
            return None
        return max(1.0, history[-self.count] + self.window - clock.time())

    def hit(self, ident: str) -> None:
        history = self._history(ident)
        history.append(clock.time())
        cache.set(self._key(ident), history[-self.count:], self.window)
