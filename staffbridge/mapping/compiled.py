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
from collections.abc import Callable, Mapping
from typing import Any

from staffbridge.mapping.converters import Boolean, Enum, Identifier, Text, shared_ref
from staffbridge.model.person import Person

MISSING = object()  # a path the record does not have: the field keeps its default
_EMPTY: dict[str, Any] = {}  # what a path step that is not an object reads as (never written to)
_ERRORS = (ValueError, TypeError, AttributeError)

Reader = Callable[[dict[str, Any], "str | None"], Person]


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


def compile_reader(
    specs: list[Any], id_path: str, secret: list[str], strip: Callable[[dict[str, Any]], dict[str, Any]]
) -> Reader:
    """The function `(record, system) -> Person` for field specs that have a read path. `strip(record)`
    is called for a record holding one of the `secret` paths (a copy without them goes to `raw`)."""
    env: dict[str, Any] = {"_MISSING": MISSING, "_EMPTY": _EMPTY, "_new": object.__new__, "Person": Person}
    env["_ERRORS"], env["_strip"] = _ERRORS, strip
    lines = ["def to_person(record, system):", "    problems = []", "    custom = {}"]
    paths = _Paths(lines)
    person_fields = {f.name: f for f in dataclasses.fields(Person)}
    assigned: set[str] = set()
    for i, spec in enumerate(specs):
        if not spec.read:
            continue
        convert = spec.converter.read
        env[f"convert{i}"] = convert
        if isinstance(spec.read, Mapping):  # gathered from several paths: missing parts are None
            parts = ", ".join(f"{part!r}: {paths.get(path, 'None')}" for part, path in spec.read.items())
            lines.append(f"    v = {{{parts}}}")
            where = ", ".join(spec.read.values())
        else:
            lines.append(f"    v = {paths.get(spec.read)}")
            where = spec.read
        custom_key = spec.custom_key
        target = f"custom[{custom_key!r}] = v" if custom_key else f"f_{spec.name} = v"
        store = f"if v is not None: {target}" if custom_key else target
        if not custom_key:
            assigned.add(spec.name)
        kind = type(convert.__self__) if hasattr(convert, "__self__") else None
        lines.append("    if v is not _MISSING:")
        indent = "        "
        if kind is Text:  # most fields of any record: no call for a string
            lines += [
                f"{indent}if v.__class__ is str:",
                f"{indent}    v = v or None",
                f"{indent}    {store}",
                f"{indent}else:",
            ]
            indent += "    "
        elif kind is Boolean:  # true/false, or one of the words for them as they are
            env[f"words{i}"] = {**dict.fromkeys(Boolean.TRUE, True), **dict.fromkeys(Boolean.FALSE, False)}
            lines += [f"{indent}if v is True or v is False:", f"{indent}    {store}"]
            lines += [f"{indent}elif v.__class__ is str and v in words{i}:", f"{indent}    v = words{i}[v]"]
            lines += [f"{indent}    {store}", f"{indent}else:"]
            indent += "    "
        elif kind is Enum:  # a known code: its (shared) Ref
            env[f"codes{i}"] = {code: shared_ref(code, name) for code, name in spec.converter.values.items()}
            lines += [f"{indent}if v.__class__ is str and v in codes{i}:", f"{indent}    v = codes{i}[v]"]
            lines += [f"{indent}    {store}", f"{indent}else:"]
            indent += "    "
        elif kind is Identifier:  # an id that is already a string is itself
            none = " and v != '0'" if (spec.converter.arg or "").endswith("0") else ""
            lines += [f"{indent}if v.__class__ is str and v{none}:", f"{indent}    {store}", f"{indent}else:"]
            indent += "    "
        lines += [
            f"{indent}try:",
            f"{indent}    v = convert{i}(v)",
            f"{indent}except _ERRORS as exc:",
            f"{indent}    problems.append({where + ': '!r} + str(exc))",
            f"{indent}else:",
            f"{indent}    {store}",
        ]
    # locals start at the field's default, set before the reading code (inserted after the header)
    defaults = [f"    f_{name} = {_default(person_fields[name])}" for name in sorted(assigned)]
    lines[3:3] = defaults
    lines.append(f"    ident = {paths.get(id_path)}")
    lines.append("    raw = record")
    if secret:
        present = " or ".join(f"{paths.get(path)} is not _MISSING" for path in secret)
        lines.append(f"    if {present}: raw = _strip(record)")
    if any(spec.custom_key and spec.read for spec in specs):
        custom_fields = "f_custom_fields" if "custom_fields" in assigned else "None"
        lines.append(f"    if custom: f_custom_fields = {{**({custom_fields} or {{}}), **custom}}")
        assigned.add("custom_fields")
    values = []
    for name, f in person_fields.items():
        if name == "id":
            value = "(ident if ident.__class__ is str else None if ident is _MISSING or ident is None else str(ident))"
        elif name == "system":
            value = "system"
        elif name == "raw":
            value = "raw"
        elif name == "problems":
            value = "problems"
        elif name in assigned:
            value = f"f_{name}"
        else:
            value = _default(f)
        values.append(f"{name!r}: {value}")
    lines += ["    person = _new(Person)", f"    person.__dict__ = {{{', '.join(values)}}}", "    return person"]
    text = "\n".join(lines)
    exec(compile(text, "<mapping reader>", "exec"), env)
    reader: Reader = env["to_person"]
    reader.source = text  # type: ignore[attr-defined]
    return reader


def _default(f: dataclasses.Field[Any]) -> str:
    """The field's default as code: a fresh list or dict for every Person, never a shared one."""
    if f.default_factory is not dataclasses.MISSING:
        made = f.default_factory()
        if made == [] or made == {}:
            return repr(made)
        raise TypeError(f"Person.{f.name}: a default factory the compiled reader cannot write")
    if f.default is dataclasses.MISSING or (f.default is not None and not isinstance(f.default, (bool, int, str))):
        raise TypeError(f"Person.{f.name}: a default the compiled reader cannot write")
    return repr(f.default)


__all__ = ["MISSING", "Reader", "compile_reader"]
