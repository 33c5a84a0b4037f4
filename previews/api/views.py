from homelab import errors
from homelab.api.views import HomelabAPIView


class PreviewsAPIView(HomelabAPIView):
    """plex-generate-previews: ``{"error": ..., "code": ...}`` bodies."""

    error_dialect = errors.PREVIEWS
