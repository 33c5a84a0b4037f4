"""The lock around a shared login: concurrent callers (threads, web and worker processes) wait for one login
instead of each logging in. A lock holder that died frees it after ``LOCK_TIMEOUT`` seconds."""
from __future__ import annotations

import uuid

from django.core.cache import cache

from homelab import clock

from .errors import APIError

LOCK_TIMEOUT = 60


class CacheLock:
    """A lock in the Django cache: Redis's own lock (token-checked release) when the cache is Redis,
    else ``cache.add`` with a compare-before-delete release."""

    def __init__(self, name: str, timeout: int = LOCK_TIMEOUT, wait: float = LOCK_TIMEOUT):
        self.name, self.timeout, self.wait = name, timeout, wait
        self._redis_lock = None
        self._token = uuid.uuid4().hex

    def __enter__(self):
        client = None
        try:
            key = cache.make_and_validate_key(self.name)
            client = cache._cache.get_client(key, write=True)  # RedisCache
        except AttributeError:
            client = None
        if client is not None:
            self._redis_lock = client.lock(key, timeout=self.timeout, blocking_timeout=self.wait)
            if not self._redis_lock.acquire():
                raise APIError("Timed out waiting for another login to the same service")
            return self
        deadline = clock.monotonic() + self.wait
        while not cache.add(self.name, self._token, self.timeout):
            if clock.monotonic() > deadline:
                raise APIError("Timed out waiting for another login to the same service")
            clock.sleep(0.02)
        return self

    def __exit__(self, *exc):
        if self._redis_lock is not None:
            try:
                self._redis_lock.release()
            except Exception:  # expired meanwhile: someone else may hold it now, leave theirs alone
                pass
        elif cache.get(self.name) == self._token:
            cache.delete(self.name)
