"""What an answer must look like: a list of records, one object, or JSON at all.

Each helper raises the typed `ResponseError` naming the vendor and the request (secrets masked), so
an adapter says what it expects in one line instead of writing the check and the message again:

    records = expect_list(records_at(transport.json(response), ("data", "users")), transport, response)
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, Mapping

import requests

from staffbridge.mapping.engine import get_path
from staffbridge.model.errors import ResponseError
from staffbridge.sdk.transport import Transport


class Malformed(ValueError):
    """The answer is not JSON we can read (HTML, truncated, not UTF-8, the wrong shape)."""


def records_at(data: Any, keys: Iterable[str] = ()) -> Any:
    """Where the records sit in a list answer: the first of `keys` holding a list, else the answer."""
    if isinstance(data, dict):
        return next((data[key] for key in keys if isinstance(data.get(key), list)), data)
    return data


def expect_list(data: Any, transport: Transport, response: requests.Response,
                what: str = "a list of records") -> list[Any]:
    if not isinstance(data, list):
        raise wrong_shape(transport, response, what, data)
    return data


def expect_object(data: Any, transport: Transport, response: requests.Response,
                  what: str = "an object") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise wrong_shape(transport, response, what, data)
    return data


def wrong_shape(transport: Transport, response: requests.Response, what: str, data: Any) -> ResponseError:
    request = transport.describe(response.request.method or "GET", response.url)
    return ResponseError(f"{transport.vendor}: expected {what}, got {type(data).__name__} on {request}",
                         status=response.status_code, request=request, vendor=transport.vendor)


def shows(answer: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    """Whether `answer` holds every value of `body` (dotted paths into nested objects): an update's
    answer that does not may be the record as it was *before* the update, to be read again."""
    return all(get_path(answer, path, None) == value for path, value in _leaves(body))


def _leaves(body: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in body.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def parse_json_bytes(raw: bytes) -> Any:
    """JSON from bytes (UTF-8, a BOM allowed, as .NET sometimes sends one); Malformed says what came."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Malformed("the answer is not UTF-8 text") from None
    stripped = text.lstrip()
    if not stripped:
        raise Malformed("the answer is empty")
    if stripped.startswith("<"):
        raise Malformed("got an HTML page instead of JSON")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Malformed(f"not valid JSON ({exc.msg} at char {exc.pos})") from None


__all__ = ["Malformed", "expect_list", "expect_object", "parse_json_bytes", "records_at", "shows", "wrong_shape"]
