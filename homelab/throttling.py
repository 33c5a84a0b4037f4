"""Per-client rate limits. Every throttle keyed on the client's address derives from ClientIPThrottle, so that
the address is the one homelab.net.client_ip believes (never a client-sent X-Forwarded-For)."""
from rest_framework.throttling import SimpleRateThrottle

from homelab.net import client_ip


class ClientIPThrottle(SimpleRateThrottle):
    """A SimpleRateThrottle keyed on the client's address (DRF's own get_ident reads X-Forwarded-For as sent)."""

    def get_ident(self, request):
        return client_ip(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
