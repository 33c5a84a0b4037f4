"""The ASGI application: Django for HTTP, and a small router for WebSockets.

The top-level package ``channels`` (IPTV) shadows Django Channels, so WebSocket endpoints are plain ASGI
callables registered in ``websocket_routes`` (path -> callable(scope, receive, send)).
"""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homelab.settings")
django_application = get_asgi_application()

websocket_routes: dict = {}


async def application(scope, receive, send):
    if scope["type"] == "websocket":
        handler = websocket_routes.get(scope["path"].rstrip("/"))
        if handler is None:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 4404})
            return
        await handler(scope, receive, send)
        return
    await django_application(scope, receive, send)
