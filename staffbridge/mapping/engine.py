"""Mappings are data: `mappings/<vendor>.toml` says where each canonical field lives in a vendor record.

One file drives both directions. Per canonical field:

    first_name = "firstname"                                        # same path both ways
    external   = { read = "extern", write = "external", converter = "bool" }
    birthday   = { read = "birthday", write = "bday", converter = "date:%Y-%m-%d" }
    department = { read = "unit", write = "unit_id", converter = "ref:int" }
    created_at = { read = "created_at", write = false, converter = "datetime" }   # read-only
    language   = { read = false, write = "language" }                             # write-only
    department = { read = { id = "department_id", name = "department_name" }, ... }  # gathered
    address    = { read = "address", write = { street = "address.street", ... } }  # spread

Paths are dotted (`general.firstName`). `values` is a value map (vendor value -> canonical name),
`clear` what to send when a field is emptied. `custom_fields.<Name>` maps one custom field on its
own. Other tables: `[record] id = "id"`, `secret = [...]` (paths dropped from `raw`), `read_only =
[...]` (never sent), `[create] required = [...]`, `[defaults]` (vendor path -> value sent on create
when nothing maps there). A user's own file is laid over the shipped one table by table.
"""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.mapping.converters import Converter, Text, get_converter
from staffbridge.mapping.locate import mapping_text
from staffbridge.model.errors import MappingError
from staffbridge.model.person import CANONICAL_FIELDS, Person

_MISSING = object()
Path_ = str | dict[str, str] | None


def get_path(record: Any, path: str, default: Any = _MISSING) -> Any:
    """`get_path({"a": {"b": 1}}, "a.b") == 1`; a missing step gives `default`."""
    node = record
    for step in path.split("."):
        if isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return default
    return node


