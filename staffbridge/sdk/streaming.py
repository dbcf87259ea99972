"""Reading a JSON answer record by record as it arrives, for vendors that send every record in one
answer (WhosOff's retrieve, the field-service list): `json.JSONDecoder.raw_decode` over the text so
far, so neither the whole text nor the whole parsed list is ever held. `JsonReader` is the cursor;
`array_items` walks an array; `records_in` finds the array of records in a bare-array or object answer.
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
# what follows an array item: the comma or the closing bracket, with the white space on either side
_AFTER_ITEM = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
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
    """Each item of the array at the reader's position, as it arrives.

    The common case, an item and its separator both within the text so far, costs two C calls (the
    decoder and one pattern match); an item cut by a chunk's end takes the careful path, once a chunk.
    """
    reader.expect("[", "at the start of the list")
    if reader.peek() == "]":
        reader.pos += 1
        return
    decode, after = _DECODER.raw_decode, _AFTER_ITEM.match
    index = 0
    while True:
        buf, pos = reader.buf, reader.pos
        try:
            value, end = decode(buf, pos)
            separator = after(buf, end)
        except json.JSONDecodeError:
            separator = None
        if separator is None:  # cut by the chunk's end (or broken: the careful path says which)
            value = reader.value(f"in record {index}")
            closing = reader.expect(",]", f"after record {index}")
            if closing == ",":
                reader.peek()  # past the white space, where the fast path expects the next item
        else:
            reader.pos = separator.end()
            closing = separator.group(1)
        yield value
        index += 1
        if closing == "]":
            return


def records_in(reader: JsonReader, keys: Iterable[str] = ()) -> Iterator[Any]:
    """Each record of a list answer, as it arrives: a bare array, or an object holding the array under
    the first of `keys` met in the text (the object's other values are read and dropped). Malformed
    when it is neither, or when text follows the answer."""
    first = start(reader)
    wanted = set(keys)
    if first == "[":
        yield from array_items(reader)
    else:
        reader.expect("{", "at the start")
        found = False
        if reader.peek() == "}":
            reader.pos += 1
        else:
            while True:
                key = reader.value("where a key belongs")
                reader.expect(":", f"after the key {key!r}")
                if not found and key in wanted and reader.peek() == "[":
                    found = True
                    yield from array_items(reader)
                else:
                    reader.value(f"in {key!r}")
                if reader.expect(",}", "between the answer's fields") == "}":
                    break
        if not found:
            raise Malformed(f"expected a list of records, got an object without one (looked for {', '.join(keys)})")
    if reader.peek() is not None:
        raise Malformed("unexpected text after the JSON answer")


def start(reader: JsonReader) -> str:
    """The answer's first character, `[` or `{`; Malformed for an empty answer, HTML or other text."""
    first = reader.peek()
    if first is None:
        raise Malformed("the answer is empty")
    if first == "<":
        raise Malformed("got an HTML page instead of JSON")
    if first not in "[{":
        raise Malformed(f"expected a JSON object or array, got text starting {first!r}")
    return first


__all__ = ["JsonReader", "array_items", "decode_chunks", "records_in", "start"]
