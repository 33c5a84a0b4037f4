"""``basic``: HTTP Basic with the username and password on every request."""
from __future__ import annotations

from . import register
from .base import AuthMode


class LoginCredentialsMode(AuthMode):
    """Modes made of a username and password: with only a key on the Service row, the key is used instead."""

    @classmethod
    def substitute(cls, *, has_key, has_login):
        return "api_key" if has_key and not has_login else None


@register("basic")
class BasicMode(LoginCredentialsMode):
    def apply(self, out, entry):
        out.auth = (self.client.username or "", self.client.password or "")
