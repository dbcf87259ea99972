"""The SDK's streaming JSON reader (sdk.streaming), with plain data (no HTTP): every chunking gives the
records `json.loads` gives, a bad answer is Malformed, and memory holds one record, not the answer."""

import json

import pytest

from staffbridge.sdk import streaming
from staffbridge.sdk.shapes import Malformed
from staffbridge.sdk.streaming import JsonReader, records_in

RECORDS = [
    {"_id": f"{n:024x}", "general": {"firstName": f"Ünïcode {n}", "note": 'a ] and a , in "text"'}, "n": 10**n}
    for n in range(30)
]
KEYS = ("data", "users", "items")


def chunked(text: str, size: int) -> list[bytes]:
    data = text.encode("utf-8")
    return [data[i : i + size] for i in range(0, len(data), size)]


def read(text: str, size: int = 7, keys: tuple[str, ...] = KEYS) -> list:
    return list(records_in(JsonReader(chunked(text, size)), keys))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100_000])
@pytest.mark.parametrize("indent", [None, 2])
def test_every_chunking_reads_what_json_loads_reads(size, indent):
    # numbers cut by a chunk's end (10**n grows to 30 digits) must not be read short
    assert read(json.dumps(RECORDS, indent=indent), size) == RECORDS
    wrapped = {"total": 30, "meta": {"items": "not this"}, "users": RECORDS, "after": [1, 2]}
    assert read(json.dumps(wrapped, indent=indent), size) == RECORDS


def test_the_first_wanted_key_holding_a_list_is_the_one_read():
    answer = {"data": {"not": "a list"}, "items": [{"a": 1}], "users": [{"b": 2}]}
    assert read(json.dumps(answer)) == [{"a": 1}]
    assert read(json.dumps(answer), keys=("users",)) == [{"b": 2}]
    assert read("[]") == [] and read(' { "data" : [ ] } ') == []


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "empty"),
        ("<html><body>Bad gateway</body></html>", "HTML"),
        ("null", "got text starting 'n'"),
        ('{"total": 3}', "without one (looked for data, users, items)"),
        ("{}", "without one"),
        ('[{"a": 1}] [', "unexpected text after"),
        ('[{"a": 1}, {"a": 2}', "ends early"),
        ('[{"a": 1} {"a": 2}]', "unexpected '{' after record 0"),
        ('[{"a": 1}, {"a": tru}]', "not valid JSON in record 1"),
    ],
)
def test_a_bad_answer_is_malformed_and_says_why(text, says):
    with pytest.raises(Malformed, match=says.replace("(", r"\(").replace(")", r"\)")):
        read(text, size=4)


def test_records_before_a_broken_one_are_delivered():
    reader = records_in(JsonReader(chunked('[{"a": 1}, {"a": 2}, {"a": ', 5)), KEYS)
    assert next(reader) == {"a": 1} and next(reader) == {"a": 2}
    with pytest.raises(Malformed):
        next(reader)


def test_memory_holds_about_one_chunk_not_the_whole_answer(monkeypatch):
    sizes = []
    original = streaming.JsonReader.more

    def spy(self):
        result = original(self)
        sizes.append(len(self.buf))
        return result

    monkeypatch.setattr(streaming.JsonReader, "more", spy)
    text = json.dumps({"data": [{"id": n, "pad": "x" * 200} for n in range(5000)]})
    count = sum(1 for _ in records_in(JsonReader(chunked(text, 4096)), KEYS))
    assert count == 5000
    assert len(text) > 250 * 4096 and max(sizes) < 3 * 4096


def test_the_careful_path_is_taken_only_where_a_chunk_cuts_a_record(monkeypatch):
    # the fast path (decoder + one pattern match) must resume after each careful step, white space
    # after the comma included: a careful step per record costs several times the parse
    careful = []
    original = streaming.JsonReader.value

    def spy(self, where):
        careful.append(where)
        return original(self, where)

    monkeypatch.setattr(streaming.JsonReader, "value", spy)
    text = json.dumps([{"id": n, "pad": "x" * 100} for n in range(2000)], indent=1)
    chunks = chunked(text, 4096)
    assert sum(1 for _ in records_in(JsonReader(chunks), KEYS)) == 2000
    assert len(careful) <= len(chunks) + 1
