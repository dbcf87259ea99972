"""Fuzzing the mapping engine both ways, for every vendor mapping, 1,000 examples per target.

Reading: malformed vendor records (real sandbox records with parts dropped, replaced by odd values or
other types, or added; and arbitrary JSON) through the adapter's record handling and the mapping.
The only outcome allowed is a Person holding what could be read, each problem in `person.problems`
naming its field path: reading never raises, never changes the record it was given, and never
keeps a secret path (access.token, ...) in `person.raw`.

Writing: malformed canonical changes (any field, any value: text, numbers, dates, references,
addresses, lists, objects) through validate_changes and the mapping's write direction. The outcome
is a vendor body, or a typed StaffbridgeError (PersonValidationError / MappingError) naming the field.
`pytest tests/test_fuzz_mapping.py -s` prints the outcomes.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from staffbridge import Address, Person, PersonValidationError, Ref, StaffbridgeError
from staffbridge.mapping.engine import get_path
from staffbridge.model.person import WRITABLE_FIELDS, validate_changes
from staffbridge.sdk.registry import sandbox_class

from .test_fuzz_http import EXAMPLES, FUZZ, JSON, ODD, connect, mutated, paths_of

HANG_LIMIT = 300  # seconds per fuzz target at most: a hang guard for CI (see conftest.py)

VENDORS = ("moco", "whosoff", "fieldservice")


def _records(vendor: str) -> list[Any]:
    """Real records of the bundled sandbox, parsed from its own list answer."""
    with sandbox_class(vendor)(seed_people=4) as sb:
        adapter = connect(vendor, sb.url, handshake=True)
        bodies: list[bytes] = []
        adapter.transport.session.hooks["response"].append(lambda r, *a, **k: bodies.append(r.content))
        list(adapter.list())
        answer = json.loads(bodies[-1])
    records = answer["Data"] if isinstance(answer, dict) and "Data" in answer else answer
    return [r for r in records if isinstance(r, dict)]


@pytest.fixture(scope="module")
def records() -> dict[str, list[Any]]:
    return {vendor: _records(vendor) for vendor in VENDORS}


def malformed(real: list[Any]) -> st.SearchStrategy[Any]:
    mutations = st.sampled_from(real).flatmap(lambda record: mutated(record, paths_of(record)))
    return st.one_of(mutations, mutations, mutations, JSON)


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_record_makes_reading_raise(vendor, records):
    adapter = connect(vendor, "http://fuzz.invalid")
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(record=malformed(records[vendor]))
    def check(record: Any) -> None:
        outcomes["examples"] += 1
        before = copy.deepcopy(record)
        person = adapter.to_person(record)
        assert isinstance(person, Person) and person.system == vendor
        assert record == before  # the caller's record is left as it was
        assert all(get_path(person.raw, path, None) is None for path in adapter.mapping.secret)
        repr(person), person.to_dict()
        for problem in person.problems:
            assert isinstance(problem, str) and ":" in problem  # "path: what is wrong"
        outcomes["people with problems" if person.problems else "people read"] += 1

    check()
    examples = outcomes.pop("examples")
    print(
        f"\nfuzz {vendor} mapping, reading: {examples} records: "
        + ", ".join(f"{k} {n}" for k, n in outcomes.most_common())
    )
    assert examples >= EXAMPLES


ODD_VALUES = st.one_of(JSON, st.dates(), st.datetimes(), st.sampled_from(ODD))
REFS = st.builds(
    Ref,
    id=st.none() | st.text(max_size=8) | st.sampled_from(["909175376", "123456", "x", "-1"]),
    name=st.none() | st.text(max_size=8) | st.sampled_from(["Entwicklung", "Vertrieb", ""]),
)
ADDRESSES = st.builds(
    Address,
    street=st.none() | st.text(max_size=10),
    zip=st.none() | st.sampled_from(["20095", "x" * 40]),
    city=st.none() | st.text(max_size=10),
    country=st.none() | st.sampled_from(["DE", "Deutschland", ""]),
)
TEXT = st.none() | st.text(max_size=20) | st.sampled_from(ODD) | st.emails()
DATES = st.none() | st.dates() | st.sampled_from(["1990-02-30", "2024-01-01", "01.01.2024"])


def plausible(name: str) -> st.SearchStrategy[Any]:
    """Values of roughly the right type for field `name` (often right, sometimes subtly wrong)."""
    if name in ("birthday", "employment_start", "employment_end"):
        return DATES
    if name in ("active", "external"):
        return st.none() | st.booleans() | st.sampled_from(["true", "ja", 1, 0])
    if name in ("department", "role"):
        return st.none() | REFS | st.text(max_size=8)
    if name == "address":
        return st.none() | ADDRESSES | st.text(max_size=30)
    if name == "tags":
        return st.lists(st.text(max_size=6) | st.sampled_from(ODD), max_size=3)
    if name == "custom_fields":
        return st.dictionaries(st.text(max_size=6), JSON, max_size=2)
    return TEXT


FIELDS = sorted(WRITABLE_FIELDS)
CHANGES = st.one_of(
    # mostly: writable fields with plausible values, now and then an odd one
    st.lists(st.sampled_from(FIELDS), min_size=1, max_size=5, unique=True).flatmap(
        lambda names: st.fixed_dictionaries(
            {name: plausible(name) | ODD_VALUES if name == names[0] else plausible(name) for name in names}
        )
    ),
    # and: any key at all, any value
    st.dictionaries(
        st.sampled_from([*FIELDS, "id", "system", "created_at", "nonsense"]),
        ODD_VALUES | REFS | ADDRESSES,
        min_size=1,
        max_size=4,
    ),
)


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_change_makes_writing_raise_anything_but_a_typed_error(vendor):
    adapter = connect(vendor, "http://fuzz.invalid")
    outcomes: Counter[str] = Counter()

    @FUZZ
    @given(changes=CHANGES)
    def check(changes: dict[str, Any]) -> None:
        outcomes["examples"] += 1
        try:
            checked = validate_changes(changes, record=f"{vendor}#1")
            body = adapter.mapping.to_vendor(checked, record=f"{vendor}#1")
        except StaffbridgeError as exc:
            str(exc), repr(exc)
            outcomes[type(exc).__name__] += 1
            return
        assert isinstance(body, dict)
        json.dumps(body)  # the body can be sent: nothing that is not JSON (a date object, a Ref)
        outcomes["bodies"] += 1

    check()
    examples = outcomes.pop("examples")
    print(
        f"\nfuzz {vendor} mapping, writing: {examples} changes: "
        + ", ".join(f"{k} {n}" for k, n in outcomes.most_common())
    )
    assert examples >= EXAMPLES


@pytest.mark.parametrize("changes", [{"address": []}, {"department": []}, {"role": 3.5}])
def test_a_value_of_the_wrong_shape_is_a_validation_error_naming_the_field(changes):
    """Found by the fuzzing above: the address and reference error messages held literal braces,
    which marshmallow's message formatting took for placeholders (KeyError instead of the error)."""
    with pytest.raises(PersonValidationError) as info:
        validate_changes(changes, record="x#1")
    name = next(iter(changes))
    assert name in info.value.errors and "{" in str(info.value)
