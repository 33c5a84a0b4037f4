"""Live events to browsers: WebSocket endpoints that relay Redis pub/sub channels (DESIGN.md, "Work").

``register(path, channels=..., allowed=..., initial=...)`` mounts a plain ASGI callable on
``homelab.asgi.websocket_routes`` (the top-level package ``channels`` is our IPTV app and shadows Django Channels).
Each connection:

1. is authenticated like the API, by the DRF authentication classes of homelab/auth.py, from the handshake:
   ``Authorization: Bearer`` (JWT or web token), ``X-Auth-Token``, ``X-API-Key``, the session cookie, or, since a
   browser cannot set headers on a WebSocket, ``?token=`` (web token or JWT) and ``?key=`` (API key). It is closed
   with 4401 when nothing valid is sent, 4403 when the user may not use the endpoint (or a session cookie comes
   from a foreign page: the ``Origin`` must be this host or one of CSRF_TRUSTED_ORIGINS);
2. subscribes to the endpoint's channels (``homelab.events.publish(channel, event, data)`` publishes on them);
   a request for channels it does not know is closed with 4404, one naming none with 4400;
3. sends the endpoint's initial state, if it has one (``initial(scope, user)`` returns events), so a page that
   reconnects sees running jobs at once, then relays every event as a text frame ``{"event": ..., "data": ...}``
   and a ``{"event": "heartbeat", "data": {"time": ...}}`` every REALTIME_HEARTBEAT_SECONDS;
4. ends when the client goes: the subscription and its Redis connection are released, no task is left behind.

Database work (authentication, initial state) runs in worker threads, which close their connections after it;
the event loop only relays.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from importlib import import_module
from io import BytesIO
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, urlsplit

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from homelab import clock, events

logger = logging.getLogger("homelab.realtime")

CLOSE_INVALID = 4400  # the request names no channel, or is malformed
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404  # no such endpoint, or an unknown channel
CLOSE_UNAVAILABLE = 1011  # Redis does not answer

Event = dict  # {"event": str, "data": Any}


class Reject(Exception):
    """Raised by a ``channels`` callable to refuse the connection with a close code."""

    def __init__(self, code: int, reason: str = ""):
        super().__init__(reason)
        self.code, self.reason = code, reason


async def close(receive, send, code: int, reason: str = "") -> None:
    """Accept, then close with ``code``: a close sent before the accept would reach the client as a bare HTTP 403,
    and a browser could not tell "log in" from "no such channel"."""
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": code, "reason": _fit_close_reason(reason)})


def _fit_close_reason(reason: str) -> str:
    """A close frame carries at most 123 bytes of reason (RFC 6455 5.5); a longer one breaks the frame."""
    data = reason.encode()
    if len(data) <= 123:
        return reason
    return data[:120].decode(errors="ignore") + "..."


def query(scope) -> dict[str, list[str]]:
    raw = scope.get("query_string", b"")
    return parse_qs(raw.decode("latin-1") if isinstance(raw, bytes) else raw)


def requested_channels(scope, allowed: Iterable[str]) -> list[str]:
    """``?channel=epg`` (repeated or comma-separated), each one of ``allowed``."""
    names = [n.strip() for value in query(scope).get("channel", []) for n in value.split(",") if n.strip()]
    if not names:
        raise Reject(CLOSE_INVALID, "Name a channel: ?channel=" + ",".join(allowed))
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise Reject(CLOSE_NOT_FOUND, f"Unknown channel: {', '.join(unknown)}")
    return list(dict.fromkeys(names))


# --- authentication ---------------------------------------------------------------------------


def _django_request(scope):
    """A Django request built from the handshake, with the query credentials moved where the DRF classes look."""
    from django.core.handlers.asgi import ASGIRequest

    request = ASGIRequest({**scope, "method": "GET"}, BytesIO())
    params = query(scope)
    token = (params.get("token") or [""])[0]
    key = (params.get("key") or [""])[0]
    if not all(value.isascii() and value.isprintable() for value in (token, key)):
        # web tokens, JWTs and API keys are URL-safe ASCII; anything else cannot be one (nor travel in a header)
        raise Reject(CLOSE_UNAUTHENTICATED, "Authentication credentials were not provided or are not valid.")
    if token and "HTTP_AUTHORIZATION" not in request.META and "HTTP_X_AUTH_TOKEN" not in request.META:
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {token}"  # BearerAuthentication: a JWT or the web token
    if key and "HTTP_X_API_KEY" not in request.META:
        request.META["HTTP_X_API_KEY"] = key
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(request.COOKIES.get(settings.SESSION_COOKIE_NAME))
    return request


def _origin_allowed(request) -> bool:
    origin = request.META.get("HTTP_ORIGIN")
    if not origin:
        return True  # not a browser
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    return urlsplit(origin).netloc == request.META.get("HTTP_HOST")


def authenticate(scope):
    """(user, credential kind) for the handshake, or raise Reject. Runs in a worker thread (database work)."""
    from django.contrib.auth import get_user
    from rest_framework import exceptions
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    from homelab.auth import credential_kind

    close_old_connections()
    try:
        django_request = _django_request(scope)
        django_request.user = get_user(django_request)
        request = Request(django_request, authenticators=[cls() for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES])
        try:
            user = request.user
        except exceptions.APIException:
            user = None
        if user is None or not user.is_authenticated or not user.is_active:
            raise Reject(CLOSE_UNAUTHENTICATED, "Authentication credentials were not provided or are not valid.")
        kind = credential_kind(request)
        if kind == "session" and not _origin_allowed(django_request):
            raise Reject(CLOSE_FORBIDDEN, "The session cookie is not accepted from this origin.")
        return user, kind
    finally:
        connections.close_all()  # this thread's; WebSocket handshakes are rare, no connection is kept


# --- the endpoint -----------------------------------------------------------------------------


def _is_active_user(user) -> bool:
    return user.is_authenticated and user.is_active


@dataclass
class EventStream:
    channels: Callable[[dict], list[str]] | list[str]
    allowed: Callable[[Any], bool] = _is_active_user
    initial: Callable[[dict, Any], Iterable[Event]] | None = None

    async def __call__(self, scope, receive, send):
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        try:
            user, kind = await sync_to_async(authenticate, thread_sensitive=False)(scope)
            if not await sync_to_async(self._allowed, thread_sensitive=False)(user):
                raise Reject(CLOSE_FORBIDDEN, "You do not have permission to use this endpoint.")
            names = self.channels(scope) if callable(self.channels) else list(self.channels)
        except Reject as exc:
            await close(receive, send, exc.code, exc.reason)
            return
        except Exception:
            logger.exception("WebSocket %s: the handshake failed", scope["path"])
            await close(receive, send, CLOSE_UNAVAILABLE, "Server error.")
            return
        client = redis_client()
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(*[events.channel_name(n) for n in names])
        except (aioredis.RedisError, OSError) as exc:
            logger.warning("WebSocket %s: Redis does not answer: %s", scope["path"], exc)
            await pubsub.aclose()
            await client.aclose()
            await close(receive, send, CLOSE_UNAVAILABLE, "Events are unavailable.")
            return
        await send({"type": "websocket.accept"})
        logger.info("WebSocket %s opened by %s (%s) for %s", scope["path"], user.get_username(), kind, ",".join(names))
        tasks = [asyncio.ensure_future(t) for t in (self._relay(pubsub, send), self._heartbeat(send),
                                                      self._until_disconnect(receive))]
        try:
            if self.initial is not None:
                for event in await sync_to_async(self._initial, thread_sensitive=False)(scope, user):
                    await send({"type": "websocket.send", "text": json.dumps(event, default=str)})
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if tasks[2] not in done:  # the relay or the heartbeat failed while the client is still there
                failure = next(iter(done)).exception()
                logger.warning("WebSocket %s: closing, the event relay failed: %s", scope["path"], failure)
                await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE, "reason": "Events are unavailable."})
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                await pubsub.unsubscribe()
            except (aioredis.RedisError, OSError):
                pass
            await pubsub.aclose()
            await client.aclose()
            logger.info("WebSocket %s closed for %s", scope["path"], user.get_username())

    def _allowed(self, user) -> bool:
        close_old_connections()
        try:
            return bool(self.allowed(user))
        finally:
            connections.close_all()

    def _initial(self, scope, user) -> list[Event]:
        close_old_connections()
        try:
            return list(self.initial(scope, user))
        finally:
            connections.close_all()

    async def _relay(self, pubsub, send):
        async for message in pubsub.listen():
            if message["type"] != "message":
                continue
            text = message["data"].decode() if isinstance(message["data"], bytes) else message["data"]
            await send({"type": "websocket.send", "text": text})

    async def _heartbeat(self, send):
        while True:
            await asyncio.sleep(settings.REALTIME_HEARTBEAT_SECONDS)
            beat = {"event": "heartbeat", "data": {"time": clock.now().isoformat()}}
            await send({"type": "websocket.send", "text": json.dumps(beat)})

    async def _until_disconnect(self, receive):
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return  # client messages are ignored


def redis_client():
    """One connection per WebSocket (a subscribed connection serves only its subscriber); TCP or unix socket."""
    return aioredis.from_url(settings.REDIS_URL, socket_connect_timeout=2, health_check_interval=30)


websocket_routes: dict[str, Callable] = {}  # path -> ASGI callable; homelab.asgi routes WebSockets with it


def register(path: str, *, channels: Callable[[dict], list[str]] | list[str],
             allowed: Callable[[Any], bool] = _is_active_user,
             initial: Callable[[dict, Any], Iterable[Event]] | None = None) -> EventStream:
    """Mount an event stream at ``path``: ``channels`` lists the channels (or picks them from the scope and raises
    Reject), ``allowed(user)`` may refuse a user (4403), ``initial(scope, user)`` returns the events sent first."""
    endpoint = EventStream(channels=channels, allowed=allowed, initial=initial)
    websocket_routes[path.rstrip("/")] = endpoint
    return endpoint


# The project's own stream: job progress of each app (epg publishes "epg_refresh" and "dispatcharr_push" on "epg").
EVENT_CHANNELS = ("epg", "channels", "previews", "invites")
register("/ws/events", channels=lambda scope: requested_channels(scope, EVENT_CHANNELS))
