"""WhosOff's envelope and the streamed retrieve parser, with plain data (no HTTP)."""

import json

import pytest

from staffbridge.adapters.whosoff_envelope import Malformed, error_class, iter_records, unwrap, vendor_messages
from staffbridge.model.errors import AuthenticationError, NotFound, VendorMessage, VendorValidationError
from staffbridge.sdk.shapes import parse_json_bytes as parse_text

USERS = [
    {
        "user_id": 1000000 + n,
        "first_name": f"Ünïcode {n}",
        "last_name": "Müller",
        "status_id": "1",
        "this_year_remaining": 1234567 + n,
        "note": 'brace } and bracket ] in text, "quoted"',
    }
    for n in range(25)
]


class Raised(Exception):
    def __init__(self, messages):
        self.messages = messages


def fail(messages):
    raise Raised(messages)


def chunked(text: str, size: int):
    data = text.encode("utf-8")
    return [data[i : i + size] for i in range(0, len(data), size)]


def records(text: str, size: int = 7):
    return list(iter_records(chunked(text, size), fail))


# ------------------------------------------------------------------ streaming


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100_000])
def test_every_chunking_gives_the_same_records(size):
    text = json.dumps({"Data": USERS, "Errors": []}, ensure_ascii=False)
    assert records(text, size) == USERS


@pytest.mark.parametrize(
    "shape",
    [
        lambda users: users,  # a bare array
        lambda users: {"Errors": [], "Data": users},  # Errors first
        lambda users: {"data": users, "errors": None},  # other casing, null Errors
        lambda users: {"Data": users, "Message": "ok"},  # extra keys are ignored
    ],
)
def test_accepted_shapes(shape):
    text = json.dumps(shape(USERS), indent=2)
    assert records(text, 5) == USERS


def test_data_as_one_object_and_a_bare_object_are_one_record():
    assert records(json.dumps({"Data": USERS[0], "Errors": []})) == [USERS[0]]
    assert records(json.dumps(USERS[0])) == [USERS[0]]


def test_empty_answers():
    assert records('{"Data": [], "Errors": []}') == []
    assert records('{"Data": null, "Errors": []}') == []
    assert records("[]") == []
    assert records("{}") == []


def test_a_bom_and_surrounding_whitespace_are_fine():
    text = "\ufeff \n" + json.dumps({"Data": USERS[:2]}) + "\n\n"
    assert records(text, 3) == USERS[:2]


def test_a_number_cut_by_a_chunk_boundary_is_read_whole():
    text = json.dumps({"Data": [1234567890, 98765]})
    for size in range(1, 12):
        assert records(text, size) == [1234567890, 98765]


def test_errors_before_the_records_raise_before_any_record():
    text = json.dumps({"Errors": [{"Code": "0412", "Message": "access token has expired"}], "Data": USERS})
    seen = []
    with pytest.raises(Raised) as info:
        for record in iter_records(chunked(text, 16), fail):
            seen.append(record)
    assert seen == []
    assert info.value.messages == [VendorMessage("access token has expired", "0412")]


def test_errors_after_the_records_raise_at_the_end():
    text = json.dumps({"Data": USERS[:3], "Errors": [{"Code": "004a", "Message": "No allowances set"}]})
    seen = []
    with pytest.raises(Raised):
        for record in iter_records(chunked(text, 16), fail):
            seen.append(record)
    assert seen == USERS[:3]


@pytest.mark.parametrize(
    "text, words",
    [
        ("<html><body><h1>502 Bad Gateway</h1></body></html>", "HTML"),
        ('[{"id": 1, "firstname": "Tr', "ends early"),
        ('{"Data": [{"user_id": 1}, {"user_id": 2}', "ends early"),
        ('{"Data": [{"user_id": 1} {"user_id": 2}]}', "unexpected"),
        ('{"Data": "nope"}', "not records"),
        ('{"Data": []} trailing', "after the JSON"),
        ('"just a string"', "expected a JSON object or array"),
        ("", "empty"),
        ('{"Data": [{"user_id": 1,, }]}', "not valid JSON"),
    ],
)
def test_malformed_answers_are_malformed(text, words):
    with pytest.raises(Malformed) as info:
        records(text, 4)
    assert words in str(info.value)


