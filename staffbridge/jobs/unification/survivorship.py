"""Survivorship: which system's value a unified person keeps, field by field, and what counts as a conflict.

Rules are data (a TOML file, a dict, or the `authority=` argument of `unify`):

    [survivorship]
    default = "newest"                        # the rule of every field not named below
    email = { authority = "moco" }            # MOCO's value wins when MOCO has one ...
    work_phone = { authority = ["whosoff", "moco"], otherwise = "first" }   # ... else the `otherwise` rule
    "custom_fields.Personalnummer" = "first"

    [authority]                               # the same, said per system: the fields it owns
    whosoff = ["department", "manager_id"]

    [conflicts]
    ignore = ["role"]                         # differences not reported (values still merge by the rules)

    [match]
    keys = ["email", "employee_number"]       # who is the same person (see staffbridge.matching)

The rules, for a field that several systems hold a value for:

- `"newest"`: the value of the record with the latest `updated_at`; a record without one counts as the
  oldest; a tie goes to the system named first.
- `"first"`: the first non-empty value, in the order the systems were given.
- `{ authority = SYSTEM or [SYSTEM, ...] }`: the first of these systems that has a value; when none
  has, the `otherwise` rule decides (default "newest").

Empty values ("", None, [], {}) never win: an empty field means "not known here", not "cleared".
`created_at` and `updated_at` are not chosen: a unified person was created when its earliest record
was and updated when its latest was.

A field named twice with different authorities (in `[survivorship]` and `[authority]`, twice in
`[authority]`, or in the file and the `authority=` argument) is a ConfigError naming both systems, as
is an authority that names a system not being unified: a guess there would silently pick a winner.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.mapping.engine import deep_merge, read_toml
from staffbridge.mapping.locate import shipped_text
from staffbridge.model.compare import is_empty, same_value
from staffbridge.model.errors import ConfigError, MappingError
from staffbridge.model.person import CANONICAL_FIELDS, Ref

__all__ = ["MERGED_FIELDS", "Candidate", "Rule", "Rules", "load_rules", "values_agree"]

# Chosen by the rules; id/system belong to each record, the timestamps are derived (see above).
MERGED_FIELDS = tuple(n for n in CANONICAL_FIELDS if n not in ("id", "system", "created_at", "updated_at"))
RULE_NAMES = ("newest", "first")
_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Candidate:
    """One system's value for one field of one person."""

    system: str
    value: Any
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Rule:
    kind: str  # "newest" | "first" | "authority"
    systems: tuple[str, ...] = ()  # authority: in order of preference
    otherwise: Rule | None = None  # authority: when none of `systems` has a value
    origin: str | None = field(default=None, compare=False)  # where it was said, when not in the rules file

    def describe(self) -> str:
        if self.kind != "authority":
            return self.kind
        then = self.otherwise.describe() if self.otherwise else "newest"
        return f"authority {'>'.join(self.systems)}, else {then}"

    def pick(self, candidates: Sequence[Candidate]) -> Candidate | None:
        """The surviving candidate (candidates are non-empty values, in system order)."""
        if not candidates:
            return None
        if self.kind == "first":
            return candidates[0]
        if self.kind == "newest":
            # max() keeps the first of equals, so a tie goes to the system named first
            return max(candidates, key=lambda c: _aware(c.updated_at))
        for system in self.systems:
            for candidate in candidates:
                if candidate.system == system:
                    return candidate
        return (self.otherwise or NEWEST).pick(candidates)


NEWEST = Rule("newest")


