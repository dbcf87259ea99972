"""A mapping compiled into straight-line Python: one function reading a vendor record into a Person,
one writing canonical changes into a vendor body.

Reading is the hot loop of every list and writing the hot loop of every migration, and a loop over
field specs pays for itself on every record: the lookups of each spec, a dict of values, a Person
built from keywords. The generated functions read each path with plain `dict.get` calls (a nested
object fetched once for all its fields), convert in place, skip the converter call where the value
already is what the field holds (text that is a string, a flag that is a bool), and build the Person
from its attribute dict in one step. What they do is exactly what the specs say; tests/test_mapping.py
and the mapping fuzz tests hold them to it. The `source` attribute of each function shows its code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from staffbridge.mapping.converters import (
    AddressParts,
    AddressText,
    Boolean,
    Converter,
    Date,
    DateFromDateTime,
    DateTime,
    Enum,
    Identifier,
    Object,
    Reference,
    ReferenceName,
    Text,
    TextList,
    shared_ref,
)
from staffbridge.model.errors import MappingError
from staffbridge.model.person import Person
from staffbridge.model.values import Address, Ref

MISSING = object()  # a path the record does not have: the field keeps its default
_EMPTY: dict[str, Any] = {}  # what a path step that is not an object reads as (never written to)
_ERRORS = (ValueError, TypeError, AttributeError)
_NO_ADDRESS = {f.name: None for f in dataclasses.fields(Address)}  # an Address's attributes start as a copy


class Reader(Protocol):
    """A compiled reader: everything of `record` that can be read; what cannot is noted in
    `person.problems`, never raised."""

    def __call__(self, record: Any, system: str | None = None) -> Person: ...


class _Paths:
    """Emits the code reading dotted paths, each parent object fetched once into a local."""

    def __init__(self, lines: list[str], root: str = "record") -> None:
        self.lines, self.root = lines, root
        self.parents: dict[str, str] = {}

    def parent(self, steps: tuple[str, ...]) -> str:
        if not steps:
            return self.root
        key = ".".join(steps)
        if key not in self.parents:
            above = self.parent(steps[:-1])
            name = self.parents[key] = f"o{len(self.parents)}"
            self.lines.append(f"    {name} = {above}.get({steps[-1]!r}, _EMPTY)")
            self.lines.append(f"    if {name}.__class__ is not dict: {name} = _EMPTY")
        return self.parents[key]

    def get(self, path: str, default: str = "_MISSING") -> str:
        *parents, last = path.split(".")
        return f"{self.parent(tuple(parents))}.get({last!r}, {default})"


def compile_reader(specs: list[Any], id_path: str, secret: list[str]) -> Reader:
    """The function `(record, system) -> Person` for field specs that have a read path. A record
    holding one of the `secret` paths gets a copy without them as `raw` (the record is not changed)."""
    env: dict[str, Any] = {"_MISSING": MISSING, "_EMPTY": _EMPTY, "_new": object.__new__, "Person": Person}
    env["_Mapping"] = Mapping
    env.update(_ERRORS=_ERRORS, _GiveUp=_GiveUp, _UTC=dt.UTC, _Address=Address, _shared_ref=shared_ref)
    env["_NO_ADDRESS"] = _NO_ADDRESS
    env.update(_date_iso=dt.date.fromisoformat, _datetime_iso=dt.datetime.fromisoformat)
    # the Person's attribute dict starts as a copy of its defaults (a copy is a tenth of the cost of
    # a 31-key dict display); lists and dicts are made anew for each Person, never shared
    env["_defaults"], fresh = _defaults()
    env["_not_an_object"] = _not_an_object
    lines = [
        "def to_person(record, system=None):",
        *_OBJECTS_ONLY,
        "    problems = []",
        "    d = _defaults.copy()",
        *fresh,
    ]
    paths = _Paths(lines)
    person_fields = {f.name: f for f in dataclasses.fields(Person)}
    for i, spec in enumerate(specs):
        if not spec.read:
            continue
        convert = spec.converter.read
        env[f"convert{i}"] = convert
        custom_key = spec.custom_key
        converter = spec.converter
        kind = type(converter) if getattr(convert, "__self__", None) is converter else None
        # a missing path and a null read alike when the converter reads null as None and the field
        # starts as None: one test less per field, and most fields are text
        none_is_missing = kind in _NONE_READS_NONE and (custom_key or person_fields[spec.name].default is None)
        setup: list[str] = []  # what the converter's call needs first
        if isinstance(spec.read, Mapping):  # gathered from several paths: missing parts are None
            parts = ", ".join(f"{part!r}: {paths.get(path, 'None')}" for part, path in spec.read.items())
            where, guard = ", ".join(spec.read.values()), None
            if kind is Reference and set(spec.read) == {"id", "name"}:  # the fast path reads both parts
                lines.append(f"    k = {paths.get(spec.read['id'], 'None')}")
                lines.append(f"    n = {paths.get(spec.read['name'], 'None')}")
                setup = [f"v = {{{parts}}}"]
            else:
                lines.append(f"    v = {{{parts}}}")
                kind = None  # gathered values take no fast path but a Reference's
        elif none_is_missing:
            lines.append(f"    v = {paths.get(spec.read, 'None')}")
            where, guard = spec.read, "v is not None"
        else:
            lines.append(f"    v = {paths.get(spec.read)}")
            where, guard = spec.read, "v is not _MISSING"
        target = f"custom[{custom_key!r}] = v" if custom_key else f"d[{spec.name!r}] = v"
        store = f"if v is not None: {target}" if custom_key else target
        generic = [
            *setup,
            "try:",
            f"    v = convert{i}(v)",
            "except _ERRORS as exc:",
            f"    problems.append({where + ': '!r} + str(exc))",
            "else:",
            f"    {store}",
        ]
        branches = _fast_paths(kind, converter, i, env, gathered=bool(setup)) if kind is not None else []
        body: list[str] = []
        for number, (condition, steps) in enumerate(branches):
            body.append(f"{'if' if number == 0 else 'elif'} {condition}:")
            if steps and steps[0] == _MAY_GIVE_UP:  # the converter reads what the fast path gives up on
                give_up = "    except (ValueError, OverflowError):"  # a day before year 1 in UTC overflows
                body += ["    try:", *(f"        {step}" for step in steps[1:]), give_up]
                body += [f"        {line}" for line in generic]
                body += ["    else:", f"        {store}"]
            else:
                body += [*(f"    {step}" for step in steps), f"    {store}"]
        if branches or guard:
            body.append(f"{'el' if branches else ''}if {guard}:" if guard else "else:")
            body += [f"    {line}" for line in generic]
        else:
            body = generic
        lines += [f"    {line}" for line in body]
    lines.append(f"    ident = {paths.get(id_path)}")
    lines.append("    raw = record")
    if secret:
        lines += _strip_secrets(secret, paths)
    if any(spec.custom_key and spec.read for spec in specs):
        lines.insert(lines.index("    problems = []"), "    custom = {}")
        lines.append("    if custom: d['custom_fields'] = {**(d['custom_fields'] or {}), **custom}")
    ident = "ident if ident.__class__ is str else None if ident is _MISSING or ident is None else str(ident)"
    lines += [f"    d['id'] = {ident}", "    d['system'] = system"]
    lines += ["    d['raw'] = raw", "    d['problems'] = problems"]
    lines += ["    person = _new(Person)", "    person.__dict__ = d", "    return person"]
    text = "\n".join(lines)
    exec(compile(text, "<mapping reader>", "exec"), env)
    reader: Reader = env["to_person"]
    reader.source = text  # type: ignore[attr-defined]
    return reader


# a record that is not a dict: another mapping is read as a dict, anything else is a problem
_OBJECTS_ONLY = [
    "    if record.__class__ is not dict:",
    "        if not isinstance(record, _Mapping): return _not_an_object(record, system)",
    "        record = dict(record)",
]


def _not_an_object(record: Any, system: str | None) -> Person:
    problem = f"record: expected an object, got {type(record).__name__}"
    return Person(system=system, raw={"value": record}, problems=[problem])


class _GiveUp(ValueError):
    """Raised by a fast path for a value it does not take on: the field's converter reads it."""


