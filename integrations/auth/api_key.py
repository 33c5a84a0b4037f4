"""``api_key``: the key in a header (``api_key_header``, default ``X-Api-Key``) or a query parameter
(``api_key_query``, e.g. SABnzbd's ``apikey``)."""
from __future__ import annotations

from . import register
from .base import AuthMode


@register("api_key")
class APIKeyMode(AuthMode):
    @classmethod
    def substitute(cls, *, has_key, has_login):
        # the catalogue expects a key, the user gave a login: let the client find out how to log in
        return "auto" if not has_key and has_login else None

    def apply(self, out, entry):
        client = self.client
        if client.api_key_query:
            out.params[client.api_key_query] = client.api_key
        else:
            out.headers[client.api_key_header] = client.api_key
