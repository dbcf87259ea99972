"""What "the same value" means, said once: matching, plan diffs and unify conflicts all ask here.

Two values of one field are the same when they differ only in form. One rule per kind of field:

- Empty (None, blank text, [], {}, an empty Ref or Address) says nothing: "not known here". Two
  empty values are the same; an empty and a full one are not (callers decide what a gap means: a plan
  never clears a field, unify never calls a gap a conflict).
- `email`, `username`: spacing trimmed and collapsed, case ignored ("ADA" is "ada").
- `work_phone`, `mobile_phone`: only the digits and a leading "+" count ("+49 (40) 1001" is
  "+49 40 1001").
- Other text: spacing trimmed and collapsed, case kept ("E001" is not "e001").
- Ref (department, role): by name when both have one (spacing and case ignored), else by id. Ids are
  local to the system that made them: values of two systems are compared as `Ref.portable()`.
- Address: the same text (spacing and case ignored) is the same address. Both structured: every part
  the same. One only a text (MOCO's home_address holds "Name\\nStreet\\nZip City"): the other's
  street, zip and city all appear in it (a one-text address often leaves the country out).
- Dates and times: as ISO text. Booleans, numbers: by their text (a CSV's "42" is a JSON 42).
- Lists (tags): the same items in any order. A custom field (`custom_fields.X`) follows the kind
  of its value.

`normalise(field, value)` is the comparable text form: the matcher's index key, and the form
messages and journal keys show. Values with equal forms are always the same value. The relation is
wider than the key in two places a key cannot express (it is not transitive there): a Ref without a
name is the same as a named one with its id, and an address text is the same as parts it contains.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from staffbridge.model.values import Address, Ref

__all__ = ["CASE_INSENSITIVE", "PHONES", "is_empty", "name_key", "normalise", "same_value"]

CASE_INSENSITIVE = frozenset({"email", "username"})
PHONES = frozenset({"work_phone", "mobile_phone"})
# the parts that locate an address: enough to recognise it inside a one-text form
LOCATING_PARTS = ("street", "zip", "city")
_NOT_DIGITS = re.compile(r"\D")


def is_empty(value: Any) -> bool:
    """Whether `value` says nothing: None, blank text, an empty list/dict/Ref/Address."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (Ref, Address, list, tuple, set, dict)):
        return not value
    return False


def name_key(text: str) -> str:
    """How names compare where case says nothing (emails, reference names, addresses)."""
    return " ".join(text.split()).casefold()


def normalise(field: str, value: Any) -> str | None:
    """The comparable text of one value of `field`, or None when it says nothing."""
    if is_empty(value):
        return None
    if isinstance(value, Ref):
        return name_key(value.name) if value.name else f"#{value.id}"
    if isinstance(value, Address):
        return name_key(value.as_text() or "") or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set)):
        parts = sorted(p for p in (normalise(field, v) for v in value) if p is not None)
        return "|".join(parts) or None
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    if field in PHONES and isinstance(value, str):
        digits = _NOT_DIGITS.sub("", value)
        return (("+" if value.lstrip().startswith("+") else "") + digits) if digits else None
    text = " ".join(str(value).split())
    return text.casefold() if field in CASE_INSENSITIVE else text


def same_value(field: str, a: Any, b: Any) -> bool:
    """Whether two values of `field` say the same thing (see the module docstring for the rules)."""
    if is_empty(a) or is_empty(b):
        return is_empty(a) and is_empty(b)
    if isinstance(a, Ref) or isinstance(b, Ref):
        if not (isinstance(a, Ref) and isinstance(b, Ref)):
            return False
        if a.name and b.name:
            return name_key(a.name) == name_key(b.name)
        return a.id is not None and a.id == b.id
    if isinstance(a, Address) or isinstance(b, Address):
        return isinstance(a, Address) and isinstance(b, Address) and _same_address(a, b)
    return normalise(field, a) == normalise(field, b)


def _same_address(a: Address, b: Address) -> bool:
    text_a, text_b = normalise("address", a), normalise("address", b)
    if text_a == text_b:
        return True
    parts_a, parts_b = _parts(a), _parts(b)
    if parts_a and parts_b:
        return parts_a == parts_b
    text, parts = (text_a, parts_b) if parts_b else (text_b, parts_a)
    located = [parts[name] for name in LOCATING_PARTS if name in parts]
    return bool(located) and text is not None and all(part in text for part in located)


def _parts(address: Address) -> dict[str, str]:
    return {
        name: name_key(value)
        for name in Address.PARTS
        if isinstance(value := getattr(address, name), str) and value.strip()
    }
