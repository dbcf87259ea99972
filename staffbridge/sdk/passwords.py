"""Initial passwords for people a migration creates, where the target insists on one.

A generated password lives only in the create call: it is never returned, logged, journalled or
reported. People set their own through the vendor's welcome email or "forgot password".
"""
from __future__ import annotations

import inspect
import secrets
import string
from typing import Any

__all__ = ["create_options", "new_password"]

_SYMBOLS = "-_.!#%+"
_ALPHABET = string.ascii_letters + string.digits + _SYMBOLS


def new_password(length: int = 24) -> str:
    """A random password with upper and lower case, digits and a symbol (most policies want all four).

    24 characters fit every limit documented here (WhosOff: at most 50)."""
    while True:
        password = "".join(secrets.choice(_ALPHABET) for _ in range(length))
        if (any(c.islower() for c in password) and any(c.isupper() for c in password)
                and any(c.isdigit() for c in password) and any(c in _SYMBOLS for c in password)):
            return password


def create_options(adapter: Any) -> dict[str, str]:
    """How `adapter.create` takes a password and a welcome email: {"password": "required" | "optional",
    "welcome_email": "optional"}, read from the signature (a parameter without a default is
    required). An adapter may say it outright with a class attribute `password_on_create`
    ("required", "optional" or None)."""
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
