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
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.mapping.compiled import BodyMaker, Reader, Writer, compile_reader, compile_writers
from staffbridge.mapping.converters import Converter, get_converter
from staffbridge.mapping.locate import mapping_text
from staffbridge.model.errors import MappingError
from staffbridge.model.person import CANONICAL_FIELDS

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
    # vendor -> Person: `mapping.to_person(record, system=None)`, everything that can be read; what
    # cannot is noted in `person.problems`, never raised. The function generated from the field specs
    # (mapping.compiled) itself, not a method calling it: one call less per record read.
    to_person: Reader = field(init=False, repr=False, compare=False)
    # Person -> vendor, generated the same way: `mapping.from_person(person, create=True)`, the body
    # for every mapped field that has a value (plus the create defaults); `mapping.to_vendor(changes,
    # record=None)`, the body for canonical changes (field -> value; None empties the field), a value
    # a converter cannot write raising MappingError naming the record and the field.
    from_person: BodyMaker = field(init=False, repr=False, compare=False)
    to_vendor: Writer = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # one generated function per mapping: a new Mapping (overlaid, replaced) compiles its own
        self.to_person = compile_reader(self.fields, self.id_path, self.secret)
        self.to_vendor, self.from_person = compile_writers(
            self.fields, self.read_only, self.defaults, get_path, set_path
        )

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
