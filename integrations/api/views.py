from homelab import errors
from homelab.api.views import HomelabAPIView


class ServicesAPIView(HomelabAPIView):
    """The services API; the proxy's dialect is ``{"success": false, "error": ...}``."""

    error_dialect = errors.SUCCESS_ERROR