_MAY_GIVE_UP = "# may give up"
# converters whose read(None) is None, so that a missing path can read as None for them
_NONE_READS_NONE = frozenset(
    {Text, Boolean, Date, DateTime, DateFromDateTime, Identifier, Reference, ReferenceName, Enum}
) | frozenset({AddressText, AddressParts})


def _fast_paths(
    kind: type, converter: Any, i: int, env: dict[str, Any], gathered: bool = False
) -> list[tuple[str, list[str]]]:
    """(condition on `v`, statements turning `v` into what `converter.read(v)` gives) for the values
    most records hold; everything else goes through the converter. Statements starting with
    _MAY_GIVE_UP may raise ValueError (a date that does not exist, a list holding a number): the
    converter then reads the value, `v` being unchanged (each such path assigns `v` last). A
    `gathered` reference has its id and name in `k` and `n` (no {id, name} dict is built for it)."""
    arg = converter.arg or ""
    if kind is Text:  # most fields of any record: no call for a string
        return [("v.__class__ is str", ["v = v or None"])]
    if kind is Boolean:  # true/false, or one of the words for them as they are
        env[f"words{i}"] = {**dict.fromkeys(Boolean.TRUE, True), **dict.fromkeys(Boolean.FALSE, False)}
        return [("v is True or v is False", []), (f"v.__class__ is str and v in words{i}", [f"v = words{i}[v]"])]
    if kind is Enum:  # a known code: its (shared) Ref
        env[f"codes{i}"] = {code: shared_ref(code, name) for code, name in converter.values.items()}
        return [(f"v.__class__ is str and v in codes{i}", [f"v = codes{i}[v]"])]
    zero_is_none = " and {} != '0'" if arg.endswith("0") else ""  # id:str0 and the like: "0" is none
    if kind is Identifier:  # an id that is already a string is itself; a number its digits
        number = "v = (str(v) if v else None)" if arg.endswith("0") else "v = str(v)"
        return [(f"v.__class__ is str and v{zero_is_none.format('v')}", []), ("v.__class__ is int", [number])]
    if kind is Date and converter.arg in (None, "%Y-%m-%d"):  # ISO: fromisoformat, as Date.read does
        return [("v.__class__ is str and len(v) == 10", [_MAY_GIVE_UP, "v = _date_iso(v)"])]
    if kind is Date and converter._digits:  # DD.MM.YYYY and the like: its digits as YYYYMMDD
        (year, month, day), separators = converter._digits
        layout = " and ".join(f"v[{at}] == {char!r}" for at, char in separators)
        digits = " + ".join(f"v[{part.start}:{part.stop}]" for part in (year, month, day))
        condition = f"v.__class__ is str and len(v) == 10 and {layout} and (x := {digits}).isdigit() and x.isascii()"
        return [(condition, [_MAY_GIVE_UP, "v = _date_iso(x)"])]
    if kind is DateTime:
        stamp = ["w = _datetime_iso(v)", "v = w if w.tzinfo is not None else w.replace(tzinfo=_UTC)"]
        return [("v.__class__ is str", [_MAY_GIVE_UP, *stamp])]
    if kind is DateFromDateTime:  # a timestamp's date in UTC (a plain date goes to the converter)
        day = "v = w.date() if w.tzinfo is None or w.tzinfo is _UTC else w.astimezone(_UTC).date()"
        return [("v.__class__ is str and len(v) > 10", [_MAY_GIVE_UP, "w = _datetime_iso(v)", day])]
    if kind is Reference:  # {id, name}: an int or a string id and a name; or a bare id
        env[f"values{i}"] = converter.values
        # as Reference.read: an int id is its digits, a string id itself unless it is none ("", "0")
        ident = f"(k.__class__ is int or (k.__class__ is str and k{zero_is_none.format('k')}))"
        pair = f"{ident} and n.__class__ is str and n"
        # each id as sent (int and str ids apart: the condition takes no bool) -> the shared Ref of the
        # name it came with last; keyed by the id alone, no (id, name) tuple is built and hashed per
        # record (a name read from JSON is a new string, its hash not yet known): 0.1 us a MOCO record
        env[f"refs{i}"] = {}
        named = [
            f"v = refs{i}.get(k)",
            "if v is None or v.name != n:",
            "    v = _shared_ref(k if k.__class__ is str else str(k), n)",
            f"    if len(refs{i}) < 4096: refs{i}[k] = v",
        ]
        if gathered:
            return [(pair, named)]
        dict_pair = pair.replace("(k.__class__", "((k := v.get('id')).__class__", 1).replace(
            "n.__class__", "(n := v.get('name')).__class__", 1
        )
        return [
            (f"v.__class__ is dict and {dict_pair}", named),
            (f"v.__class__ is str and v{zero_is_none.format('v')}", [f"v = _shared_ref(v, values{i}.get(v))"]),
        ]
    if kind is ReferenceName:
        env[f"names{i}"] = converter.values
        return [("v.__class__ is str and v", [f"v = _shared_ref(None, names{i}.get(v, v))"])]
    if kind is TextList:  # a list of strings, copied (changing person.tags must not change raw)
        every = ["for x in v:", "    if x.__class__ is not str: raise _GiveUp", "v = v[:]"]
        return [("v.__class__ is list", [_MAY_GIVE_UP, *every])]
    if kind is Object:
        return [("v.__class__ is dict", ["v = v.copy()"])]
    if kind is AddressText:
        return [("v.__class__ is str", ["if v:", *_address("    ", formatted="v"), "else:", "    v = None"])]
    if kind is AddressParts:  # every part text or null: no call per part
        names = [f"a{n}" for n in range(len(Address.PARTS))]
        texts = " and ".join(
            f"((a{n} := v.get({part!r})) is None or a{n}.__class__ is str)" for n, part in enumerate(Address.PARTS)
        )
        parts = {part: f"{name} or None" for part, name in zip(Address.PARTS, names, strict=True)}
        built = [f"if {' or '.join(names)}:", *_address("    ", **parts), "else:", "    v = None"]
        return [(f"v.__class__ is dict and {texts}", built)]
    return []


