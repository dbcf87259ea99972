"""A gateway never holds a request for a vendor's rate budget: a spent budget is a 429 with Retry-After.

An identity provider's first run pushes everyone at once, and MOCO allows about one request a second.
`fail_fast(adapter)` puts the adapter's requests on a limiter that takes a slot or refuses at once
(`RateLimiter.take`), and on a transport whose waits between retries (after a vendor's own 429
with its Retry-After, or a backoff) are refused past `max_hold` seconds instead of slept through. In
platform mode the account's shared Redis budget (faces.platform.budget) does the same with no wait
allowed. Either way the SCIM request gets `TooManyRequests(retry_after)`: nothing was sent for it.
"""

from __future__ import annotations

import math
from typing import Any

from scim2_models import SCIMException

from staffbridge.sdk.adapter import Adapter

__all__ = ["BudgetSpent", "FailFastLimiter", "TooManyRequests", "fail_fast"]

MAX_HOLD = 1.0  # seconds a request may wait for a retry's backoff; longer is a 429


class BudgetSpent(Exception):
    """No request may go to the vendor for `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"the vendor's rate budget is spent for {wait:.1f} s")
        self.wait = wait


class TooManyRequests(SCIMException):
    """A SCIM 429 (RFC 7644 §3.12 lists it without a scimType), with the seconds to come back after."""

    status = 429
    _default_detail = "Too many requests: the vendor's rate budget is spent; retry after the time given"

    def __init__(self, retry_after: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.retry_after = max(1, math.ceil(retry_after))


class FailFastLimiter:
    """The adapter's own limiter, refusing instead of waiting (same limit, window and 429 pauses)."""

    def __init__(self, limiter: Any) -> None:
        self.limiter = limiter

    def acquire(self) -> int | None:
        ticket, wait = self.limiter.take()
        if wait > 0:
            raise BudgetSpent(wait)
        return ticket  # released by the transport when the answer comes, as the wrapped limiter's own

    def penalise(self, seconds: float) -> None:
        self.limiter.penalise(seconds)

    def __getattr__(self, name: str) -> Any:  # limit, per, margin, waited: the wrapped limiter's
        return getattr(self.limiter, name)


def fail_fast(adapter: Adapter, max_hold: float = MAX_HOLD) -> None:
    """Makes `adapter` refuse (BudgetSpent) rather than wait for its rate budget or a long backoff."""
    transport = getattr(adapter, "transport", None)
    if transport is None:
        return
    if hasattr(transport.limiter, "take"):
        transport.limiter = FailFastLimiter(transport.limiter)
    sleep = transport.sleep

    def sleep_or_refuse(seconds: float) -> None:
        if seconds > max_hold:
            raise BudgetSpent(seconds)
        sleep(seconds)

    transport.sleep = sleep_or_refuse
