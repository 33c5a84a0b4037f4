"""The interface every auth mode implements (one class per mode, registered by name in ``integrations.auth``).

A mode is made for one ``GenericAPIClient`` and reads its configuration from it (``client.username``,
``client.password``, ``client.api_key``, ``client.auth_endpoint``, ...). The client keeps what all modes share:
the transport (``client.send``), the encrypted login cache in Redis with its lock, and the one re-login + retry.
A mode says:

- ``apply(out, entry)``: what a request carries (headers, query parameters, HTTP auth, cookies), given the login
  entry from the cache (None for modes that do not log in);
- ``login()``: log in, returning ``(entry, ttl)`` for the cache (modes with ``logs_in``);
- ``refresh(entry)``: a new entry from a refresh token, or None (then: full login);
- ``wants_relogin(response)``: whether this answer means "log in again" (``relogin_statuses`` by default);
- ``body(data, json, form)``: how a ``data=`` dict goes out (``form_bodies``: as a form, else as JSON).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Iterable

if TYPE_CHECKING:  # pragma: no cover
    import requests

    from integrations.client import GenericAPIClient


@dataclass
class Outgoing:
    """What one request carries besides its method, URL and body."""

    headers: dict = field(default_factory=lambda: {"Accept": "application/json, */*;q=0.5"})
    params: dict = field(default_factory=dict)
    auth: tuple[str, str] | None = None
    cookies: dict | None = None


class AuthMode:
    name: ClassVar[str] = ""            # set by the registry: the name the client was asked for
    form_bodies: ClassVar[bool] = False  # a data= dict goes out as a form (qBittorrent reads only forms)
    relogin_statuses: ClassVar[tuple[int, ...]] = (401,)
    uses_refresh_endpoint: ClassVar[bool] = False  # for_service passes the catalogue's refresh endpoint
    username_is_secret: ClassVar[bool] = False  # the services API masks the username for non-staff users

    def __init__(self, client: "GenericAPIClient"):
        self.client = client

    @classmethod
    def for_client(cls, client: "GenericAPIClient") -> "AuthMode":
        """The mode instance for a client (the auto mode answers with the mode it picks)."""
        return cls(client)

    @classmethod
    def substitute(cls, *, has_key: bool, has_login: bool) -> str | None:
        """for_service: the mode to use instead when a Service row's credentials do not fit this one (a type
        detected before credentials were added); None keeps this one, "auto" lets the client pick."""
        return None

    # --- what requests carry --------------------------------------------------------------------

    def secrets(self) -> Iterable[str]:
        """Values besides the password and key that must never show in logs, errors or proxied answers."""
        return ()

    def apply(self, out: Outgoing, entry: dict | None) -> None:
        """Add this mode's credentials to an outgoing request."""

    def for_entry(self, entry: dict | None) -> "AuthMode":
        """The mode requests go out in with this login entry (the auto mode's login may find a cookie)."""
        return self

    def body(self, data, json, form) -> dict:
        """requests' body keyword for ``json=`` / ``form=`` / ``data=``."""
        if json is not None:
            return {"json": json}
        if form is not None:
            return {"data": form}
        if data is None:
            return {}
        if isinstance(data, dict) and self.form_bodies:
            return {"data": data}
        if isinstance(data, (dict, list)):
            return {"json": data}
        return {"data": data}

    # --- logins -----------------------------------------------------------------------------------

    @property
    def logs_in(self) -> bool:
        """Whether this mode holds a login (cached, shared) that an answer may outdate."""
        return False

    def check_login(self) -> None:
        """Raise AuthError when a login cannot even be tried (no username or password)."""

    def login(self) -> tuple[dict, float]:
        """Log in; ``(entry, ttl)`` for the cache. Raises AuthError."""
        raise NotImplementedError(f"{self.name} does not log in")

    def refresh(self, entry: dict) -> tuple[dict, float] | None:
        return None

    def session_entry(self) -> dict | None:
        """For modes without a login that still keep something per service (Transmission's session id)."""
        return None

    def wants_relogin(self, response: "requests.Response", *, stream: bool) -> bool:
        return response.status_code in self.relogin_statuses

    def resend_after(self, response: "requests.Response") -> bool:
        """Whether to send the same request again at once, without a new login (a session handshake)."""
        return False