def _address(indent: str, **parts: str) -> list[str]:
    """Code setting `v` to an Address of `parts` (field -> code; the others None) without the frozen
    dataclass's __init__, which pays one object.__setattr__ per field. Its attributes start as a copy
    of _NO_ADDRESS: a copy and a store per part given cost less than a 7-key dict display (an address
    text: 0.26 us against 0.36)."""
    given = [f"{indent}u[{name!r}] = {code}" for name, code in parts.items()]
    return [
        f"{indent}w = _new(_Address)",
        f"{indent}u = _NO_ADDRESS.copy()",
        *given,
        f"{indent}w.__dict__.update(u)",
        f"{indent}v = w",
    ]


def _strip_secrets(secret: list[str], paths: _Paths) -> list[str]:
    """Code replacing `raw` by a copy of the record without the secret paths, when it holds one.
    Only the objects on the way to each secret are copied, not the whole record: a deep copy of
    every record (field-service records all hold access.token) was half the cost of a list. The
    caller's record is left untouched; untouched branches are shared, as without secrets."""
    present = " or ".join(f"{paths.get(path)} is not _MISSING" for path in secret)
    lines = [f"    if {present}:", "        raw = dict(record)"]
    by_parent: dict[tuple[str, ...], list[str]] = {}
    for path in secret:
        *parents, last = path.split(".")
        by_parent.setdefault(tuple(parents), []).append(last)
    for steps, names in by_parent.items():
        indent = "        "
        lines.append(f"{indent}n = raw")
        for step in steps:
            lines += [f"{indent}c = n.get({step!r})", f"{indent}if isinstance(c, dict):"]
            indent += "    "
            lines.append(f"{indent}n[{step!r}] = n = dict(c)")
        lines += [f"{indent}n.pop({name!r}, None)" for name in names]
    return lines


