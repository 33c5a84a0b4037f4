"""The ASGI application that uvicorn serves: HTTP goes to Django's WSGI handler on a fixed pool of threads,
WebSockets to a small router.

Why not Django's own ASGI handler for HTTP: it runs every sync view in a new thread per request, so database
connections cannot persist (a new connection, and on SQLite its PRAGMAs, for each request) and each request
hops between the event loop and threads several times. Measured on the same machine, a trivial authenticated GET
took 8.1 ms (median) through Django's ASGI handler and 2.4 ms through this pool (bench/proxy.py measures the
proxy on top). All views here are sync, so nothing is lost; WEB_THREADS requests are served at once.

The top-level package ``channels`` (IPTV) shadows Django Channels, so WebSocket endpoints are plain ASGI
callables registered in ``websocket_routes`` (path -> callable(scope, receive, send)) by
``homelab.realtime.register``; an unknown path is accepted and closed with 4404, so a browser sees the code.
"""
import os

from a2wsgi import WSGIMiddleware
from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homelab.settings")
http_application = WSGIMiddleware(get_wsgi_application(), workers=settings.WEB_THREADS)

from homelab.logging import mask_uvicorn_logs  # noqa: E402
from homelab.realtime import CLOSE_NOT_FOUND, close as realtime_close, websocket_routes  # noqa: E402

mask_uvicorn_logs()


async def application(scope, receive, send):
    if scope["type"] == "http":
        await http_application(scope, receive, send)
    elif scope["type"] == "websocket":
        handler = websocket_routes.get(scope["path"].rstrip("/"))
        if handler is None:
            await receive()  # websocket.connect
            await realtime_close(receive, send, CLOSE_NOT_FOUND, "Not found.")
            return
        await handler(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