def path_getter(path: str) -> Callable[[Any], Any]:
    """A compiled `get_path` for one path (reading is the hot loop of every list)."""
    steps = path.split(".")
    if len(steps) == 1:
        key = steps[0]
        return lambda record: record.get(key, _MISSING)

    def get(record: Any) -> Any:
        node = record
        for step in steps:
            if type(node) is not dict or step not in node:
                return _MISSING
            node = node[step]
        return node

    return get


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Sets `a.b` in a nested dict, creating the objects on the way."""
    *parents, last = path.split(".")
    node = record
    for step in parents:
        node = node.setdefault(step, {})
    node[last] = value


def delete_path(record: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node = get_path(record, ".".join(parents)) if parents else record
    if isinstance(node, dict):
        node.pop(last, None)


def deep_merge(base: dict[str, Any], overlay: MappingABC[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, MappingABC) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@dataclass
class FieldSpec:
    name: str  # a canonical field, or "custom_fields.<Name>"
    read: Path_
    write: Path_
    converter: Converter
    clear: Any = None

    @property
    def custom_key(self) -> str | None:
        return self.name.split(".", 1)[1] if self.name.startswith("custom_fields.") else None


@dataclass
class Mapping:
    vendor: str
    fields: list[FieldSpec]
    id_path: str = "id"
    secret: list[str] = field(default_factory=list)
    read_only: list[str] = field(default_factory=list)
    required: list[str] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._readers = [self._reader(spec) for spec in self.fields if spec.read]
        self._read_all = _compile_readers(self._readers)
        self._id = path_getter(self.id_path)

    @staticmethod
    def _reader(spec: FieldSpec) -> tuple[str, str | None, str | None, Callable[[Any], Any], Callable[[Any], Any], str]:
        """(field, custom key, top-level key or None, get raw value, convert, where) for one field."""
        if isinstance(spec.read, MappingABC):
            parts = [(part, path_getter(path)) for part, path in spec.read.items()]

            def gather(record: Any) -> Any:
                values = {part: get(record) for part, get in parts}
                return {k: (None if v is _MISSING else v) for k, v in values.items()}

            return spec.name, spec.custom_key, None, gather, spec.converter.read, ", ".join(spec.read.values())
        path = spec.read or ""  # fields without a read path have no reader (see __post_init__)
        key = path if "." not in path else None
        return spec.name, spec.custom_key, key, path_getter(path), spec.converter.read, path

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(cls, vendor: str, overlay: str | Path | MappingABC[str, Any] | None = None) -> Mapping:
        """The shipped mapping for `vendor`, with a user's file (or dict) laid over it."""
        shipped = cls.from_dict(vendor, _parse(mapping_text(vendor), f"mappings/{vendor}.toml"))
        return shipped.overlaid(overlay) if overlay is not None else shipped

    def overlaid(self, overlay: str | Path | MappingABC[str, Any]) -> Mapping:
        """A new Mapping: this one with a user's mapping file (or dict) laid over it, table by table.

        The one overlay loader: `load` lays the user's file over the shipped mapping, a migration lays
        its `mapping=` over the target adapter's *live* mapping. That is why the overlay goes over
        this object's field specs rather than a rebuild from its source: adapters tune theirs after
        loading (WhosOff swaps in its date converter), and a rebuild would lose that. A field given
        only `values` keeps its converter and gains the value map; `field = false` drops a field;
        anything else is the field's table merged over the shipped one. Raises MappingError for an
        overlay that is not a valid mapping."""
        data = dict(overlay) if isinstance(overlay, MappingABC) else read_toml(overlay)
        fields = data.get("fields") or {}
        if not isinstance(fields, MappingABC):
            raise MappingError(f"{self.vendor} mapping overlay: [fields] must be a table", field="fields")
        # value-map keys are vendor ids: TOML gives text, Python may give ints
        fields = {name: _text_keys(spec) for name, spec in fields.items()}
        data = {**data, "fields": fields}
        parsed = Mapping.from_dict(self.vendor, deep_merge(self.source, data))  # checks the overlay
        merged = {spec.name: spec for spec in parsed.fields}
        specs = [copy.copy(s) for s in self.fields]
        for name, spec in fields.items():
            old = next((s for s in specs if s.name == name), None)
            if spec is False:
                specs = [s for s in specs if s.name != name]
            elif old is not None and isinstance(spec, MappingABC) and set(spec) == {"values"}:
                old.converter = copy.copy(old.converter)  # a value map only: keep this mapping's converter
                old.converter.values = {**old.converter.values, **spec["values"]}
            elif old is not None:
                specs[specs.index(old)] = merged[name]
            else:
                specs.append(merged[name])
        changed: dict[str, Any] = {
            "fields": specs,
            "defaults": {**self.defaults, **(data.get("defaults") or {})},
            "source": parsed.source,
        }
        if "create" in data:
            changed["required"] = list(parsed.required)
        if "record" in data:
            changed.update(id_path=parsed.id_path, secret=parsed.secret, read_only=parsed.read_only)
        return dataclasses.replace(self, **changed)  # a new Mapping: its readers are compiled anew

    @classmethod
    def from_dict(cls, vendor: str, data: MappingABC[str, Any]) -> Mapping:
        specs = []
        for name, spec in (data.get("fields") or {}).items():
            if spec is False:  # an overlay removes a shipped field this way
                continue
            base = name.split(".", 1)[0]
            if base not in CANONICAL_FIELDS:
                raise MappingError(f"{vendor} mapping: {name!r} is not a canonical Person field", field=name)
            if isinstance(spec, str):
                spec = {"read": spec, "write": spec}
            if not isinstance(spec, MappingABC):
                raise MappingError(f"{vendor} mapping: field {name!r} must be a path or a table", field=name)
            unknown = set(spec) - {"read", "write", "path", "converter", "values", "clear"}
            if unknown:
                raise MappingError(f"{vendor} mapping: field {name!r} has unknown keys {sorted(unknown)}", field=name)
            path = spec.get("path")
            read, write = spec.get("read", path), spec.get("write", path)
            specs.append(
                FieldSpec(
                    name,
                    read or None,
                    write or None,
                    get_converter(spec.get("converter"), spec.get("values")),
                    spec.get("clear"),
                )
            )
        record = data.get("record") or {}
        return cls(
            vendor,
            specs,
            id_path=record.get("id", "id"),
            secret=list(record.get("secret", [])),
            read_only=list(record.get("read_only", [])),
            required=list((data.get("create") or {}).get("required", [])),
            defaults=dict(data.get("defaults") or {}),
            source=dict(data),
        )

    def spec(self, name: str) -> FieldSpec | None:
        return next((s for s in self.fields if s.name == name), None)

    @property
    def readable(self) -> list[str]:
        return [s.name for s in self.fields if s.read]

    @property
    def writable(self) -> list[str]:
        return [s.name for s in self.fields if s.write]

    # ----------------------------------------------------------------- vendor -> Person
    def to_person(self, record: Any, system: str | None = None) -> Person:
        """Everything that can be read; what cannot is noted in `person.problems`, never raised."""
        if type(record) is not dict:
            if not isinstance(record, MappingABC):
                return Person(
                    system=system,
                    raw={"value": record},
                    problems=[f"record: expected an object, got {type(record).__name__}"],
                )
            record = dict(record)
        values, custom, problems = self._read_all(record)
        if custom:
            values["custom_fields"] = {**(values.get("custom_fields") or {}), **custom}
        ident = self._id(record)
        return Person(
            id=None if ident is _MISSING or ident is None else str(ident),
            system=system,
            raw=self._without_secrets(record),
            problems=problems,
            **values,
        )

    def _without_secrets(self, record: dict[str, Any]) -> dict[str, Any]:
        # the record is ours (parsed from the vendor's JSON): keep it as it is unless it holds a secret
        if not self.secret or not any(get_path(record, p) is not _MISSING for p in self.secret):
            return record
        # Copy only the objects on the way to each secret, not the whole record: a deep copy of
        # every record (field-service records all hold access.token) was half the cost of a list.
        # The caller's record is left untouched; untouched branches are shared, as without secrets.
        clean = dict(record)
        for path in self.secret:
            *parents, last = path.split(".")
            node = clean
            for step in parents:
                child = node.get(step)
                if not isinstance(child, dict):
                    break
                node[step] = node = dict(child)
            else:
                node.pop(last, None)
        return clean

    # ----------------------------------------------------------------- Person -> vendor
    def from_person(self, person: Person, create: bool = True) -> dict[str, Any]:
        """The vendor body for `person`: every mapped field that has a value (plus create defaults)."""
        values = {spec.name: self._canonical_value(person, spec) for spec in self.fields if spec.write}
        body = self.to_vendor({k: v for k, v in values.items() if v not in (None, [], {})}, record=person.label)
        if create:
            for path, default in self.defaults.items():
                if get_path(body, path) is _MISSING:
                    set_path(body, path, default)
        return body

    def to_vendor(self, changes: MappingABC[str, Any], record: str | None = None) -> dict[str, Any]:
        """The vendor body for canonical `changes` (field -> value; None empties the field)."""
        body: dict[str, Any] = {}
        claimed = {s.custom_key for s in self.fields if s.custom_key and s.write}
        for spec in self.fields:
            if not spec.write or spec.name.split(".", 1)[0] not in changes:
                continue
            value = changes[spec.name.split(".", 1)[0]]
            if spec.custom_key:
                value = (value or {}).get(spec.custom_key)
                if value is None:
                    continue
            elif spec.name == "custom_fields" and value:
                value = {k: v for k, v in value.items() if k not in claimed}
            try:
                wire = spec.converter.write(value) if value is not None else spec.clear
            except (ValueError, TypeError) as exc:
                raise MappingError(
                    f"{record or 'person'}: {spec.name}: {exc}", field=spec.name, path=str(spec.write), record=record
                ) from None
            if isinstance(spec.write, MappingABC):
                for part, path in spec.write.items():
                    part_value = wire.get(part) if isinstance(wire, MappingABC) else None
                    if part_value is not None or value is None:
                        set_path(body, path, part_value)
            else:
                set_path(body, spec.write, wire)
        for path in self.read_only:
            delete_path(body, path)
        return body

    @staticmethod
    def _canonical_value(person: Person, spec: FieldSpec) -> Any:
        return getattr(person, spec.name.split(".", 1)[0])


