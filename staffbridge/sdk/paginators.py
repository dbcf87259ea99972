"""How a list endpoint hands out its records: one answer, Link headers, page numbers or offsets.

A paginator is declared on the adapter (`paginator = LinkHeader()`) and asked for every record of
a list endpoint: `paginator.items(transport, path, params, reader)`, where the reader (the adapter,
which knows where records sit in an answer) gives one page's records, `reader.records(response)`, or
those of an answer holding every record one by one as it arrives, `reader.stream_records(response)`.
One page is in memory at a time; of a single answer, one record.

A paged listing sends the request for the next page as soon as the answer before says there is one
(`ReadAhead`), so the server works on it while the caller uses the records already read: with a
vendor far away or slow to answer, the time spent on each page's records hides in the wait for the
next. It sends no request the listing would not send anyway.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from types import TracebackType
from typing import Any, ClassVar, Protocol

import requests

from staffbridge.sdk.transport import Transport


class Reader(Protocol):
    def records(self, response: requests.Response) -> list[Any]:
        """The records of one page."""

    def stream_records(self, response: requests.Response) -> Iterator[Any]:
        """The records of a streamed answer, as they arrive; closes the response."""


class ReadAhead:
    """A listing's requests, each sent on a worker thread while the records before it are in use.

    A request is read ahead only when the rate limit lets it go at once; otherwise the caller's
    thread sends it when the records are wanted, as a plain listing does, so a rate-limit wait is
    never hidden in a thread (where Ctrl-C would not reach it). When the caller stops reading,
    leaving the block waits for the request in flight, so no request of the listing outlives it;
    leaving on an error or Ctrl-C does not (the thread is a daemon).
    """

    def __init__(self, transport: Transport):
        self.transport = transport
        self.pending: Future[requests.Response] | tuple[str, dict[str, Any] | None] | None = None
        self._asked: queue.SimpleQueue[tuple[Future[requests.Response], str, dict[str, Any] | None] | None]
        self._asked = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def send(self, url: str, params: dict[str, Any] | None) -> None:
        if not self.transport.limiter.free():
            self.pending = (url, params)  # sent by received(), waiting there
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._send_each, name="staffbridge-next-page", daemon=True)
            self._thread.start()
        self.pending = Future()
        self._asked.put((self.pending, url, params))

    def received(self) -> requests.Response:
        """The answer to the request sent last (its error, if it failed)."""
        assert self.pending is not None
        pending, self.pending = self.pending, None
        if isinstance(pending, tuple):
            return self.transport.request("GET", pending[0], params=pending[1])
        return pending.result()

    def _send_each(self) -> None:
        while (asked := self._asked.get()) is not None:
            answer, url, params = asked
            try:
                answer.set_result(self.transport.request("GET", url, params=params))
            except BaseException as error:  # handed to the caller, which raises it where it reads
                answer.set_exception(error)

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._thread is None:
            return
        self._asked.put(None)
        if kind is None or issubclass(kind, GeneratorExit):
            self._thread.join()


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
        with ReadAhead(transport) as ahead:
            ahead.send(path, params)
            page = 1
            while ahead.pending:
                response = ahead.received()
                records = reader.records(response)
                url = self.next_url(response, page, len(records))
                if url:
                    ahead.send(url, None)
                yield from records
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
        with ReadAhead(transport) as ahead:
            ahead.send(path, self.params(params, page, offset))
            while ahead.pending:
                response = ahead.received()
                records = reader.records(response)
                fresh = []
                seen: set[str] = set()
                for record in records:
                    key = self._key(record)
                    if key in before or key in seen:
                        continue
                    if key:
                        seen.add(key)
                    fresh.append(record)
                before = seen
                offset += len(records)
                page += 1
                total = _int(response.headers.get(self.total_header)) if self.total_header else None
                if len(records) >= self.size and fresh and (total is None or offset < total):
                    ahead.send(path, self.params(params, page, offset))
                yield from fresh

    def params(self, params: dict[str, Any] | None, page: int, offset: int) -> dict[str, Any]:
        return {**(params or {}), **self.where(page, offset), self.size_param: self.size}

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


__all__ = ["LinkHeader", "Offset", "PageNumber", "Paginator", "ReadAhead", "SingleAnswer"]
