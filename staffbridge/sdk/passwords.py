"""Passwords on create, one path for every adapter and job.

- `new_password()`: the one generator (a job's one-time passwords, an adapter's "make one up").
- `check_password(password, max_length, record)`: the one check of a given password.
- `with_password(body, password, transport, path)`: an adapter puts a password into the body it sends;
  from then on the transport masks it in every request it describes (errors, logs).
- `create_options(adapter)`: how an adapter's `create` takes a password and a welcome email.
- `OneTimePasswords(adapter)`: a job's side: a random password per create where the adapter requires
  one, masked while it is sent and forgotten after.

A generated password lives only in the create call: it is never returned, logged, journalled or
reported. People set their own through the vendor's welcome email or "forgot password".
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import secrets
import string
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from staffbridge.mapping.engine import set_path
from staffbridge.model.errors import PersonValidationError

__all__ = ["OneTimePasswords", "check_password", "create_options", "new_password", "with_password"]

_SYMBOLS = "-_.!#%+"
_ALPHABET = string.ascii_letters + string.digits + _SYMBOLS


def new_password(length: int = 24) -> str:
    """A random password with upper and lower case, digits and a symbol (most policies want all four).

    24 characters fit every limit documented here (WhosOff: at most 50)."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (
            any(c.islower() for c in password)
            and any(c.isupper() for c in password)
            and any(c.isdigit() for c in password)
            and any(c in _SYMBOLS for c in password)
        ):
            return password


def check_password(password: Any, max_length: int | None = None, record: str | None = None) -> str:
    """`password` when it is text of at most `max_length` characters, else PersonValidationError
    (which names the field, never the value)."""
    if not isinstance(password, str) or not password or (max_length is not None and len(password) > max_length):
        most = f" of at most {max_length} characters" if max_length is not None else ""
        raise PersonValidationError({"password": [f"Must be text{most}."]}, record=record)
    return password


class Masking(Protocol):
    """What masks a secret from then on: a Transport, or an adapter (which hands it to its transport)."""

    def add_secret(self, value: str) -> None: ...


def with_password(
    body: dict[str, Any], password: str | None, transport: Masking, path: str = "password"
) -> dict[str, Any]:
    """A copy of `body` with `password` at `path` (dotted), masked from now on in everything
    `transport` describes; `body` itself when there is no password."""
    if not password:
        return body
    transport.add_secret(password)
    sent = copy.deepcopy(body)
    set_path(sent, path, password)
    return sent


def create_options(adapter: Any) -> dict[str, str]:
    """How `adapter.create` takes a password and a welcome email: {"password": "required" | "optional",
    "welcome_email": "optional"}, read from the signature (a parameter without a default is
    required). An adapter may say it outright with a class attribute `password_on_create`
    ("required", "optional" or None)."""
    parameters: Mapping[str, inspect.Parameter]
    try:
        parameters = inspect.signature(adapter.create).parameters
    except (TypeError, ValueError):
        parameters = {}
    found: dict[str, str] = {}
    for name in ("password", "welcome_email"):
        parameter = parameters.get(name)
        if parameter is not None:
            found[name] = "required" if parameter.default is inspect.Parameter.empty else "optional"
    declared = getattr(adapter, "password_on_create", "unset")
    if declared in ("required", "optional"):
        found["password"] = declared
    elif declared is None:
        found.pop("password", None)
    if "password" in getattr(getattr(adapter, "capabilities", None), "required_on_create", ()):
        found["password"] = "required"
    return found


class OneTimePasswords:
    """The passwords a job gives the people it creates in `adapter`: none where the adapter does not
    require one, else a random one per create, masked while it is sent and forgotten after (masking
    10,000 spent passwords would slow every log line)."""

    def __init__(self, adapter: Any) -> None:
        self.adapter = adapter
        self.options = create_options(adapter)  # also says whether a welcome email can be asked for

    @property
    def required(self) -> bool:
        return self.options.get("password") == "required"

    @contextlib.contextmanager
    def for_create(self) -> Iterator[str | None]:
        """A password for one create (None when none is required), masked for the block."""
        password = new_password() if self.required else None
        transport = getattr(self.adapter, "transport", None)
        if password is None or transport is None:
            yield password
            return
        transport.add_secret(password)
        try:
            yield password
        finally:
            transport.forget_secret(password)

    def learn(self, refused: PersonValidationError, password: str | None) -> bool:
        """Whether a create refused as `refused` without a password says the adapter requires one
        after all (its signature said optional): from now on every create gets one."""
        if password is None and "password" in refused.errors and "password" in self.options:
            self.options["password"] = "required"
            return True
        return False
