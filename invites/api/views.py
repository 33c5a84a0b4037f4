from homelab import errors
from homelab.api.views import HomelabAPIView


class InvitesAPIView(HomelabAPIView):
    """Wizarr: ``{"error": ...}`` bodies."""

    error_dialect = errors.INVITES
