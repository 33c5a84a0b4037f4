"""``transmission``: Basic when a username is given, plus the ``X-Transmission-Session-Id`` handshake: a 409
carries the id to send; it is kept in the shared cache and the request is sent again once."""
from __future__ import annotations

from . import register
from .base import AuthMode
from .tokens import SESSION_TTL

SESSION_HEADER = "X-Transmission-Session-Id"


@register("transmission")
class TransmissionMode(AuthMode):
    def session_entry(self):
        return self.client._local_entry or self.client._read_entry()

    def apply(self, out, entry):
        client = self.client
        if client.username:
            out.auth = (client.username, client.password or "")
        if entry and entry.get("session_id"):
            out.headers[SESSION_HEADER] = entry["session_id"]

    def resend_after(self, response):
        session_id = response.headers.get(SESSION_HEADER)
        if response.status_code != 409 or not session_id:
            return False
        self.client._remember_secret(session_id)
        self.client._write_entry({"mode": self.name, "session_id": session_id}, SESSION_TTL)
        return True
