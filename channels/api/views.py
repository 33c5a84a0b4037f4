from homelab import errors
from homelab.api.views import HomelabAPIView


class IPTVAPIView(HomelabAPIView):
    """The IPTV backend (FastAPI): ``{"detail": ...}`` bodies."""

    error_dialect = errors.DETAIL
