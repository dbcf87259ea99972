"""The shared adapter contract and cassette set-up (needs the `test` extra: pytest, vcrpy).

Every adapter proves itself with three lines:

    class TestMocoContract(AdapterContract):
        vendor = "moco"
        ...  # how to build the adapter, a valid new person

Each test replays `cassettes/<vendor>/<test>.yaml` with record mode "none", so a missing cassette
fails loudly. `pytest --record-cassettes` (see README) starts the vendor's sandbox in-process and
records them anew; secrets are scrubbed before anything is written.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
import vcr

from staffbridge.model.errors import NotFound, PersonValidationError, VendorValidationError
from staffbridge.model.person import Person
from staffbridge.model.redaction import MASK, SECRET_HEADERS, scrub
from staffbridge.sdk.adapter import Adapter

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes"
REPLAY_ROOT = "http://127.0.0.1:9"  # never contacted: vcrpy answers, matching ignores host and port


def recording() -> bool:
    return os.environ.get("STAFFBRIDGE_RECORD") == "1"


def _scrub_body(body: Any, secrets: tuple[str, ...]) -> Any:
    if not body:
        return body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        cleaned = json.dumps(scrub(json.loads(text), secrets), ensure_ascii=False)
    except ValueError:
        cleaned = scrub(text, secrets)
    return cleaned.encode("utf-8") if isinstance(body, bytes) else cleaned


def scrubber(secrets: tuple[str, ...] = ()) -> tuple[Callable[[Any], Any], Callable[[dict], dict]]:
    """vcrpy hooks that mask secret headers, secret body keys and the given secret values."""

    def request(req: Any) -> Any:
        for name in list(req.headers):
            if name.lower() in SECRET_HEADERS:
                req.headers[name] = MASK
        req.body = _scrub_body(req.body, secrets)
        for secret in secrets:
            if secret and secret in req.uri:
                req.uri = req.uri.replace(secret, MASK)
        return req

    def response(resp: dict) -> dict:
        resp["headers"] = {k: ([MASK] if k.lower() in SECRET_HEADERS else v) for k, v in resp["headers"].items()}
        resp["body"]["string"] = _scrub_body(resp["body"]["string"], secrets)
        return resp

    return request, response


def cassette_vcr(
    vendor: str,
    secrets: tuple[str, ...] = (),
    match_on: tuple[Any, ...] = ("method", "path", "query", "body"),
    library: Path | None = None,
) -> vcr.VCR:
    """`match_on` names vcrpy matchers; a callable `(r1, r2)` raising AssertionError on a mismatch
    is registered under its own name (e.g. to ignore the body of a handshake holding a fresh nonce)."""
    request_hook, response_hook = scrubber(secrets)
    if recording():
        # vcrpy logs bodies at INFO before our scrubbing hooks run; a real account's tokens would leak
        logging.getLogger("vcr").setLevel(logging.WARNING)
    names = tuple(m if isinstance(m, str) else m.__name__ for m in match_on)
    recorder = vcr.VCR(
        cassette_library_dir=str(library or CASSETTES / vendor),
        record_mode="all" if recording() else "none",
        match_on=names,
        before_record_request=request_hook,
        before_record_response=response_hook,
        decode_compressed_response=True,
    )
    for matcher in match_on:
        if not isinstance(matcher, str):
            recorder.register_matcher(matcher.__name__, matcher)
    return recorder


class AdapterContract:
    """Tests every adapter must pass; subclasses fill in the vendor specifics below."""

    vendor: ClassVar[str]
    match_on: ClassVar[tuple[Any, ...]] = ("method", "path", "query", "body")  # names or matcher callables
    seed_people: ClassVar[int] = 120  # more than one page where the vendor pages
    list_kwargs: ClassVar[dict[str, Any]] = {}
    create_kwargs: ClassVar[dict[str, Any]] = {}

    # -- to fill in
    def start_sandbox(self) -> Any:
        """A started sandbox seeded with `seed_people` people (used only when recording)."""
        raise NotImplementedError

    def connect(self, base_url: str) -> Adapter:
        raise NotImplementedError

    def base_url(self, sandbox: Any) -> str:
        return sandbox.url

    def replay_base_url(self) -> str:
        return REPLAY_ROOT

    def new_person(self) -> Person:
        """A valid person this vendor can create."""
        raise NotImplementedError

    def secrets(self) -> tuple[str, ...]:
        return ()

    def expected_list_count(self) -> int:
        return self.seed_people

    def missing_id(self) -> str:
        return "999999999"

    # -- machinery
    @pytest.fixture
    def adapter(self, request: pytest.FixtureRequest) -> Iterator[Adapter]:
        with self.cassette(request.node.name) as adapter:
            yield adapter

    @contextmanager
    def cassette(self, name: str) -> Iterator[Adapter]:
        sandbox = self.start_sandbox() if recording() else None
        try:
            adapter = self.connect(self.base_url(sandbox) if sandbox else self.replay_base_url())
            with cassette_vcr(self.vendor, self.secrets(), self.match_on).use_cassette(f"{name}.yaml"):
                yield adapter
            adapter.close()
        finally:
            if sandbox is not None:
                sandbox.stop()

    # -- the contract
    def test_list_streams_every_person(self, adapter: Adapter) -> None:
        people = list(adapter.list(**self.list_kwargs))
        assert len(people) == self.expected_list_count()
        assert all(isinstance(p, Person) and p.id and p.system == self.vendor for p in people)
        assert len({p.id for p in people}) == len(people), "a page was read twice"
        assert all(p.raw for p in people), "raw must keep the vendor record"

    def test_get_returns_the_listed_person(self, adapter: Adapter) -> None:
        first = next(iter(adapter.list(**self.list_kwargs)))
        again = adapter.get(first.id)
        assert again.id == first.id
        assert again.email == first.email and again.last_name == first.last_name

    def test_get_missing_raises_not_found(self, adapter: Adapter) -> None:
        with pytest.raises(NotFound) as info:
            adapter.get(self.missing_id())
        assert isinstance(info.value, LookupError)

    def test_create_get_update_delete_round_trip(self, adapter: Adapter) -> None:
        wanted = self.new_person()
        created = adapter.create(wanted, **self.create_kwargs)
        assert created.id
        assert created.email.casefold() == wanted.email.casefold()
        fetched = adapter.get(created.id)
        assert (fetched.first_name, fetched.last_name) == (wanted.first_name, wanted.last_name)
        updated = adapter.update(created.id, {"last_name": "Updated", "mobile_phone": "+49 170 5550100"})
        assert updated.last_name == "Updated"
        assert adapter.get(created.id).mobile_phone == "+49 170 5550100"
        adapter.delete(created.id)
        with pytest.raises(NotFound):
            adapter.get(created.id)

    def test_invalid_person_is_refused_before_any_request(self, adapter: Adapter) -> None:
        bad = self.new_person().replace(email="not-an-email", birthday="31.02.1990")
        with pytest.raises(PersonValidationError) as info:
            adapter.create(bad, **self.create_kwargs)
        assert "email" in info.value.errors and "birthday" in info.value.errors

    def test_vendor_rejection_is_a_validation_error(self, adapter: Adapter) -> None:
        existing = next(iter(adapter.list(**self.list_kwargs)))
        duplicate = self.new_person().replace(email=existing.email)
        with pytest.raises(VendorValidationError) as info:
            adapter.create(duplicate, **self.create_kwargs)
        assert info.value.status in (400, 409, 422) and info.value.messages

    def test_unknown_vendor_fields_survive_in_raw(self, adapter: Adapter) -> None:
        person = next(iter(adapter.list(**self.list_kwargs)))
        extended = {**person.raw, "zz_unknown_field": {"nested": [1, 2]}}
        again = adapter.to_person(extended)
        assert again.raw["zz_unknown_field"] == {"nested": [1, 2]}
        assert again.email == person.email and again.id == person.id
