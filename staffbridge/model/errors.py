"""The exception hierarchy: one root, grouped by what the caller does next.

Each class also inherits the builtin it resembles, so `except LookupError` keeps working for callers
who never heard of staffbridge. Vendor errors carry the HTTP status, the vendor's message and codes,
and the request with every secret already removed (see `RequestInfo`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class StaffbridgeError(Exception):
    """Root of everything staffbridge raises on purpose."""


# ------------------------------------------------------------------ set-up: fix the code or config


class ConfigError(StaffbridgeError, ValueError):
    """A setting is missing or invalid; `setting` names it."""

    def __init__(self, message: str, setting: str | None = None, source: str | None = None):
        self.setting = setting
        self.source = source  # e.g. a config file and system name, when it came from one
        super().__init__(message)


class AdapterNotFound(ConfigError, LookupError):
    """No adapter is installed under that name; `available` lists the ones that are."""

    def __init__(self, name: str, available: list[str]):
        self.name = name
        self.available = available
        super().__init__(
            f"no staffbridge adapter named {name!r}; installed: {', '.join(available) or 'none'}", setting="adapter"
        )


class UnsupportedOperation(StaffbridgeError, NotImplementedError):
    """The adapter (or its vendor) cannot do this; see `adapter.capabilities`."""


class TooManyDeletes(StaffbridgeError):
    """A migration plan deletes more target records than its limit (`max_delete`); nothing was
    written. Check the source and its filters; raise the limit only if the deletes are meant."""

    def __init__(self, deletes: int, limit: int, target: str):
        self.deletes, self.limit, self.target = deletes, limit, target
        super().__init__(
            f"the plan deletes {deletes} {target} records, over the limit of {limit} (max_delete); nothing was "
            f"written: check the source and its filters, or allow them with max_delete={deletes}"
        )


# ------------------------------------------------------------------ bad data: fix the record


class PersonValidationError(StaffbridgeError, ValueError):
    """A Person (or a change to one) is invalid. `errors` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, Any], record: str | None = None):
        self.errors = dict(errors)
        self.record = record
        where = f"person {record}: " if record else ""
        super().__init__(f"{where}{self.details}")

    @property
    def details(self) -> str:
        """Every field and its messages, without the record: "email: Not a valid email address."."""
        return "; ".join(f"{name}: {_join(messages)}" for name, messages in self.errors.items())


class MappingError(StaffbridgeError, ValueError):
    """A mapping file is malformed, or a value cannot be converted; names the field and path."""

    def __init__(self, message: str, field: str | None = None, path: str | None = None, record: str | None = None):
        self.field, self.path, self.record = field, path, record
        super().__init__(message)


class MissingReference(PersonValidationError):
    """A department/role (or other reference) the vendor requires is missing or cannot be resolved."""


# ------------------------------------------------------------------ the vendor said no


@dataclass(frozen=True)
class RequestInfo:
    """The request that failed, safe to log: secrets are already replaced by '***'."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


@dataclass(frozen=True)
class ResponseInfo:
    """The answer that carried the error, safe to log: secret headers masked, the body cut short."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    def __str__(self) -> str:
        return f"HTTP {self.status}"


@dataclass(frozen=True)
class VendorMessage:
    """One error the vendor reported, e.g. WhosOff's {Code, Message} or MOCO's message."""

    message: str
    code: str | None = None

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}" if self.code else self.message


class VendorAPIError(StaffbridgeError):
    """The vendor answered with an error. Subclasses say what to do about it."""

    data: Any = None  # what the vendor answered beside the error, e.g. WhosOff's Data under HTTP 200

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request: RequestInfo | None = None,
        messages: list[VendorMessage] | None = None,
        vendor: str | None = None,
        body: str | None = None,
        response: ResponseInfo | None = None,
    ):
        self.status = status
        self.request = request
        self.response = response
        self.messages = messages or []
        self.vendor = vendor
        self.body = body  # the response text, cut short; vendors do not echo our secrets back
        super().__init__(message)

    @property
    def vendor_message(self) -> str:
        return "; ".join(str(m) for m in self.messages)

    @property
    def codes(self) -> list[str]:
        return [m.code for m in self.messages if m.code]

    def __str__(self) -> str:
        parts = [self.args[0] if self.args else type(self).__name__]
        if self.status is not None:
            parts.append(f"(HTTP {self.status})")
        if self.request is not None:
            parts.append(f"on {self.request}")
        if self.messages:
            parts.append(f": {self.vendor_message}")
        return " ".join(parts)


class AuthenticationError(VendorAPIError, PermissionError):
    """401/403 or a refused handshake: check the credentials and the key's permissions."""


class NotFound(VendorAPIError, LookupError):
    """The record (or endpoint) does not exist."""


class VendorValidationError(VendorAPIError, ValueError):
    """The vendor rejected the data (MOCO 422, WhosOff 400 with codes): fix the record."""


class DeleteRefused(VendorValidationError):
    """The vendor refused a delete (MOCO: hours already billed). Deactivate the person instead."""


class RateLimited(VendorAPIError):
    """429 after every retry; `retry_after` is the seconds the vendor asked for, if it said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(VendorAPIError):
    """5xx after every retry: the vendor is having trouble; try again later."""


class ResponseError(VendorAPIError):
    """The vendor answered something that cannot be read: HTML, truncated JSON, the wrong shape."""


class TransportError(StaffbridgeError, ConnectionError):
    """The vendor could not be reached (connection refused or reset, timeout), after every retry."""

    def __init__(self, message: str, request: RequestInfo | None = None):
        self.request = request
        super().__init__(message)


class Timeout(TransportError, TimeoutError):
    """No answer within the configured timeout."""


def _join(messages: Any) -> str:
    if isinstance(messages, (list, tuple)):
        return ", ".join(str(m) for m in messages)
    if isinstance(messages, dict):
        return "; ".join(f"{k}: {_join(v)}" for k, v in messages.items())
    return str(messages)
