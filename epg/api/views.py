from homelab import errors
from homelab.api.views import HomelabAPIView


class EPGAPIView(HomelabAPIView):
    """Dispatcharr's EPG API: DRF's own ``{"detail": ...}`` bodies."""

    error_dialect = errors.DETAIL