@dataclass
class Rules:
    """Per-field survivorship rules, the fields whose differences are not reported, and match keys."""

    default: Rule = NEWEST
    fields: dict[str, Rule] = field(default_factory=dict)
    ignore: frozenset[str] = frozenset()
    match: tuple[Any, ...] | None = None
    source: str = "rules"  # where they came from, for messages

    def rule_for(self, name: str) -> Rule:
        """The rule of `name` ("email", "custom_fields.X"); a custom field falls back to custom_fields'."""
        if name in self.fields:
            return self.fields[name]
        base = name.partition(".")[0]
        return self.fields.get(base, self.default)

    def reports(self, name: str) -> bool:
        return name not in self.ignore and name.partition(".")[0] not in self.ignore

    def check_systems(self, systems: Iterable[str]) -> None:
        """ConfigError when an authority names a system that is not being unified."""
        known = list(systems)
        named = [("default", self.default), *self.fields.items()]
        for name, rule in named:
            for system in rule.systems:
                if system not in known:
                    where = rule.origin or self.source
                    raise ConfigError(
                        f"{where}: authority for {name} is {system!r}, which is not one of "
                        f"the systems being unified ({', '.join(known)})",
                        setting=name,
                        source=where,
                    )

    def describe(self) -> dict[str, str]:
        return {"default": self.default.describe(), **{k: v.describe() for k, v in sorted(self.fields.items())}}


# ---------------------------------------------------------------------------------------------- loading


def load_rules(
    source: str | Path | Mapping[str, Any] | Rules | None = None, authority: str | Mapping[str, str] | None = None
) -> Rules:
    """Rules from the shipped defaults (mappings/unify.toml), a user file or dict laid over them, and
    the `authority` argument (a system: the default authority; or {field: system})."""
    if isinstance(source, Rules):
        rules = source
    else:
        shipped = _shipped()
        where = "mappings/unify.toml"
        if source is not None:
            try:
                overlay = read_toml(source) if isinstance(source, (str, Path)) else dict(source)
            except MappingError as exc:
                raise ConfigError(f"rules: {exc}", setting="rules", source=str(source)) from None
            shipped = deep_merge(shipped, overlay)
            where = str(source) if isinstance(source, (str, Path)) else "rules"
        rules = parse_rules(shipped, where)
    return with_authority(rules, authority) if authority else rules


def _shipped() -> dict[str, Any]:
    return tomllib.loads(shipped_text("unify.toml"))


def parse_rules(data: Mapping[str, Any], where: str = "rules") -> Rules:
    unknown = sorted(set(data) - {"survivorship", "authority", "conflicts", "match"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown table {unknown[0]!r}; known: survivorship, authority, conflicts, match",
            setting=unknown[0],
            source=where,
        )
    table = _table(data, "survivorship", where)
    default = _rule(table.get("default", "newest"), "default", where)
    fields: dict[str, Rule] = {}
    for name, spec in table.items():
        if name != "default":
            fields[_field_name(name, where)] = _rule(spec, name, where)
    for system, names in _table(data, "authority", where).items():
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(
                f"{where}: [authority] {system} must be a list of field names", setting=system, source=where
            )
        for name in names:
            name = _field_name(name, where)
            claimed = fields.get(name)
            if claimed is not None and claimed.kind == "authority" and claimed.systems[:1] != (system,):
                raise ConfigError(
                    f"{where}: conflicting authorities for {name}: {claimed.systems[0]!r} and {system!r}; name one",
                    setting=name,
                    source=where,
                )
            if claimed is not None and claimed.kind != "authority":
                raise ConfigError(
                    f"{where}: {name} is both {claimed.kind!r} in [survivorship] and owned by "
                    f"{system!r} in [authority]; name one",
                    setting=name,
                    source=where,
                )
            fields[name] = Rule("authority", (system,), NEWEST)
    conflicts = _table(data, "conflicts", where)
    ignore = conflicts.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(n, str) for n in ignore):
        raise ConfigError(f"{where}: [conflicts] ignore must be a list of field names", setting="ignore", source=where)
    match = _table(data, "match", where).get("keys")
    if match is not None and not isinstance(match, (list, str)):
        raise ConfigError(f"{where}: [match] keys must be a list of keys", setting="match", source=where)
    return Rules(
        default,
        fields,
        frozenset(_field_name(n, where) for n in ignore),
        tuple([match] if isinstance(match, str) else match) if match else None,
        where,
    )


ARGUMENT = "the authority argument"  # where an authority given to unify() (not in a rules file) was said


