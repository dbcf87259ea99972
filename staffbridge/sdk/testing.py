"""The shared adapter contract and cassette set-up (needs the `test` extra: pytest, vcrpy).

Every adapter proves itself with a few lines:

    class TestMocoContract(AdapterContract):
        adapter = "moco"
        sandbox = MocoSandbox
        person = Person(first_name="Ada", last_name="Lovelace", email="ada@example.com",
                        department=Ref(name="Entwicklung"))   # a person this vendor can create

Each test replays `cassettes/<adapter>/<test>.yaml` (under the pytest rootdir, or the class's
`cassettes` folder) with record mode "none", so a missing cassette fails loudly. `pytest
--record-cassettes` (see README) starts the sandbox in-process and records them anew; the
credentials the sandbox and the adapter share are made up here and scrubbed before anything is
written.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest
import vcr
import vcr.matchers
from marshmallow import missing

from staffbridge.model.errors import NotFound, PersonValidationError, VendorValidationError
from staffbridge.model.person import Person
from staffbridge.model.redaction import MASK, SECRET_HEADERS, scrub
from staffbridge.sdk.adapter import Adapter
from staffbridge.sdk.registry import adapter_class, connect

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


def body_unless_handshake(r1: Any, r2: Any) -> None:
    """Bodies must match, except a handshake's: it holds a fresh nonce (and its hash) every run."""
    if not (_has_nonce(r1.body) or _has_nonce(r2.body)):
        vcr.matchers.body(r1, r2)


def _has_nonce(body: Any) -> bool:
    try:
        data = json.loads(body) if body else None
    except (TypeError, ValueError):
        return False
    return isinstance(data, dict) and "nonce" in data


MATCH_ON: tuple[Any, ...] = ("method", "path", "query", body_unless_handshake)


