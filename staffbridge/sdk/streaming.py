"""Reading a JSON answer record by record as it arrives, for vendors that send every record in one
answer (WhosOff's retrieve): `json.JSONDecoder.raw_decode` over the text so far, so neither the whole
text nor the whole parsed list is ever held. `JsonReader` is the cursor; `array_items` walks an array.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from staffbridge.sdk.shapes import Malformed

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
MAX_VALUE_CHARS = 8_000_000  # one record larger than this is not a user: stop reading, do not hoard


def decode_chunks(chunks: Iterable[bytes]) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        for chunk in chunks:
            if chunk:
                yield decoder.decode(chunk)
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise Malformed("the answer is not UTF-8 text") from None


class JsonReader:
    """A cursor over JSON text that arrives in chunks; keeps only what is not yet parsed."""

    def __init__(self, chunks: Iterable[bytes]):
        self._chunks = iter(decode_chunks(chunks))
        self.buf = ""
        self.pos = 0
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        for chunk in self._chunks:
            if chunk:
                if self.pos:  # drop what is parsed, so memory holds one record and one chunk
                    self.buf = self.buf[self.pos :]
                    self.pos = 0
                self.buf += chunk
                return True
        self.eof = True
        return False

    def peek(self) -> str | None:
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return None

    def expect(self, allowed: str, where: str) -> str:
        char = self.peek()
        if char is None:
            raise Malformed(f"the answer ends early, {where}")
        if char not in allowed:
            raise Malformed(f"unexpected {char!r} {where}")
        self.pos += 1
        return char

    def value(self, where: str) -> Any:
        if self.peek() is None:
            raise Malformed(f"the answer ends early, {where}")
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > MAX_VALUE_CHARS:
                    raise Malformed(f"a value {where} is not valid JSON or too large") from None
                if self.more():
                    continue
                raise Malformed(f"not valid JSON {where}, or the answer ends early ({exc.msg})") from None
            # a number at the very end of the text so far may go on in the next chunk
            if end == len(self.buf) and isinstance(value, (int, float)) and not self.eof and self.more():
                continue
            self.pos = end
            return value


def array_items(reader: JsonReader) -> Iterator[Any]:
    """Each item of the array at the reader's position, as it arrives."""
    reader.expect("[", "at the start of the list")
    if reader.peek() == "]":
        reader.pos += 1
        return
    index = 0
    while True:
        yield reader.value(f"in record {index}")
        index += 1
        if reader.expect(",]", f"after record {index - 1}") == "]":
            return


__all__ = ["JsonReader", "array_items", "decode_chunks"]
