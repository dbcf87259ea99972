"""What an answer must look like: a list of records, one object, or JSON at all.

Each helper raises the typed `ResponseError` naming the vendor and the request (secrets masked), so
an adapter says what it expects in one line instead of writing the check and the message again:

    records = expect_list(records_at(transport.json(response), ("data", "users")), transport, response)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import requests

from staffbridge.mapping.engine import get_path
from staffbridge.model.errors import NotFound, ResponseError
from staffbridge.sdk.transport import Transport


class Malformed(ValueError):
    """The answer is not JSON we can read (HTML, truncated, not UTF-8, the wrong shape)."""


def as_records(data: Any) -> list[Any]:
    """The records of an answer that may be a list of them, one object, or nothing (None)."""
    return data if isinstance(data, list) else [] if data is None else [data]


def records_at(data: Any, keys: Iterable[str] = ()) -> Any:
    """Where the records sit in a list answer: the first of `keys` holding a list, else the answer."""
    if isinstance(data, dict):
        return next((data[key] for key in keys if isinstance(data.get(key), list)), data)
    return data


def expect_list(
    data: Any, transport: Transport, response: requests.Response, what: str = "a list of records"
) -> list[Any]:
    if not isinstance(data, list):
        raise wrong_shape(transport, response, what, data)
    return data


def expect_object(
    data: Any, transport: Transport, response: requests.Response, what: str = "an object"
) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise wrong_shape(transport, response, what, data)
    return data


def expect_found(data: Any, transport: Transport, response: requests.Response, what: str) -> dict[str, Any]:
    """The record a GET of one `what` (e.g. "user 42") answered: NotFound when the answer is nothing (200
    with an empty body or `null`, how NestJS renders a missing document), ResponseError unless an object."""
    if data is None:
        raise NotFound(
            f"{transport.vendor}: {what} not found (empty answer)",
            status=response.status_code,
            vendor=transport.vendor,
            request=transport.describe(response.request.method or "GET", response.url),
        )
    return expect_object(data, transport, response, f"one object for {what}")


def one_record(data: Any, vendor: str, what: str) -> dict[str, Any]:
    """The one record of an answer that should hold exactly one (an array of one counts): NotFound
    when it is empty, ResponseError when it is something else."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if data in (None, [], {}):
        raise NotFound(f"{vendor}: {what} not found (empty answer)", vendor=vendor)
    if not isinstance(data, dict):
        raise ResponseError(f"{vendor}: expected one record for {what}, got {type(data).__name__}", vendor=vendor)
    return data


def names_by_id(
    records: Iterable[Any], id_keys: tuple[str, ...] = ("id",), name_keys: tuple[str, ...] = ("name",)
) -> dict[str, str]:
    """{id: name} from the records of a lookup answer (units, departments, roles): each takes the first
    of `id_keys` / `name_keys` it has; a record without an id is skipped, a name that is not text is ""."""
    found: dict[str, str] = {}
    for record in records:
        if not isinstance(record, dict):
            continue
        ident = next((record[key] for key in id_keys if key in record), None)
        name = next((record[key] for key in name_keys if key in record), None)
        if ident not in (None, "") and not isinstance(ident, bool):
            found.setdefault(str(ident), name if isinstance(name, str) else "")
    return found


def wrong_shape(transport: Transport, response: requests.Response, what: str, data: Any) -> ResponseError:
    request = transport.describe(response.request.method or "GET", response.url)
    return ResponseError(
        f"{transport.vendor}: expected {what}, got {type(data).__name__} on {request}",
        status=response.status_code,
        request=request,
        vendor=transport.vendor,
    )


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
    except json.JSONDecodeError as exc:
        raise Malformed(f"not valid JSON ({exc.msg} at char {exc.pos})") from None


__all__ = [
    "Malformed",
    "as_records",
    "expect_found",
    "expect_list",
    "expect_object",
    "names_by_id",
    "one_record",
    "parse_json_bytes",
    "records_at",
    "shows",
    "wrong_shape",
]
