"""How a field value is shown, said once: as JSON (`json_value`) and as one line of text (`text_value`).

Plan and report JSON, the unified directory's JSON and CSV, a Person's `to_dict()` and the CLI's
tables all show values through here, so an address or a department looks the same in each.
One form per type:

    value             json_value                                  text_value (CSV cells, tables)
    None, [], {}      null, [], {}                                ""
    Ref               {"id": ..., "name": ...}                    the name, else the id
    Address           {part: text} of the parts it has            its text, lines joined by ", "
                      (`formatted` included when given)
    date, datetime    ISO 8601 text                               ISO 8601 text
    bool              true / false                                "yes" / "no"
    list, tuple       a list of json_value                        the items' text joined by ", "
    dict              {key: json_value}                           "key=value" joined by ", "
    str, int, float   as it is                                    as text, line breaks as spaces
    anything else     str(value)                                  str(value)

`json_text(data)` is a whole JSON document (indented, UTF-8 as it is) with every value in that form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from staffbridge.model.values import Address, Ref

__all__ = ["json_text", "json_value", "text_value"]


def json_value(value: Any) -> Any:
    """A JSON-ready form of a field value (see the table above)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Ref):
        return {"id": value.id, "name": value.name}
    if isinstance(value, Address):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return str(value)


def text_value(value: Any) -> str:
    """A one-line text form of a field value, for CSV cells, tables and messages."""
    if value is None or value == [] or value == {}:
        return ""
    if isinstance(value, Ref):
        return value.name or value.id or ""
    if isinstance(value, Address):
        return (value.as_text() or "").replace("\n", ", ")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(text_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={text_value(v)}" for k, v in value.items())
    return str(value).replace("\r\n", " ").replace("\n", " ")


def json_text(data: Any) -> str:
    """`data` as an indented JSON document, each value in its `json_value` form, ending in a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=json_value) + "\n"
