"""ffmpeg slots: a Redis semaphore per kind (gpu, cpu) with expiring leases, shared by every worker process.

A slot is a field of the hash ``previews:slots:<kind>`` (field = slot number, value = JSON lease: holder,
expiry, item id, title, job id). ``acquire`` takes the lowest free slot when fewer than ``limit`` unexpired
leases are held; the limit is read from the settings row at each call, so a change applies to the next item
without a restart. A running item renews its lease as it goes; a worker killed mid-item stops renewing and its
slot frees itself after PREVIEWS_LEASE_SECONDS. The same hash is what the API shows as ``workers``.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings

from homelab import clock, events

logger = logging.getLogger("previews.slots")
KINDS = ("gpu", "cpu")

_ACQUIRE = """
local key, limit, now, ttl, holder = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local all = redis.call('HGETALL', key)
local busy, count = {}, 0
for i = 1, #all, 2 do
  local lease = cjson.decode(all[i + 1])
  if lease.expires < now then
    redis.call('HDEL', key, all[i])
  else
    if lease.holder == holder then return tonumber(all[i]) end
    busy[all[i]] = true
    count = count + 1
  end
end
if count >= limit then return -1 end
local slot = 0
while busy[tostring(slot)] do slot = slot + 1 end
local lease = cjson.decode(ARGV[5])
lease.holder = holder
lease.expires = now + ttl
redis.call('HSET', key, tostring(slot), cjson.encode(lease))
return slot
"""

_RENEW = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local lease = cjson.decode(raw)
if lease.holder ~= ARGV[2] then return 0 end
lease.expires = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(lease))
return 1
"""

_RELEASE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
if cjson.decode(raw).holder ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


def _key(kind: str) -> str:
    return f"{settings.CACHES['default']['KEY_PREFIX']}:previews:slots:{kind}"


def _redis():
    return events.redis_client()


class Lease:
    """A held slot: ``renew()`` while working, ``release()`` at the end (both safe to call after expiry)."""

    def __init__(self, kind: str, slot: int, holder: str):
        self.kind, self.slot, self.holder = kind, slot, holder

    def renew(self) -> bool:
        expires = clock.time() + settings.PREVIEWS_LEASE_SECONDS
        return bool(_redis().eval(_RENEW, 1, _key(self.kind), str(self.slot), self.holder, expires))

    def release(self) -> None:
        try:
            _redis().eval(_RELEASE, 1, _key(self.kind), str(self.slot), self.holder)
        except Exception as exc:  # the lease expires by itself
            logger.warning("Could not release %s slot %s: %s", self.kind, self.slot, exc)

    def __repr__(self):
        return f"<Lease {self.kind}#{self.slot}>"


def acquire(kind: str, limit: int, holder: str, **info) -> Lease | None:
    """A lease on a free ``kind`` slot, or None when ``limit`` are taken (or the limit is 0)."""
    if limit <= 0:
        return None
    slot = _redis().eval(_ACQUIRE, 1, _key(kind), int(limit), clock.time(), settings.PREVIEWS_LEASE_SECONDS,
                         holder, json.dumps(info, default=str))
    slot = int(slot)
    return Lease(kind, slot, holder) if slot >= 0 else None


def held(kind: str) -> dict[int, dict]:
    """The unexpired leases of ``kind``: {slot: lease}."""
    now = clock.time()
    leases = {}
    for field, raw in _redis().hgetall(_key(kind)).items():
        try:
            lease = json.loads(raw)
            if lease.get("expires", 0) >= now:
                leases[int(field)] = lease
        except (ValueError, TypeError):
            continue
    return leases


def clear() -> None:
    """Drop every lease (tests, and an operator after a crash of the whole stack)."""
    _redis().delete(*[_key(kind) for kind in KINDS])