def test_invalid_utf8_is_malformed():
    with pytest.raises(Malformed):
        list(iter_records([b'{"Data": [{"a": "\xff\xfe"}]}'], fail))


def test_memory_holds_one_record_not_the_whole_answer():
    # a generator of chunks: if the parser hoarded the text, the buffer would grow with every record
    from staffbridge.sdk import streaming as module

    sizes = []
    original = module.JsonReader.more

    def spy(self):
        result = original(self)
        sizes.append(len(self.buf))
        return result

    many = ({"user_id": n, "pad": "x" * 200} for n in range(5000))
    text = json.dumps({"Data": list(many)})
    module.JsonReader.more = spy
    try:
        count = sum(1 for _ in iter_records(chunked(text, 4096), fail))
    finally:
        module.JsonReader.more = original
    assert count == 5000
    assert max(sizes) < 3 * 4096


# ------------------------------------------------------------------ whole answers


def test_unwrap_shapes():
    assert unwrap({"Data": {"user_id": 1}, "Errors": []}) == ({"user_id": 1}, [])
    assert unwrap({"Data": [{"Record_ID": "9387447"}]}) == ([{"Record_ID": "9387447"}], [])
    assert unwrap({"user_id": 1}) == ({"user_id": 1}, [])  # bare payload
    assert unwrap([1, 2]) == ([1, 2], [])
    data, errors = unwrap({"Data": None, "Errors": [{"Code": "00422", "Message": "User limit reached"}]})
    assert data is None and errors == [VendorMessage("User limit reached", "00422")]
    with pytest.raises(Malformed):
        unwrap("text")
    with pytest.raises(Malformed):
        unwrap(None)


def test_errors_of_odd_shapes_are_kept():
    assert vendor_messages([{"code": 7, "message": "lower-case keys"}]) == [VendorMessage("lower-case keys", "7")]
    assert vendor_messages("a plain string") == [VendorMessage("a plain string")]
    assert vendor_messages({"Code": "0201", "Message": "one object"}) == [VendorMessage("one object", "0201")]
    assert vendor_messages([{"Code": "9"}])[0].code == "9"  # no message: the entry itself is the text
    assert vendor_messages([]) == vendor_messages(None) == []
    problem = {"title": "One or more validation errors occurred.", "errors": {"email_contact": ["too short"]}}
    assert unwrap(problem)[1] == [VendorMessage("email_contact: too short")]


def test_parse_text():
    assert parse_text(b'\xef\xbb\xbf{"Data": 1}') == {"Data": 1}
    for bad in (b"", b"   ", b"<!DOCTYPE html><html></html>", b'{"Data": [', b"\xff"):
        with pytest.raises(Malformed):
            parse_text(bad)


def test_error_classes():
    auth, missing = ("0411", "0412"), ("0300",)

    def kind(*messages, about_id=False):
        return error_class(list(messages), auth_codes=auth, not_found_codes=missing, about_id=about_id)

    assert kind(VendorMessage("x", "0412")) is AuthenticationError
    assert kind(VendorMessage("user 5 not found", "0300")) is NotFound
    assert kind(VendorMessage("email_contact already in use", "0206")) is VendorValidationError
    assert kind(VendorMessage("No allowances set", "004a")) is VendorValidationError
    # codes unknown to us: the wording decides
    assert kind(VendorMessage("Bearer token invalid", "9999")) is AuthenticationError
    assert kind(VendorMessage("User not found", "9998"), about_id=True) is NotFound
    assert kind(VendorMessage("User not found", "9998"), about_id=False) is VendorValidationError
    assert kind(VendorMessage("password is required", "0201")) is VendorValidationError