def _compile_readers(readers: list[tuple[Any, ...]]) -> Callable[[dict[str, Any]], tuple[dict, dict, list]]:
    """One Python function reading every field of a record: (values, custom fields, problems).

    Reading is the hot loop of every list (issue: within 1.5x of a bare requests loop), and a
    generated straight-line function costs a third less than looping over field specs. Plain text
    fields, most of any record, skip the converter call when the value already is a string.
    """
    env: dict[str, Any] = {"_MISSING": _MISSING, "Text": Text}
    lines = ["def read_all(record):", "    values = {}", "    custom = {}", "    problems = []"]
    for i, (name, custom_key, key, get, convert, where) in enumerate(readers):
        env[f"get{i}"], env[f"convert{i}"] = get, convert
        store = f"values[{name!r}] = v" if custom_key is None else f"if v is not None: custom[{custom_key!r}] = v"
        lines.append(f"    v = record.get({key!r}, _MISSING)" if key is not None else f"    v = get{i}(record)")
        lines.append("    if v is not _MISSING:")
        indent = "        "
        if type(getattr(convert, "__self__", None)) is Text:
            lines += [
                f"{indent}if type(v) is str:",
                f"{indent}    v = v or None",
                f"{indent}    {store}",
                f"{indent}else:",
            ]
            indent += "    "
        lines += [
            f"{indent}try:",
            f"{indent}    v = convert{i}(v)",
            f"{indent}except (ValueError, TypeError, AttributeError) as exc:",
            f"{indent}    problems.append({where + ': '!r} + str(exc))",
            f"{indent}else:",
            f"{indent}    {store}",
        ]
    lines.append("    return values, custom, problems")
    exec("\n".join(lines), env)
    return env["read_all"]


def _text_keys(spec: Any) -> Any:
    if isinstance(spec, MappingABC) and isinstance(spec.get("values"), MappingABC):
        return {**spec, "values": {str(k): v for k, v in spec["values"].items()}}
    return spec


def read_toml(path: str | Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc.strerror}") from None
    return _parse(text, str(path))


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{where}: not valid TOML: {exc}") from None
