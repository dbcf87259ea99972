"""The declared incremental cursor of an adapter, in dlt's spirit (`cursor_path`, lag).

An adapter that can list only what changed says so with a class attribute instead of a flag plus a
filter name everybody has to know:

    class MocoAdapter(HTTPAdapter):
        cursor = Cursor(field="updated_at", param="updated_after")

`field` is the Person field whose newest value tells where the next read starts, `param` the list
filter (and request parameter) that asks for records changed after a moment, `overlap` how far
before the newest change seen the next read starts, so a change stamped while we read is read
again instead of missed. `adapter.list(updated_after=...)` stays an ordinary documented filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from staffbridge.mapping.converters import DateTime


@dataclass(frozen=True)
class Cursor:
    field: str = "updated_at"
    param: str = "updated_after"
    overlap: dt.timedelta = dt.timedelta(minutes=5)

    def request_value(self, value: Any) -> str:
        """`value` as the vendor takes it: an ISO 8601 UTC timestamp (a date is its midnight)."""
        if isinstance(value, dt.datetime):
            return str(DateTime().write(value))
        if isinstance(value, dt.date):
            return f"{value.isoformat()}T00:00:00Z"
        return str(value)

    def newest(self, people: Iterable[Any]) -> dt.datetime | None:
        """The newest cursor value among `people` (Persons), timezone-aware."""
        stamps = [
            _aware(stamp) for stamp in (getattr(p, self.field, None) for p in people) if isinstance(stamp, dt.datetime)
        ]
        return max(stamps, default=None)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


__all__ = ["Cursor"]