def _defaults() -> tuple[dict[str, Any], list[str]]:
    """Person's fields with their defaults, and the code giving the list and dict ones a fresh value
    (raw and problems are set by the reader itself)."""
    defaults: dict[str, Any] = {}
    fresh = []
    for f in dataclasses.fields(Person):
        defaults[f.name] = None
        if f.default_factory is not dataclasses.MISSING:
            made = f.default_factory()
            if made != [] and made != {}:
                raise TypeError(f"Person.{f.name}: a default factory the compiled reader cannot write")
            if f.name not in ("raw", "problems"):
                fresh.append(f"    d[{f.name!r}] = {made!r}")
        elif f.default is dataclasses.MISSING or not isinstance(f.default, (bool, int, str, type(None))):
            raise TypeError(f"Person.{f.name}: a default the compiled reader cannot write")
        else:
            defaults[f.name] = f.default
    return defaults, fresh


class Writer(Protocol):
    """A compiled writer: the vendor body for canonical `changes` (field -> value; None empties the
    field). A value a converter cannot write raises MappingError naming `record` (or the `person`'s
    label, made only then) and the field."""

    def __call__(self, changes: Any, record: str | None = None, person: Person | None = None) -> dict[str, Any]: ...


class BodyMaker(Protocol):
    """A compiled `from_person`: the vendor body for every mapped field of `person` that has a value."""

    def __call__(self, person: Person, create: bool = True) -> dict[str, Any]: ...


