"""``none``: nothing is added (services without auth, and API detection's probes)."""
from __future__ import annotations

from . import register
from .base import AuthMode


@register("none")
class NoAuth(AuthMode):
    @classmethod
    def substitute(cls, *, has_key, has_login):
        # detected without credentials; now that there are some, use them
        return "auto" if has_key or has_login else None