def with_authority(rules: Rules, authority: str | Mapping[str, str]) -> Rules:
    """`rules` with the `authority` argument laid over: a system (the default authority), or {field:
    system} (with "default" for the default one). A different authority for the same field, or a
    different default authority, is a ConfigError naming both."""
    if isinstance(authority, str):
        current = rules.default
        if current.kind == "authority" and current.systems[:1] != (authority,):
            raise ConfigError(
                f"conflicting authorities: {rules.source} makes {current.systems[0]!r} the default "
                f"authority, the authority argument {authority!r}; name one",
                setting="authority",
                source=rules.source,
            )
        return Rules(
            Rule("authority", (authority,), NEWEST if current.kind == "authority" else current, ARGUMENT),
            rules.fields,
            rules.ignore,
            rules.match,
            rules.source,
        )
    if not isinstance(authority, Mapping):
        raise ConfigError("authority: give a system name or {field: system}", setting="authority")
    if "default" in authority:  # {"default": "moco", "email": "hr"}: both kinds at once
        rules = with_authority(rules, authority["default"])
        authority = {k: v for k, v in authority.items() if k != "default"}
    fields = dict(rules.fields)
    for name, system in authority.items():
        name = _field_name(name, "authority")
        if not isinstance(system, str) or not system:
            raise ConfigError(f"authority for {name}: give a system name", setting=name)
        claimed = fields.get(name)
        if claimed is not None and claimed.kind == "authority" and claimed.systems[:1] != (system,):
            raise ConfigError(
                f"conflicting authorities for {name}: {claimed.systems[0]!r} in {rules.source} and "
                f"{system!r} in the authority argument; name one",
                setting=name,
                source=rules.source,
            )
        fields[name] = Rule("authority", (system,), NEWEST, ARGUMENT)
    return Rules(rules.default, fields, rules.ignore, rules.match, rules.source)


def _table(data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: [{name}] must be a table", setting=name, source=where)
    return table


def _field_name(name: str, where: str) -> str:
    base, _, sub = name.partition(".")
    if base not in MERGED_FIELDS or (sub and base != "custom_fields"):
        raise ConfigError(
            f"{where}: {name!r} is not a field a unified person merges (one of: "
            f"{', '.join(MERGED_FIELDS)}, or custom_fields.<name>)",
            setting=name,
            source=where,
        )
    return name


def _rule(spec: Any, name: str, where: str) -> Rule:
    if isinstance(spec, str):
        if spec in RULE_NAMES:
            return Rule(spec)
        raise ConfigError(
            f'{where}: {name} = {spec!r} is not a rule (newest, first, or {{ authority = "SYSTEM" }})',
            setting=name,
            source=where,
        )
    if isinstance(spec, Mapping) and "authority" in spec and set(spec) <= {"authority", "otherwise"}:
        systems = spec["authority"]
        systems = [systems] if isinstance(systems, str) else systems
        if not isinstance(systems, list) or not systems or not all(isinstance(s, str) and s for s in systems):
            raise ConfigError(
                f"{where}: {name}: authority must name a system or a list of them", setting=name, source=where
            )
        otherwise = _rule(spec.get("otherwise", "newest"), name, where)
        if otherwise.kind == "authority":
            raise ConfigError(f"{where}: {name}: otherwise must be newest or first", setting=name, source=where)
        return Rule("authority", tuple(systems), otherwise)
    raise ConfigError(
        f'{where}: {name}: give "newest", "first" or {{ authority = "SYSTEM" }}', setting=name, source=where
    )


def _aware(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        return _OLDEST
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------- comparing


def values_agree(name: str, values: Iterable[Any]) -> bool:
    """Whether several systems' values of field `name` say the same thing (`compare.same_value`), so
    that their differences are form, not content. Each Ref is compared as another system reads it,
    by name: a Ref without one carries only an id of its own system, which says nothing about
    another's, so it never disagrees."""
    held = [v.portable() if isinstance(v, Ref) else v for v in values]
    held = [v for v in held if not is_empty(v)]
    return all(same_value(name, a, b) for i, a in enumerate(held) for b in held[i + 1 :])
