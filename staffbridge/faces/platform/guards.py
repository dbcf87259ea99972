"""Per-tenant guards in Redis: one sync per tenant at a time, and no tenant queued twice.

- The lock (`staffbridge:lock:<tenant>`) is taken with SET NX and a short expiry that its holder
  keeps renewing while the sync runs (`held()`), so a worker that dies holding it blocks its tenant
  for at most `ttl` seconds, however long a live sync takes; it is renewed and released only by its
  holder (compare-and-set scripts), never by a run that outlived its lock.
- The queued mark (`staffbridge:queued:<tenant>`) is set when a sync is sent and cleared when it
  starts; a tenant that comes due while its sync still waits in the queue is not sent again.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["TenantLock", "clear_queued", "mark_queued"]

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


class TenantLock:
    def __init__(self, client: Any, tenant: str, ttl: float) -> None:
        self.client, self.key, self.ttl = client, f"staffbridge:lock:{tenant}", ttl
        self.token = uuid.uuid4().hex

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, px=int(self.ttl * 1000)))

    def remaining(self) -> float:
        """Seconds until the current holder's lock expires (0 when free)."""
        return max(0, int(self.client.pttl(self.key))) / 1000

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.token)

    def renew(self) -> bool:
        """Another `ttl` seconds for the holder; False when the lock is no longer ours."""
        return bool(self.client.eval(_RENEW, 1, self.key, self.token, int(self.ttl * 1000)))

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Renews the lock every third of its ttl until the block ends (a Redis hiccup skips a renewal)."""
        done = threading.Event()

        def renew() -> None:
            while not done.wait(self.ttl / 3):
                with contextlib.suppress(Exception):
                    self.renew()

        keeper = threading.Thread(target=renew, name=f"renew {self.key}", daemon=True)
        keeper.start()
        try:
            yield
        finally:
            done.set()
            keeper.join()


def note_deleted(client: Any, tenant: str, system: str, record_id: str) -> None:
    """A vendor reported `record_id` of `system` deleted (a webhook): the tenant's next sync removes it."""
    client.sadd(f"staffbridge:deleted:{tenant}:{system}", record_id)


def deleted_since(client: Any, tenant: str, systems: Iterable[str]) -> dict[str, set[str]]:
    """Per system, the record ids reported deleted and not yet removed by a sync."""
    found = {system: client.smembers(f"staffbridge:deleted:{tenant}:{system}") for system in systems}
    return {system: {_text(i) for i in ids} for system, ids in found.items() if ids}


def forget_deleted(client: Any, tenant: str, removed: Mapping[str, Iterable[str]]) -> None:
    """After a sync saved its state: those ids are removed now. Ids reported meanwhile stay for the next."""
    for system, ids in removed.items():
        if ids:
            client.srem(f"staffbridge:deleted:{tenant}:{system}", *ids)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def mark_queued(client: Any, tenant: str, ttl: float) -> bool:
    """True when the tenant was not queued yet (now it is, for at most `ttl` seconds)."""
    return bool(client.set(f"staffbridge:queued:{tenant}", "1", nx=True, px=int(ttl * 1000)))


def clear_queued(client: Any, tenant: str) -> None:
    client.delete(f"staffbridge:queued:{tenant}")
