"""Reading WhosOff's answers: the `{Data, Errors: [{Code, Message}]}` envelope, streamed or whole.

The docs call it the "standard response object" but print it as invalid JSON and show most
endpoints only as field lists, so this accepts `Data` as an object or an array, and a bare payload
with no envelope at all. `Errors` present and non-empty is a refusal whatever the HTTP status.

`iter_records` streams a retrieve answer (WhosOff does not paginate: one answer holds every user)
record by record, with the SDK's streaming JSON reader (sdk.streaming).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from staffbridge.model.errors import AuthenticationError, NotFound, VendorAPIError, VendorMessage, VendorValidationError
from staffbridge.sdk.shapes import Malformed
from staffbridge.sdk.streaming import JsonReader, array_items, start

# ------------------------------------------------------------------ errors


def vendor_messages(errors: Any) -> list[VendorMessage]:
    """`Errors` as VendorMessages: [{Code, Message}] normally; odd shapes are kept, not dropped."""
    if errors in (None, "", [], {}):
        return []
    if isinstance(errors, dict) and not {str(k).lower() for k in errors} & {"code", "message"}:
        # ASP.NET's validation problem shape: {"field": ["message", ...]}
        return [
            VendorMessage(f"{name}: {'; '.join(map(str, v)) if isinstance(v, list) else v}")
            for name, v in errors.items()
        ]
    if not isinstance(errors, list):
        errors = [errors]
    messages = []
    for entry in errors:
        if isinstance(entry, dict):
            lowered = {str(k).lower(): v for k, v in entry.items()}
            code = lowered.get("code")
            text = lowered.get("message")
            if text is None:
                text = json.dumps(entry, ensure_ascii=False, default=str)
            messages.append(VendorMessage(str(text), None if code in (None, "") else str(code)))
        elif entry not in (None, ""):
            messages.append(VendorMessage(str(entry)))
    return messages


AUTH_WORDS = re.compile(
    r"\btoken\b|unauthori[sz]|not authori[sz]|authenticat|bearer|\bapp[-_ ]?id\b|"
    r"credential|user level|permission",
    re.IGNORECASE,
)
NOT_FOUND_WORDS = re.compile(r"not found|no such user|unknown user", re.IGNORECASE)


def error_class(
    messages: list[VendorMessage],
    *,
    auth_codes: Iterable[str] = (),
    not_found_codes: Iterable[str] = (),
    about_id: bool = False,
) -> type[VendorAPIError]:
    """Which error a refusal is. Codes decide first (they are settings: WhosOff publishes only two);
    without a known code, the wording does. "Not found" counts only for calls about one user id."""
    codes = {m.code for m in messages if m.code}
    if codes & set(auth_codes):
        return AuthenticationError
    if codes & set(not_found_codes):
        return NotFound
    if any(AUTH_WORDS.search(m.message) for m in messages):
        return AuthenticationError
    if about_id and any(NOT_FOUND_WORDS.search(m.message) for m in messages):
        return NotFound
    return VendorValidationError


# ------------------------------------------------------------------ answers


def unwrap(payload: Any) -> tuple[Any, list[VendorMessage]]:
    """(Data, errors) from a parsed answer; a bare object or array is its own Data."""
    if isinstance(payload, dict):
        keys = {str(k).lower(): k for k in payload}
        if "data" in keys or "errors" in keys:
            data = payload.get(keys["data"]) if "data" in keys else None
            errors = payload.get(keys["errors"]) if "errors" in keys else None
            return data, vendor_messages(errors)
        return payload, []
    if isinstance(payload, list):
        return payload, []
    raise Malformed(f"expected a JSON object or array, got {type(payload).__name__}")


def iter_records(chunks: Iterable[bytes], on_errors: Callable[[list[VendorMessage]], None]) -> Iterator[Any]:
    """Each record of a retrieve answer, as it arrives.

    Accepts `{"Data": [...], "Errors": [...]}` (keys in any order and case), `{"Data": {...}}` (one
    record), a bare array, or a bare object. Non-empty `Errors` calls `on_errors`, which raises:
    before the records when they come first, after the last record when they come last.
    """
    reader = JsonReader(chunks)
    if start(reader) == "[":
        yield from array_items(reader)
    else:
        yield from _object(reader, on_errors)
    if reader.peek() is not None:
        raise Malformed("unexpected text after the JSON answer")


def _object(reader: JsonReader, on_errors: Callable[[list[VendorMessage]], None]) -> Iterator[Any]:
    reader.expect("{", "at the start")
    enveloped = False
    bare: dict[str, Any] = {}
    if reader.peek() == "}":
        reader.pos += 1
        return
    while True:
        key = reader.value("where a key belongs")
        if not isinstance(key, str):
            raise Malformed("an object key is not a string")
        reader.expect(":", f"after the key {key!r}")
        name = key.lower()
        if name == "data":
            enveloped = True
            if reader.peek() == "[":
                yield from array_items(reader)
            else:
                data = reader.value("in Data")
                if isinstance(data, dict):
                    yield data
                elif data is not None:
                    raise Malformed(f"Data is a {type(data).__name__}, not records")
        elif name == "errors":
            enveloped = True
            messages = vendor_messages(reader.value("in Errors"))
            if messages:
                on_errors(messages)
        else:
            bare[key] = reader.value(f"in {key!r}")
        if reader.expect(",}", "between the answer's fields") == "}":
            break
    if not enveloped:
        yield bare  # no envelope: the object is the one record