def compile_writers(
    specs: list[Any],
    read_only: list[str],
    defaults: dict[str, Any],
    get_path: Callable[..., Any],
    set_path: Callable[..., None],
) -> tuple[Writer, BodyMaker]:
    """`to_vendor(changes, record=None, person=None)` and `from_person(person, create=True)` for the
    field specs that have a write path: what Mapping's spec-by-spec writing did, one straight line per
    field (an identity converter is no call; the common values of the others are converted inline,
    see _write_fast_paths; each path's objects are made with setdefault).

    `from_person` writes the Person's attributes straight into the body: no dict of changes between,
    the same fields in the same order as `to_vendor` would write them, then the create defaults."""
    env: dict[str, Any] = {"_Mapping": Mapping, "_error": _write_error, "_EMPTIES": (None, [], {})}
    env.update(_get_path=get_path, _set_path=set_path, _MISSING=MISSING, _FILLED=_FILLED)
    env.update(_date=dt.date, _Ref=Ref, _Address=Address)
    claimed = {s.custom_key for s in specs if s.custom_key and s.write}
    env["_claimed"] = claimed
    whole_custom = any(s.write and s.name == "custom_fields" for s in specs)
    writing = [(i, spec) for i, spec in enumerate(specs) if spec.write]
    for i, spec in writing:
        env[f"clear{i}"] = spec.clear
    lines = ["def to_vendor(changes, record=None, person=None):", "    body = {}"]
    for i, spec in writing:
        base = spec.name.split(".", 1)[0]
        lines += [f"    if {base!r} in changes:", f"        value = changes[{base!r}]"]
        lines += _write_field(spec, i, env, "        ", "record, person", may_be_none=True)
    lines += _drop_read_only(read_only)
    lines.append("    return body")
    # a Person's field is written when it has a value: not None, [] or {} ("" and False are values);
    # the classes of _FILLED never equal those, so most values take one set lookup, not three ==
    filled = "value is not None and (value.__class__ in _FILLED or value not in _EMPTIES)"
    lines += ["", "def from_person(person, create=True):", "    body = {}"]
    for i, spec in writing:
        base = spec.name.split(".", 1)[0]
        if spec.custom_key and not whole_custom:  # to_vendor finds no "custom_fields" among the changes
            continue
        lines += [f"    value = person.{base}", f"    if {filled}:"]
        lines += _write_field(spec, i, env, "        ", "None, person", may_be_none=False)
    lines += _drop_read_only(read_only)
    lines.append("    if create:")
    for n, (path, default) in enumerate(defaults.items()):
        env[f"default{n}"] = default
        if "." in path:
            lines.append(
                f"        if _get_path(body, {path!r}, _MISSING) is _MISSING: _set_path(body, {path!r}, default{n})"
            )
        else:  # get_path and set_path of a plain name: a key of the body
            lines.append(f"        if {path!r} not in body: body[{path!r}] = default{n}")
    lines += ["        pass", "    return body"]
    text = "\n".join(lines)
    exec(compile(text, "<mapping writer>", "exec"), env)
    to_vendor, from_person = env["to_vendor"], env["from_person"]
    to_vendor.source = from_person.source = text
    return to_vendor, from_person


