"""Auth modes of GenericAPIClient: one class per mode, registered by name (``Service.api_auth_type``).

Adding a mode: a class deriving from ``base.AuthMode`` decorated with ``@register("name")`` in a module of this
package (imported below), and ``tests/integrations/auth/test_<name>.py``; then the name in
``integrations.models.AUTH_TYPE_CHOICES`` (with its migration) and, where a service type uses it, the catalogue.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import AuthMode, Outgoing

if TYPE_CHECKING:  # pragma: no cover
    from integrations.client import GenericAPIClient

MODES: dict[str, type[AuthMode]] = {}


def register(*names: str):
    """Class decorator: the mode under one or more names (``@register("jellyfin", "emby")``)."""

    def add(cls: type[AuthMode]) -> type[AuthMode]:
        cls.name = names[0]
        MODES[names[0]] = cls
        for alias in names[1:]:  # the same class under another name (its logins are cached apart)
            MODES[alias] = type(cls.__name__, (cls,), {"name": alias, "__module__": cls.__module__})
        return cls

    return add


def names() -> tuple[str, ...]:
    """Every registered name but ``auto`` (which picks one of them)."""
    return tuple(n for n in MODES if n != "auto")


def mode_class(name: str) -> type[AuthMode]:
    try:
        return MODES[name]
    except KeyError:
        raise ValueError(f"auth_type must be one of {', '.join(names())} or None") from None


def mode_for(client: "GenericAPIClient", name: str | None) -> AuthMode:
    """The mode instance for a client; None is ``auto``."""
    return mode_class(name or "auto").for_client(client)


from . import (api_key, auto, basic, deluge, jellyfin, logins, none, plex,  # noqa: E402,F401 - register
               transmission, xtream)

__all__ = ["AuthMode", "MODES", "Outgoing", "mode_class", "mode_for", "names", "register"]
