"""homelab.realtime.EventStream driven as uvicorn drives it (ASGI messages), on the real Redis and database:
the initial state, the per-endpoint permission, refusals from the channel picker, a Redis outage, and a clean end
with no task left behind when the client goes."""
import asyncio
import json

import pytest
from django.test import override_settings

from homelab import events
from homelab.realtime import CLOSE_FORBIDDEN, CLOSE_INVALID, EventStream, Reject
from homelab.webtoken import get_web_token

pytestmark = pytest.mark.django_db(transaction=True)


class Client:
    """The ASGI side of one WebSocket connection."""

    def __init__(self, query: str):
        self.scope = {"type": "websocket", "path": "/test/ws", "query_string": query.encode(), "headers": [],
                      "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000), "scheme": "ws"}
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})

    async def receive(self):
        return await self.inbox.get()

    async def send(self, message):
        await self.outbox.put(message)

    async def next(self, timeout=10):
        return await asyncio.wait_for(self.outbox.get(), timeout)

    async def next_event(self, timeout=10):
        while True:
            message = await self.next(timeout)
            assert message["type"] == "websocket.send", message
            event = json.loads(message["text"])
            if event["event"] != "heartbeat":
                return event


def run(endpoint: EventStream, query: str, script):
    async def main():
        client = Client(query)
        served = asyncio.ensure_future(endpoint(client.scope, client.receive, client.send))
        try:
            result = await script(client)
            client.inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
            await asyncio.wait_for(served, 10)  # the endpoint ends when the client goes
            leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            assert leftover == [], leftover
            return result
        finally:
            served.cancel()

    return asyncio.run(main())


def test_the_initial_state_comes_first_then_the_live_events(admin_user):
    seen = []

    def initial(scope, user):
        seen.append((scope["path"], user.get_username()))
        return [{"event": "job_state", "data": {"job": 1, "percent": 50}}]

    endpoint = EventStream(channels=["previews"], initial=initial)

    async def script(client):
        assert (await client.next()) == {"type": "websocket.accept"}
        first = await client.next_event()
        await asyncio.to_thread(events.publish, "previews", "job_progress", {"job": 1, "percent": 60})
        return first, await client.next_event()

    first, live = run(endpoint, f"token={get_web_token()}", script)
    assert first == {"event": "job_state", "data": {"job": 1, "percent": 50}}
    assert live == {"event": "job_progress", "data": {"job": 1, "percent": 60}}
    assert seen == [("/test/ws", "web-token")]


def test_an_endpoint_may_refuse_a_user_with_4403(django_user_model):
    from homelab.models import APIKey

    user = django_user_model.objects.create_user("viewer", password="pw-123456")
    _, key = APIKey.generate(name="viewer", user=user)
    endpoint = EventStream(channels=["previews"], allowed=lambda u: u.is_staff)

    async def script(client):
        return [await client.next(), await client.next()]

    accept, closed = run(endpoint, f"key={key}", script)
    assert accept == {"type": "websocket.accept"}
    assert closed["type"] == "websocket.close" and closed["code"] == CLOSE_FORBIDDEN


def test_the_channel_picker_refuses_with_its_own_code(admin_user):
    def pick(scope):
        raise Reject(CLOSE_INVALID, "Name a job.")

    async def script(client):
        return [await client.next(), await client.next()]

    _, closed = run(EventStream(channels=pick), f"token={get_web_token()}", script)
    assert closed == {"type": "websocket.close", "code": CLOSE_INVALID, "reason": "Name a job."}


def test_without_redis_it_closes_with_1011_and_says_so(admin_user, caplog):
    async def script(client):
        return [await client.next(), await client.next()]

    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        _, closed = run(EventStream(channels=["epg"]), f"token={get_web_token()}", script)
    assert closed == {"type": "websocket.close", "code": 1011, "reason": "Events are unavailable."}
    assert "Redis does not answer" in caplog.text


@override_settings(REALTIME_HEARTBEAT_SECONDS=0.05)
def test_the_heartbeat_carries_the_time(admin_user):
    async def script(client):
        await client.next()
        return json.loads((await client.next())["text"])

    beat = run(EventStream(channels=["epg"]), f"token={get_web_token()}", script)
    assert beat["event"] == "heartbeat" and set(beat["data"]) == {"time"}