# classes whose values never equal None, [] or {}: a Person's value of one of them is always written
_FILLED = frozenset({str, bool, int, float, dt.date, dt.datetime, Ref, Address})


def _write_field(spec: Any, i: int, env: dict[str, Any], indent: str, who: str, may_be_none: bool) -> list[str]:
    """Code writing `value` (a canonical value; None empties the field, when it `may_be_none`) to the
    spec's path in `body`, as to_vendor does it; `who` is the (record, person) a MappingError names."""
    lines: list[str] = []
    if spec.custom_key:
        lines += [f"{indent}value = (value or {{}}).get({spec.custom_key!r})", f"{indent}if value is not None:"]
        indent += "    "
        may_be_none = False
    elif spec.name == "custom_fields":
        lines.append(f"{indent}if value: value = {{k: v for k, v in value.items() if k not in _claimed}}")
    converter = spec.converter
    identity = type(converter).write is Converter.write and "write" not in vars(converter)
    if identity:
        lines.append(
            f"{indent}wire = value if value is not None else clear{i}" if may_be_none else f"{indent}wire = value"
        )
    else:
        env[f"write{i}"] = converter.write
        branches = [] if "write" in vars(converter) else _write_fast_paths(converter, i, env)
        if may_be_none:
            branches = [("value is None", [f"wire = clear{i}"]), *branches]
        body: list[str] = []
        for number, (condition, steps) in enumerate(branches):
            body.append(f"{'if' if number == 0 else 'elif'} {condition}:")
            body += [f"    {step}" for step in steps]
        if branches:
            body += ["else:", f"    wire = write{i}(value)"]
        else:
            body = [f"wire = write{i}(value)"]
        lines += [f"{indent}try:", *(f"{indent}    {line}" for line in body)]
        lines += [
            f"{indent}except (ValueError, TypeError) as exc:",
            f"{indent}    raise _error({who}, {spec.name!r}, {str(spec.write)!r}, exc) from None",
        ]
    if isinstance(spec.write, Mapping):
        lines.append(f"{indent}parts = wire if isinstance(wire, _Mapping) else None")
        for part, path in spec.write.items():
            lines.append(f"{indent}part = parts.get({part!r}) if parts is not None else None")
            lines.append(f"{indent}if part is not None or value is None: {_set(path, 'part')}")
    else:
        lines.append(f"{indent}{_set(spec.write, 'wire')}")
    return lines


