"""The errors of GenericAPIClient and its auth modes (re-exported by ``integrations.client``)."""
from __future__ import annotations

from homelab import http


class APIError(http.HTTPError):
    """A failed call to a service API: transport failure, refused login or non-2xx answer.

    ``status`` is the HTTP status (None for transport failures), ``body`` an excerpt of the answer with secrets
    masked, ``permanent`` False for what is worth retrying (``homelab.http.is_temporary``: no answer, 5xx, 429)."""

    def __init__(self, message: str, status: int | None = None, body: str = "", permanent: bool = False, *,
                 timeout: bool = False):
        super().__init__(message, status=status, body=body or "", permanent=permanent, timeout=timeout)


class AuthError(APIError):
    """The service refused the credentials (or no way to log in was found)."""
