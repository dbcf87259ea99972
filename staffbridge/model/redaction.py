"""Keeping secrets out of everything we write down: errors, logs, cassettes, reports, journals.

Two nets, because either alone leaks: known secret *names* (headers and body keys such as
Authorization or password) are replaced wherever they appear, and known secret *values* (the
adapter's own api key, token, client secret) are replaced wherever they appear, under any name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "app-id", "cookie", "set-cookie", "proxy-authorization", "x-impersonate-user-id"}
)
SECRET_KEYS = frozenset(
    {
        "password",
        "api_key",
        "apikey",
        "access_token",
        "token",
        "secret",
        "client_secret",
        "nonce",
        "app_id",
        "passwordchangetoken",
        "refresh_token",
        "devicetoken",
        "webpushtoken",
    }
)


def is_secret_key(name: str) -> bool:
    return name.replace("-", "_").lower() in SECRET_KEYS or name.lower() in SECRET_HEADERS


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:  # a 1-3 char "secret" would mask half the text
            text = text.replace(secret, MASK)
    return text


def scrub(value: Any, secrets: Iterable[str] = ()) -> Any:
    """A copy of `value` (dicts, lists, strings) with secret keys and secret values masked."""
    secrets = tuple(secrets)
    if isinstance(value, Mapping):
        return {
            k: (MASK if isinstance(k, str) and is_secret_key(k) and v not in (None, "") else scrub(v, secrets))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, secrets)
    return value


def scrub_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    return {
        name: MASK if name.lower() in SECRET_HEADERS else scrub_text(str(value), secrets)
        for name, value in headers.items()
    }