def _write_fast_paths(converter: Any, i: int, env: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(condition on `value`, statements setting `wire` to what `converter.write(value)` gives) for the
    values most Persons hold (`value` is not None); everything else goes through the converter. Dates
    before year 1000 go there too: strftime writes their year without its leading zeros."""
    kind, arg = type(converter), converter.arg
    if kind is Boolean:  # as Boolean.write: the value itself, or one of the two words
        words = arg.split("/") if arg else None
        if not arg:
            return [("True", ["wire = value"])]
        if words is not None and len(words) == 2:
            return [("True", [f"wire = {words[0]!r} if value else {words[1]!r}"])]
        return []
    iso_day = "value.__class__ is _date and value.year >= 1000"
    if kind is Date and arg in (None, "%Y-%m-%d"):
        return [(iso_day, ["wire = value.isoformat()"])]
    if kind is Date and converter._digits:  # DD.MM.YYYY and the like: the parts in an f-string
        parts = {"%Y": "{value.year}", "%m": "{value.month:02d}", "%d": "{value.day:02d}"}
        text, rest = "", arg
        while rest:
            step = 2 if rest[:2] in parts else 1
            text += parts.get(rest[:step], rest[:step].replace("{", "{{").replace("}", "}}"))
            rest = rest[step:]
        return [(iso_day, [f"wire = f{text!r}"])]
    if kind is DateFromDateTime:  # a date: midnight UTC
        return [(iso_day, ["wire = value.isoformat() + 'T00:00:00Z'"])]
    as_int = (arg or "").startswith("int")  # `id:int`, `ref:int`: digits go as a number (_Ids.write_id)
    ident = "wire = int({0}) if {0}.isdigit() else {0}" if as_int else "wire = {0}"
    if kind is Identifier:
        return [("value.__class__ is str", [ident.format("value")])]
    if kind is Reference:  # a Ref with its id (prepare resolves names to ids), or a bare id
        return [
            ("value.__class__ is _Ref and (k := value.id).__class__ is str", [ident.format("k")]),
            ("value.__class__ is str", [ident.format("value")]),
        ]
    if kind is Enum:  # a Ref whose id is a known code, or a bare code
        env[f"codes{i}"] = converter.values
        return [
            (f"value.__class__ is _Ref and (k := value.id).__class__ is str and k in codes{i}", ["wire = k"]),
            ("value.__class__ is str", ["wire = value"]),
        ]
    if kind is ReferenceName:  # no value map: the name as it is
        env[f"names{i}"] = converter.values
        name = "((n := value.name) is None or n.__class__ is str)"
        return [(f"value.__class__ is _Ref and not names{i} and {name}", ["wire = n"])]
    if kind is TextList:
        return [("value.__class__ is list", ["wire = value[:]"])]
    if kind is Object:
        return [("value.__class__ is dict", ["wire = value.copy()"])]
    if kind is AddressText:
        return [("value.__class__ is _Address", ["wire = value.as_text()"])]
    if kind is AddressParts:  # its parts that are not None, as AddressParts.write (no deep copy of text)
        steps = ["a = value.__dict__", "wire = {}"]
        steps += [f"if (x := a[{part!r}]) is not None: wire[{part!r}] = x" for part in _ADDRESS_PARTS]
        return [("value.__class__ is _Address and " + " and ".join(_text_or_none(p) for p in _ADDRESS_PARTS), steps)]
    return []


_ADDRESS_PARTS = [f.name for f in dataclasses.fields(Address) if f.name != "formatted"]


def _text_or_none(part: str) -> str:
    return f"((x := value.{part}) is None or x.__class__ is str)"


def _drop_read_only(read_only: list[str]) -> list[str]:
    """Code removing the read-only paths from `body` (walking only through dicts, as get_path does)."""
    lines = []
    for path in read_only:
        *parents, last = path.split(".")
        node = "body"
        for step in parents:
            lines.append(f"    node = {node}.get({step!r}) if isinstance({node}, dict) else None")
            node = "node"
        lines.append(
            f"    if isinstance(node, dict): node.pop({last!r}, None)" if parents else f"    body.pop({last!r}, None)"
        )
    return lines


def _set(path: str, value: str) -> str:
    """Code setting `path` in `body` to `value`, making the objects on the way (as set_path does)."""
    *parents, last = path.split(".")
    node = "body" + "".join(f".setdefault({step!r}, {{}})" for step in parents)
    return f"{node}[{last!r}] = {value}"


def _write_error(record: str | None, person: Person | None, name: str, path: str, exc: Exception) -> MappingError:
    who = person.label if person is not None else record
    return MappingError(f"{who or 'person'}: {name}: {exc}", field=name, path=path, record=who)


__all__ = ["MISSING", "BodyMaker", "Reader", "Writer", "compile_reader", "compile_writers"]
