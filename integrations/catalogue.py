"""The built-in catalogue of common homelab services: where their API lives and how it authenticates.

Pure data, no Django imports. Keys are service types (``Service.service_type``). Each entry:
``base_path`` API base path, ``auth_type`` a GenericAPIClient mode, ``login_endpoint`` (modes that log in),
``refresh_endpoint`` (JWT), ``api_key_header``, ``health_path`` a cheap GET that proves the API answers
(relative to the service root), ``test_path`` where the health path answers anyone: a GET that needs the credentials
(what "Test connection" calls), ``aliases`` other names the service goes by, ``probes`` extra paths to probe.
"""
from __future__ import annotations

import re

_ARR = {"auth_type": "api_key", "api_key_header": "X-Api-Key"}

CATALOGUE: dict[str, dict] = {
    "portainer": {"base_path": "/api", "auth_type": "bearer", "login_endpoint": "/api/auth",
                  "health_path": "/api/system/status", "probes": ["/api/system/status"]},
    "qbittorrent": {"base_path": "/api/v2", "auth_type": "cookie", "login_endpoint": "/api/v2/auth/login",
                    "health_path": "/api/v2/app/version", "aliases": ["qbit", "qbt"],
                    "probes": ["/api/v2/app/version"]},
    "sonarr": {**_ARR, "base_path": "/api/v3", "health_path": "/api/v3/system/status"},
    "radarr": {**_ARR, "base_path": "/api/v3", "health_path": "/api/v3/system/status"},
    "prowlarr": {**_ARR, "base_path": "/api/v1", "health_path": "/api/v1/system/status"},
    "lidarr": {**_ARR, "base_path": "/api/v1", "health_path": "/api/v1/system/status"},
    "readarr": {**_ARR, "base_path": "/api/v1", "health_path": "/api/v1/system/status"},
    "bazarr": {**_ARR, "base_path": "/api", "health_path": "/api/system/status"},
    "sabnzbd": {"base_path": "/api", "auth_type": "api_key", "api_key_query": "apikey",
                "health_path": "/api?mode=version&output=json", "aliases": ["sab"]},
    "nzbget": {"base_path": "/jsonrpc", "auth_type": "basic", "health_path": "/jsonrpc/version"},
    "transmission": {"base_path": "/transmission/rpc", "auth_type": "transmission",
                     "health_path": "/transmission/rpc", "probes": ["/transmission/rpc"]},
    "deluge": {"base_path": "/json", "auth_type": "deluge", "login_endpoint": "/json",
               "health_path": "/json"},
    "jellyfin": {"base_path": "/", "auth_type": "jellyfin", "login_endpoint": "/Users/AuthenticateByName",
                 "api_key_header": "X-Emby-Token", "health_path": "/System/Info/Public", "test_path": "/System/Info",
                 "probes": ["/System/Info/Public"]},
    "emby": {"base_path": "/emby", "auth_type": "emby", "login_endpoint": "/emby/Users/AuthenticateByName",
             "api_key_header": "X-Emby-Token", "health_path": "/emby/System/Info/Public",
             "test_path": "/emby/System/Info",
             "probes": ["/emby/System/Info/Public"]},
    "plex": {"base_path": "/", "auth_type": "plex", "api_key_header": "X-Plex-Token", "health_path": "/identity", "test_path": "/",
             "aliases": ["plexmediaserver", "pms"], "probes": ["/identity"]},
    # an Xtream Codes IPTV panel: player_api.php answers user_info for the query's username and password
    "xtream": {"base_path": "/", "auth_type": "xtream", "health_path": "/player_api.php",
               "aliases": ["xtream-codes", "xtreamcodes", "xtream-ui"]},
    "tautulli": {"base_path": "/api/v2", "auth_type": "api_key", "api_key_query": "apikey",
                 "health_path": "/api/v2?cmd=status"},
    "overseerr": {**_ARR, "base_path": "/api/v1", "health_path": "/api/v1/status", "test_path": "/api/v1/auth/me", "aliases": ["jellyseerr"]},
    "requestrr": {"base_path": "/api", "auth_type": "bearer", "login_endpoint": "/api/auth/login",
                  "health_path": "/api/settings"},
    "ombi": {"base_path": "/api/v1", "auth_type": "api_key", "api_key_header": "ApiKey",
             "health_path": "/api/v1/Status"},
    "calibre-web": {"base_path": "/opds", "auth_type": "basic", "health_path": "/opds",
                    "aliases": ["calibreweb", "calibre"]},
    "paperless": {"base_path": "/api", "auth_type": "bearer", "login_endpoint": "/api/token/",
                  "health_path": "/api/", "aliases": ["paperless-ngx", "paperlessngx"]},
    "nextcloud": {"base_path": "/ocs/v2.php", "auth_type": "basic", "health_path": "/status.php",
                  "probes": ["/status.php"]},
    "syncthing": {"base_path": "/rest", "auth_type": "api_key", "api_key_header": "X-API-Key",
                  "health_path": "/rest/noauth/health", "test_path": "/rest/system/version", "probes": ["/rest/noauth/health"]},
    "gitea": {"base_path": "/api/v1", "auth_type": "basic", "health_path": "/api/v1/version", "test_path": "/api/v1/user",
              "aliases": ["forgejo"], "probes": ["/api/v1/version"]},
    "drone": {"base_path": "/api", "auth_type": "bearer", "health_path": "/healthz", "test_path": "/api/user"},
    "jenkins": {"base_path": "/api/json", "auth_type": "basic", "health_path": "/api/json",
                "probes": ["/api/json"]},
    "gitlab": {"base_path": "/api/v4", "auth_type": "api_key", "api_key_header": "PRIVATE-TOKEN",
               "health_path": "/api/v4/version", "probes": ["/api/v4/version"]},
    "grafana": {"base_path": "/api", "auth_type": "basic", "health_path": "/api/health", "test_path": "/api/user"},
    "prometheus": {"base_path": "/api/v1", "auth_type": "none", "health_path": "/-/healthy",
                   "probes": ["/api/v1/status/buildinfo"]},
    "heimdall": {"base_path": "/", "auth_type": "none", "health_path": "/"},
    "organizr": {"base_path": "/api/v2", "auth_type": "api_key", "api_key_header": "Token",
                 "health_path": "/api/v2/ping"},
    "traefik": {"base_path": "/api", "auth_type": "basic", "health_path": "/api/version",
                "probes": ["/api/overview"]},
    "dispatcharr": {"base_path": "/api", "auth_type": "jwt", "login_endpoint": "/api/accounts/token/",
                    "refresh_endpoint": "/api/accounts/token/refresh/", "health_path": "/api/core/version/",
                    "probes": ["/api/core/version/"]},
    "wizarr": {"base_path": "/api", "auth_type": "api_key", "api_key_header": "X-API-Key",
               "health_path": "/api/status", "probes": ["/api/status"]},
    "homeassistant": {"base_path": "/api", "auth_type": "bearer", "health_path": "/api/",
                      "aliases": ["home-assistant", "hass"]},
    "uptime-kuma": {"base_path": "/api", "auth_type": "none", "health_path": "/metrics",
                    "aliases": ["uptimekuma"]},
}

