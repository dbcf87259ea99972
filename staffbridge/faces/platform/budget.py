"""One rate budget per vendor account, shared by every worker through Redis.

`RedisBudget` has the interface of `staffbridge.sdk.transport.RateLimiter` (`acquire`, `penalise`,
`limit`, `per`, `waited`), so it takes the place of an adapter's own limiter (`use_budget`). The
budget is a sliding log (a sorted set of send times) checked and appended to by one Lua script,
atomically, with Redis's clock, so workers on many machines count the same window; a 429 sets a
pause that every worker sees (also for a vendor without a documented limit). A wait longer than
`max_wait` is not slept through in a worker: `acquire` raises `OutOfBudget`, and the task is
retried once the budget has room.

After Redis lost its memory (a restart without persistence, a flush), requests sent in the last
window are unrecorded while the vendor still counts them. The budgets' epoch key (no expiry) tells
this apart from an account that is simply new: the first script run that finds no epoch sets it to
Redis's current time, and an account without a log stays paused until one window after the epoch.
So after a loss every account waits out the rest of one window, once; while the epoch is older than
a window, an account Redis has not seen (a new tenant, or one idle for a window) starts at once.
A brand-new platform would look like a loss too (one window of pause at its very first start):
`new_platform(client)` says it is one (the task does, when PostgreSQL holds no run that sent a request).

The account is named by a hash of the vendor, its base URL and its credentials: no secret in a Redis key.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from typing import Any

from staffbridge.sdk.adapter import Adapter

__all__ = ["OutOfBudget", "RedisBudget", "account_of", "has_epoch", "new_platform", "use_budget"]

PREFIX = "staffbridge:budget"

# KEYS: the log, the pause, the epoch; ARGV: limit (0 = none), window (ms), a unique member.
# -> 0 (go) or milliseconds to wait
_ACQUIRE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window = tonumber(ARGV[2])
local epoch = tonumber(redis.call('GET', KEYS[3]) or '0')
if epoch == 0 then
  redis.call('SET', KEYS[3], ms)
  epoch = ms
end
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > ms then return paused - ms end
local limit = tonumber(ARGV[1])
if limit == 0 then return 0 end
if ms < epoch + window and redis.call('EXISTS', KEYS[1]) == 0 then return epoch + window - ms end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - window)
if redis.call('ZCARD', KEYS[1]) < limit then
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

    def __init__(self, account: str, wait: float, why: str = "rate budget spent or paused after a 429") -> None:
        super().__init__(f"{account}: no request may go for {wait:.1f} s ({why})")
        self.account, self.wait = account, wait


class RedisBudget:
    """At most `limit` requests in any `per` seconds for one vendor account, across every process;
    `limit` None counts nothing but still shares a 429's pause."""

    def __init__(
        self,
        client: Any,
        account: str,
        limit: int | None,
        per: float,
        margin: float = 0.25,
        max_wait: float = 1.0,
        prefix: str = PREFIX,
    ) -> None:
        self.client, self.account = client, account
        self.limit, self.per, self.margin, self.max_wait = limit, per, margin, max_wait
        self._keys = [f"{prefix}:{account}", f"{prefix}:{account}:pause", f"{prefix}:epoch"]
        self._acquire = client.register_script(_ACQUIRE)
        self._penalise = client.register_script(_PAUSE)
        self.waited = 0.0  # seconds slept for budget
        self.waits = 0  # times a request waited (briefly) for room
        self.deferred = 0  # times a run was stopped to come back later
        self._local = threading.local()  # per thread: a 429 set the pause, the transport's wait is next

    def acquire(self) -> None:
        window = int((self.per + self.margin) * 1000)
        while True:
            member = uuid.uuid4().hex  # two workers sending in the same millisecond are two entries
            wait = int(self._acquire(keys=self._keys, args=[self.limit or 0, window, member])) / 1000
            if wait <= 0:
                return
            if wait > self.max_wait:
                self.deferred += 1
                raise OutOfBudget(self.account, wait)
            self.waited += wait
            self.waits += 1
            time.sleep(wait)

    def answered_429(self) -> bool:
        """Whether this thread's last request was answered 429 (asked once, then forgotten)."""
        seen, self._local.after_429 = getattr(self._local, "after_429", False), False
        return bool(seen)

    def penalise(self, seconds: float) -> None:
        """After a 429: nobody sends to this account for `seconds` (at least one), on any worker."""
        self._local.after_429 = True
        self._penalise(keys=self._keys[1:2], args=[int(max(seconds, 1.0) * 1000)])


def has_epoch(client: Any, prefix: str = PREFIX) -> bool:
    """Whether Redis holds the budgets' epoch (it does from the first request of a platform on)."""
    return bool(client.exists(f"{prefix}:epoch"))


def new_platform(client: Any, prefix: str = PREFIX) -> bool:
    """Declares a Redis that never held budgets (a new platform, a benchmark) as such: every account
    starts at once instead of waiting out a window that may hold unrecorded requests. True when the
    epoch was set here; False when Redis already has one (then nothing changes)."""
    return bool(client.set(f"{prefix}:epoch", 1, nx=True))


def account_of(adapter: Adapter) -> str:
    """A stable name for the vendor account behind `adapter`, without its secrets in clear."""
    base = getattr(getattr(adapter, "transport", None), "base_url", "")
    identity = "\0".join([str(base), *sorted(adapter.secret_values())])
    return f"{adapter.name}:{hashlib.sha256(identity.encode()).hexdigest()[:16]}"


def use_budget(
    adapter: Adapter,
    client: Any,
    max_wait: float = 1.0,
    max_backoff: float = 5.0,
    account: str | None = None,
    prefix: str = PREFIX,
) -> RedisBudget | None:
    """Puts `adapter`'s requests on its account's shared budget (same limit and window as its own
    limiter, or none but a 429's shared pause); None for an adapter without HTTP.

    The transport's waits between retries: after a 429 (the vendor says the account is spent) any
    wait over `max_wait` raises OutOfBudget, so the worker serves other tenants meanwhile. The
    backoff after a 5xx or a dropped connection is slept through up to `max_backoff` seconds: it is
    short and bounded (0.5, 1, 2, 4 s of jitter at most), a retried task would cost the tenant's
    reads again, and the worker is not waiting on a budget. A longer one (a 503's Retry-After) defers."""
    transport = getattr(adapter, "transport", None)
    own = getattr(transport, "limiter", None)
    if transport is None or own is None:
        return None
    # its own margin: the sliding log in Redis stamps a request when it is allowed, not when answered
    budget = RedisBudget(client, account or account_of(adapter), own.limit, own.per, max_wait=max_wait, prefix=prefix)
    transport.limiter = budget
    sleep = transport.sleep

    def sleep_or_defer(seconds: float) -> None:  # the transport's backoff between retries
        after_429 = budget.answered_429()
        if seconds > (max_wait if after_429 else max_backoff):
            budget.deferred += 1
            raise OutOfBudget(budget.account, seconds, "vendor answered 429" if after_429 else "vendor backoff")
        sleep(seconds)

    transport.sleep = sleep_or_defer
    return budget