def cassette_vcr(library: Path, secrets: tuple[str, ...] = (), match_on: tuple[Any, ...] = MATCH_ON) -> vcr.VCR:
    """A vcrpy recorder over the cassette folder `library`. `match_on` names vcrpy matchers; a
    callable `(r1, r2)` raising AssertionError on a mismatch is registered under its own name."""
    request_hook, response_hook = scrubber(secrets)
    if recording():
        # vcrpy logs bodies at INFO before our scrubbing hooks run; a real account's tokens would leak
        logging.getLogger("vcr").setLevel(logging.WARNING)
    names = tuple(m if isinstance(m, str) else m.__name__ for m in match_on)
    recorder = vcr.VCR(
        cassette_library_dir=str(library),
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
    """Tests every adapter must pass. Set `adapter` (its name), `sandbox` (its sandbox class) and,
    where the default cannot be created there, `person`; the rest has defaults that fit most."""

    adapter: ClassVar[str]
    sandbox: ClassVar[type]
    person: ClassVar[Person] = Person(first_name="Ada", last_name="Lovelace", email="ada.lovelace@example.com")
    seed_people: ClassVar[int] = 120  # more than one page where the vendor pages
    expected_people: ClassVar[int | None] = None  # what list() finds; default: seed_people
    missing_id: ClassVar[str] = "999999999"  # an id no seeded or created person has
    list_kwargs: ClassVar[dict[str, Any]] = {}
    create_kwargs: ClassVar[dict[str, Any]] = {}
    settings: ClassVar[dict[str, Any]] = {}  # more adapter settings
    match_on: ClassVar[tuple[Any, ...]] = MATCH_ON  # names or matcher callables
    cassettes: ClassVar[Path | None] = None  # default: <pytest rootdir>/cassettes/<adapter>

    # -- derived from the adapter and its sandbox
    def credentials(self) -> dict[str, Any]:
        """What the sandbox and the adapter must agree on: each sandbox parameter that is an adapter
        setting without a default of its own (made up when it is a secret, else the sandbox's)."""
        fields = adapter_class(self.adapter).Settings().fields
        found: dict[str, Any] = {}
        for name, parameter in inspect.signature(self.sandbox).parameters.items():
            field = fields.get(name)
            own_default = field is not None and field.load_default not in (missing, None)
            if field is None or own_default or parameter.default in (None, inspect.Parameter.empty):
                continue
            found[name] = f"contract-{name.replace('_', '-')}" if field.metadata.get("secret") else parameter.default
        return found

    def secrets(self) -> tuple[str, ...]:
        fields = adapter_class(self.adapter).Settings().fields
        return tuple(str(v) for k, v in self.credentials().items() if fields[k].metadata.get("secret"))

    def new_person(self) -> Person:
        return self.person.replace()  # a copy: a test may change what it is given

    # -- machinery
    @pytest.fixture
    def connected(self, request: pytest.FixtureRequest) -> Iterator[Adapter]:
        library = self.cassettes or Path(request.config.rootpath) / "cassettes" / self.adapter
        with self.cassette(library, request.node.name) as adapter:
            yield adapter

    @contextmanager
    def cassette(self, library: Path, name: str) -> Iterator[Adapter]:
        credentials = self.credentials()
        sandbox = self.sandbox(seed_people=self.seed_people, **credentials).start() if recording() else None
        try:
            base_url = sandbox.url if sandbox else REPLAY_ROOT + getattr(self.sandbox, "url_prefix", "")
            adapter = connect(self.adapter, base_url=base_url, **credentials, **self.settings)
            with cassette_vcr(library, self.secrets(), self.match_on).use_cassette(f"{name}.yaml"):
                yield adapter
            adapter.close()
        finally:
            if sandbox is not None:
                sandbox.stop()

    # -- the contract
    def test_list_streams_every_person(self, connected: Adapter) -> None:
        people = list(connected.list(**self.list_kwargs))
        assert len(people) == (self.expected_people or self.seed_people)
        assert all(isinstance(p, Person) and p.id and p.system == self.adapter for p in people)
        assert len({p.id for p in people}) == len(people), "a page was read twice"
        assert all(p.raw for p in people), "raw must keep the vendor record"

    def test_get_returns_the_listed_person(self, connected: Adapter) -> None:
        first = next(iter(connected.list(**self.list_kwargs)))
        assert first.id is not None  # (every listed person has one: test_list_streams_every_person)
        again = connected.get(first.id)
        assert again.id == first.id
        assert again.email == first.email and again.last_name == first.last_name

    def test_get_missing_raises_not_found(self, connected: Adapter) -> None:
        with pytest.raises(NotFound) as info:
            connected.get(self.missing_id)
        assert isinstance(info.value, LookupError)

    def test_create_get_update_delete_round_trip(self, connected: Adapter) -> None:
        wanted = self.new_person()
        created = connected.create(wanted, **self.create_kwargs)
        assert created.id
        assert created.email and wanted.email and created.email.casefold() == wanted.email.casefold()
        fetched = connected.get(created.id)
        assert (fetched.first_name, fetched.last_name) == (wanted.first_name, wanted.last_name)
        updated = connected.update(created.id, {"last_name": "Updated", "mobile_phone": "+49 170 5550100"})
        assert updated.last_name == "Updated"
        assert connected.get(created.id).mobile_phone == "+49 170 5550100"
        connected.delete(created.id)
        with pytest.raises(NotFound):
            connected.get(created.id)

    def test_invalid_person_is_refused_before_any_request(self, connected: Adapter) -> None:
        bad = self.new_person().replace(email="not-an-email", birthday="31.02.1990")
        with pytest.raises(PersonValidationError) as info:
            connected.create(bad, **self.create_kwargs)
        assert "email" in info.value.errors and "birthday" in info.value.errors

    def test_vendor_rejection_is_a_validation_error(self, connected: Adapter) -> None:
        existing = next(iter(connected.list(**self.list_kwargs)))
        duplicate = self.new_person().replace(email=existing.email)
        with pytest.raises(VendorValidationError) as info:
            connected.create(duplicate, **self.create_kwargs)
        assert info.value.status in (400, 409, 422) and info.value.messages

    def test_unknown_vendor_fields_survive_in_raw(self, connected: Adapter) -> None:
        person = next(iter(connected.list(**self.list_kwargs)))
        extended = {**person.raw, "zz_unknown_field": {"nested": [1, 2]}}
        again = connected.to_person(extended)
        assert again.raw["zz_unknown_field"] == {"nested": [1, 2]}
        assert again.email == person.email and again.id == person.id
