"""One rate budget per vendor account, shared by every worker through Redis.

`RedisBudget` has the interface of `staffbridge.sdk.transport.RateLimiter` (`acquire`, `penalise`,
`limit`, `per`, `waited`), so it takes the place of an adapter's own limiter (`use_budget`). The
budget is a sliding log (a sorted set of send times) checked and appended to by one Lua script,
atomically, with Redis's clock, so workers on many machines count the same window; a 429 sets a
pause that every worker sees. A wait longer than `max_wait` is not slept through in a worker:
`acquire` raises `OutOfBudget`, and the task is retried once the budget has room.

A budget Redis does not know yet (its first use, or after Redis lost its data in a restart) begins
with one whole window of pause: requests sent in the last window may have gone unrecorded, and the
vendor still counts them.

The account is named by a hash of the vendor, its base URL and its credentials: no secret in a Redis key.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from staffbridge.sdk.adapter import Adapter

__all__ = ["OutOfBudget", "RedisBudget", "account_of", "use_budget"]

# KEYS: the log, the pause, the known-mark; ARGV: limit, window (ms), a unique member.
# -> 0 (go) or milliseconds to wait
_ACQUIRE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
if redis.call('SET', KEYS[3], '1', 'NX') then
  redis.call('SET', KEYS[2], ms + window, 'PX', window + 1000)
  return window
end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > ms then return paused - ms end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], ms, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - ms)
"""
# KEYS: the pause; ARGV: milliseconds. Keeps the later of the current pause and now + ARGV[1].
_PAUSE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local until_ms = ms + tonumber(ARGV[1])
if until_ms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""


class OutOfBudget(BaseException):
    """The account's budget has no room for `wait` seconds: stop the run, come back later. A
    BaseException, like KeyboardInterrupt: the per-record error handling of a job must not swallow it."""

    def __init__(self, account: str, wait: float) -> None:
        super().__init__(f"{account}: no request may go for {wait:.1f} s (rate budget spent or vendor backoff)")
        self.account, self.wait = account, wait


class RedisBudget:
    """At most `limit` requests in any `per` seconds for one vendor account, across every process."""

    def __init__(
        self, client: Any, account: str, limit: int | None, per: float, margin: float = 0.25, max_wait: float = 1.0
    ) -> None:
        self.client, self.account = client, account
        self.limit, self.per, self.margin, self.max_wait = limit, per, margin, max_wait
        self._keys = [
            f"staffbridge:budget:{account}",
            f"staffbridge:budget:{account}:pause",
            f"staffbridge:budget:{account}:known",
        ]
        self._acquire = client.register_script(_ACQUIRE)
        self._penalise = client.register_script(_PAUSE)
        self.waited = 0.0  # seconds slept for budget
        self.waits = 0  # times a request waited (briefly) for room
        self.deferred = 0  # times a run was stopped to come back later

    def acquire(self) -> None:
        if not self.limit:
            return
        window = int((self.per + self.margin) * 1000)
        while True:
            member = uuid.uuid4().hex  # two workers sending in the same millisecond are two entries
            wait = int(self._acquire(keys=self._keys, args=[self.limit, window, member])) / 1000
            if wait <= 0:
                return
            if wait > self.max_wait:
                self.deferred += 1
                raise OutOfBudget(self.account, wait)
            self.waited += wait
            self.waits += 1
            time.sleep(wait)

    def penalise(self, seconds: float) -> None:
        """After a 429: nobody sends to this account for `seconds` (at least one), on any worker."""
        if self.limit:
            self._penalise(keys=self._keys[1:2], args=[int(max(seconds, 1.0) * 1000)])


def account_of(adapter: Adapter) -> str:
    """A stable name for the vendor account behind `adapter`, without its secrets in clear."""
    base = getattr(getattr(adapter, "transport", None), "base_url", "")
    identity = "\0".join([str(base), *sorted(adapter.secret_values())])
    return f"{adapter.name}:{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def use_budget(adapter: Adapter, client: Any, max_wait: float = 1.0) -> RedisBudget | None:
    """Puts `adapter`'s requests on its account's shared budget (same limit and window as its own
    limiter); a 429 answer, or a spent budget, no longer sleeps in the worker: it raises OutOfBudget
    through the adapter's transport. None for an adapter without HTTP or without a limit."""
    transport = getattr(adapter, "transport", None)
    own = getattr(transport, "limiter", None)
    if transport is None or own is None or not own.limit:
        return None
    # its own margin: the sliding log in Redis stamps a request when it is allowed, not when answered
    budget = RedisBudget(client, account_of(adapter), own.limit, own.per, max_wait=max_wait)
    transport.limiter = budget
    sleep = transport.sleep

    def sleep_or_defer(seconds: float) -> None:  # the transport's backoff between retries
        if seconds > max_wait:
            budget.deferred += 1
            raise OutOfBudget(budget.account, seconds)
        sleep(seconds)

    transport.sleep = sleep_or_defer
    return budget
