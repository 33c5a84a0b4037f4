"""Tokens: reading one from a login answer, a JWT's claims, and the cache entry with its refresh time.

Times come from ``homelab.clock``, so a test moves the clock past a token's refresh point instead of sleeping."""
from __future__ import annotations

import base64
import json
from typing import Any

from homelab import clock

TOKEN_KEYS = ("access", "token", "access_token", "accessToken", "jwt", "AccessToken", "id_token", "sid",
              "session_token", "sessionToken", "auth_token", "authToken", "key", "api_key")
REFRESH_KEYS = ("refresh", "refresh_token", "refreshToken")
DEFAULT_JWT_LIFETIME = 300.0      # seconds, when neither the token's exp claim nor token_lifetime says
REFRESH_MARGIN = 60.0             # refresh this long before expiry (at most half the token's life)
SESSION_TTL = 24 * 3600           # how long a login with no known expiry is kept in the cache


def jwt_claims(token: str) -> dict:
    """The payload of a JWT, unverified (only to read ``exp``); {} for anything that is not one."""
    try:
        payload = token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
        return claims if isinstance(claims, dict) else {}
    except Exception:
        return {}


def find_key(body: Any, keys: tuple[str, ...]) -> str | None:
    """A string value under one of keys, at the top level or one level down (``{"data": {...}}``)."""
    if not isinstance(body, dict):
        return None
    for key in keys:
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    for value in body.values():
        if isinstance(value, dict):
            found = find_key(value, keys)
            if found:
                return found
    return None


def token_entry(mode: str, access: str, refresh: str | None = None, *,
                lifetime: float | None = None) -> tuple[dict, float]:
    """The cache entry for a token and how long to keep it. ``refresh_at`` is when to refresh (or log in again):
    about a minute before the expiry the token's ``exp`` claim gives, else ``lifetime`` seconds from now, else
    (JWT mode) five minutes; an ``exp`` already past means clock skew and is not trusted."""
    now = clock.time()
    exp = jwt_claims(access).get("exp")
    if isinstance(exp, (int, float)) and exp > now:
        expires_at = float(exp)
    elif lifetime:
        expires_at = now + float(lifetime)
    elif mode == "jwt":
        expires_at = now + DEFAULT_JWT_LIFETIME
    else:
        expires_at = None
    entry = {"mode": mode, "access": access}
    ttl = SESSION_TTL
    if expires_at is not None:
        life = max(expires_at - now, 0.0)
        entry["refresh_at"] = expires_at - min(REFRESH_MARGIN, life / 2)
        ttl = life
    if refresh:
        entry["refresh"] = refresh
        refresh_exp = jwt_claims(refresh).get("exp")
        ttl = max(ttl, (float(refresh_exp) - now) if isinstance(refresh_exp, (int, float)) else SESSION_TTL)
    return entry, ttl


def fresh(entry: dict | None) -> bool:
    """Whether a cached entry may be used as it is (no refresh time, or not reached yet)."""
    if not entry:
        return False
    refresh_at = entry.get("refresh_at")
    return refresh_at is None or clock.time() < refresh_at