_ALIASES: dict[str, str] = {}
for _key, _entry in CATALOGUE.items():
    _ALIASES[_key] = _key
    _ALIASES[_key.replace("-", "")] = _key
    for _alias in _entry.get("aliases", ()):
        _ALIASES[_alias] = _key
        _ALIASES[_alias.replace("-", "")] = _key


def lookup(service_type: str) -> dict | None:
    """The entry for a service type or alias (case-insensitive), or None."""
    if not service_type:
        return None
    key = _ALIASES.get(service_type.strip().lower())
    return {**CATALOGUE[key], "type": key} if key else None


_WORD = re.compile(r"[a-z0-9]+")


def match_name(*names: str) -> str | None:
    """The catalogue key that a service's name (or slug, router name, host) names, or None.

    ``sonarr``, ``sonarr-4k``, ``sonarr@docker``, ``Sonarr.home.lan`` -> ``sonarr``; the longest known name wins
    (``calibre-web`` before ``calibre``)."""
    for name in names:
        if not name:
            continue
        text = name.lower().split("@", 1)[0]
        whole = text.replace("_", "-")
        for alias in sorted(_ALIASES, key=len, reverse=True):
            if whole == alias or whole.replace("-", "") == alias:
                return _ALIASES[alias]
        words = _WORD.findall(text)
        joined = ["-".join(words[i:j]) for i in range(len(words)) for j in range(len(words), i, -1)]
        for candidate in sorted(joined, key=len, reverse=True):
            key = _ALIASES.get(candidate) or _ALIASES.get(candidate.replace("-", ""))
            if key:
                return key
    return None


# Paths probed when labels and the catalogue say nothing (19, in order; the API Integration Guide's list
# first, then paths specific to common services).
PROBE_PATHS = (
    "/api", "/api/v1", "/api/v2", "/api/v3",
    "/api/status", "/api/system/status", "/api/health", "/api/version", "/api/ping",
    "/api/v3/system/status", "/api/v1/system/status", "/api/v2/app/version", "/api/v1/version",
    "/api/v4/version", "/System/Info/Public", "/identity", "/rest/noauth/health", "/status.php",
    "/api/accounts/token/",
)
