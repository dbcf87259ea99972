"""How a list endpoint hands out its records: one answer, Link headers, page numbers or offsets.

A paginator is declared on the adapter (`paginator = LinkHeader()`) and asked for every record of
a list endpoint: `paginator.items(transport, path, params, reader)`, where the reader (the adapter,
which knows where records sit in an answer) gives one page's records, `reader.records(response)`, or
those of an answer holding every record one by one as it arrives, `reader.stream_records(response)`.
One page is in memory at a time; of a single answer, one record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import requests

from staffbridge.sdk.transport import Transport


class Reader(Protocol):
    def records(self, response: requests.Response) -> list[Any]:
        """The records of one page."""

    def stream_records(self, response: requests.Response) -> Iterator[Any]:
        """The records of a streamed answer, as they arrive; closes the response."""


class Paginator:
    kind: ClassVar[str] = "none"  # shown in capabilities.pagination

    def items(self, transport: Transport, path: str, params: dict[str, Any] | None, reader: Reader) -> Iterator[Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class SingleAnswer(Paginator):
    """One answer holds every record: streamed, so memory holds one record however many there are."""

    kind: ClassVar[str] = "none"

    def items(self, transport: Transport, path: str, params: dict[str, Any] | None, reader: Reader) -> Iterator[Any]:
        yield from reader.stream_records(transport.request("GET", path, params=params or None, stream=True))


@dataclass(frozen=True)
class LinkHeader(Paginator):
    """Follows `Link: <...>; rel="next"`. Without a Link header, `X-Page` / `X-Per-Page` / `X-Total`
    (MOCO; header names in any case) say whether another page follows, asked for with `page_param`."""

    kind: ClassVar[str] = "link"
    page_param: str = "page"

    def items(self, transport: Transport, path: str, params: dict[str, Any] | None, reader: Reader) -> Iterator[Any]:
        url: str | None = path
        page = 1
        while url:
            response = transport.request("GET", url, params=params if page == 1 else None)
            records = reader.records(response)
            yield from records
            url = self.next_url(response, page, len(records))
            page += 1

    def next_url(self, response: requests.Response, page: int, count: int) -> str | None:
        link = response.links.get("next", {}).get("url")
        if link:
            return str(link)
        headers = response.headers  # case-insensitive: 2023 MOCO recordings send x-page, x-total
        try:
            current = int(headers.get("X-Page", page))
            per_page = int(headers["X-Per-Page"])
            total = int(headers["X-Total"])
        except (KeyError, ValueError):
            return None
        if not count or current * per_page >= total:
            return None
        request_url = response.request.url or ""
        query = request_url.split("?", 1)[1] if "?" in request_url else ""
        kept = "&".join(p for p in query.split("&") if p and not p.startswith(f"{self.page_param}="))
        return f"{response.url.split('?')[0]}?{kept + '&' if kept else ''}{self.page_param}={current + 1}"


@dataclass(frozen=True)
class PageNumber(Paginator):
    """`?page=N&limit=M` from page `first`. Stops at a short page, at `total_header`'s count, or at a
    page holding only records already seen (`key` names a record's identity field: a record that
    moved pages while we read, or a server that ignores the page parameter, is not read twice).
    Records are compared with the page before only, so memory stays that of two pages however
    many are read (a record moves by the few inserted or deleted meanwhile, not by pages)."""

    kind: ClassVar[str] = "page"
    size: int = 100
    param: str = "page"
    size_param: str = "limit"
    first: int = 1
    key: str | None = None
    total_header: str | None = "X-Total-Count"

    def where(self, page: int, offset: int) -> dict[str, Any]:
        return {self.param: page}

    def items(self, transport: Transport, path: str, params: dict[str, Any] | None, reader: Reader) -> Iterator[Any]:
        before: set[str] = set()  # the keys of the page before
        page, offset = self.first, 0
        while True:
            response = transport.request(
                "GET", path, params={**(params or {}), **self.where(page, offset), self.size_param: self.size}
            )
            records = reader.records(response)
            fresh = 0
            seen: set[str] = set()
            for record in records:
                key = self._key(record)
                if key in before or key in seen:
                    continue
                if key:
                    seen.add(key)
                fresh += 1
                yield record
            before = seen
            offset += len(records)
            page += 1
            total = _int(response.headers.get(self.total_header)) if self.total_header else None
            if len(records) < self.size or not fresh or (total is not None and offset >= total):
                return

    def _key(self, record: Any) -> str | None:
        if self.key is None or not isinstance(record, dict) or not record.get(self.key):
            return None
        return str(record[self.key])


@dataclass(frozen=True)
class Offset(PageNumber):
    """`?skip=N&limit=M`: like PageNumber, counting records instead of pages."""

    kind: ClassVar[str] = "skip"
    param: str = "skip"

    def where(self, page: int, offset: int) -> dict[str, Any]:
        return {self.param: offset}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = ["LinkHeader", "Offset", "PageNumber", "Paginator", "SingleAnswer"]
